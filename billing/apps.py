from django.apps import AppConfig


class BillingConfig(AppConfig):
    """One app, label `billing`, in parts: invoicing at the base, collections and reconciliation on it,
    finance on top (docs/architecture.md). Its models are defined in the parts and gathered in
    billing.models."""

    name = "billing"
    # Seeded by `manage.py seed_demo`: invoices, payments, collections, payables and the demo payment provider.
    demo_module = "billing.demo"
    # Rows for `manage.py seed_scale` (bench data): invoices, lines, payments and allocations.
    scale_module = "billing.invoicing.scale"

    def ready(self) -> None:
        # Wiring across the parts that the layers do not allow as imports: invoicing calls back into
        # reconciliation when a draft with billed usage is deleted.
        from billing.invoicing.services import invoice_draft_releaser_register
        from billing.reconciliation.services import reconciliation_usage_release

        invoice_draft_releaser_register(reconciliation_usage_release)

        # ... and into collections when a voided payment or a refund reopens a customer's invoices.
        from billing.collections.services import collections_customer_recheck
        from billing.invoicing.services import invoices_reopened_listener_register

        invoices_reopened_listener_register(collections_customer_recheck)

        # ... and into online payments when an email carries a pay link (does the partner take cards?).
        from billing.invoicing.paylink import pay_link_provider_check_register
        from billing.payments_online.selectors import online_payments_enabled

        pay_link_provider_check_register(lambda partner_id: online_payments_enabled(partner_id=partner_id))

        # ... and into online payments for autopay's standing on the staff invoice and customer pages.
        from billing.invoicing.autopay_status import AutopayReaders, autopay_readers_register
        from billing.payments_online.selectors import autopay_staff_customer, autopay_staff_invoice

        autopay_readers_register(AutopayReaders(customer=autopay_staff_customer, invoice=autopay_staff_invoice))

        # ... and into collections whenever a customer's open balances change, so its run looks at the
        # customer again (the run otherwise skips customers until their next step comes).
        from billing.collections.services import collections_customers_changed
        from billing.invoicing.services import customer_balances_listener_register

        customer_balances_listener_register(collections_customers_changed)

        # ... and into Peppol sending when an invoice or a credit note is issued (queued for the access point).
        from billing.invoicing.services import document_issued_listener_register
        from billing.peppol.services import document_issued

        document_issued_listener_register(document_issued)

        # ... and into Peppol sending for a document's submission on the staff invoice and credit note pages.
        from billing.invoicing.einvoice_status import einvoice_status_reader_register
        from billing.peppol.selectors import submission_for_document

        einvoice_status_reader_register(submission_for_document)

        # The core's customer service refuses a currency change while billing holds money in the old one.
        from billing.finance.currency import customer_currency_holds
        from partner_portal.services import customer_currency_holds_register

        customer_currency_holds_register(customer_currency_holds)
