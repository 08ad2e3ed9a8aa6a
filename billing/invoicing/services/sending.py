"""Emailing an issued invoice to the customer: on issue (unless finance unticks it) and "send again".

The email is in the customer's language, to the customer's billing email or, without one, its customer
admins. What it carries follows the customer's e-invoice format (`Customer.einvoice_format`): the PDF;
the Factur-X PDF (the same invoice with its CII XML inside) in place of the plain PDF; or the PDF and the
Peppol BIS Billing 3.0 UBL XML beside it. Each send is an audit event on the invoice, so its history says
when it went, to whom and with which files.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billing.einvoicing import facturx, ubl
from billing.invoicing import pdf
from billing.invoicing.errors import InvoiceNotSendable
from billing.invoicing.models import Invoice
from billing.invoicing.paylink import invoice_pay_url
from billing.invoicing.tasks import invoice_send_task
from partner_portal.audit import audit_record
from partner_portal.models import Customer, EinvoiceFormat, Membership, Role, User

# (file name, content, MIME type), as EmailMessage.attach takes them.
Attachment = tuple[str, bytes, str]


def billing_recipients(customer: Customer) -> list[str]:
    """Where a customer's billing email goes: its billing email, else its active customer admins."""
    if customer.billing_email:
        return [customer.billing_email]
    return list(
        Membership.objects.filter(customer=customer, role=Role.CUSTOMER_ADMIN, user__is_active=True)
        .order_by("pk")
        .values_list("user__email", flat=True)
    )


def _check_sendable(invoice: Invoice) -> list[str]:
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        raise InvoiceNotSendable(_("Only an issued invoice can be emailed."))
    recipients = billing_recipients(invoice.customer)
    if not recipients:
        raise InvoiceNotSendable(
            _("%(customer)s has no billing email and no customer admin: add a billing email first.")
            % {"customer": invoice.customer.name}
        )
    return recipients


def invoice_send_request(*, invoice: Invoice, actor: User | None, again: bool = False) -> list[str]:
    """Check the invoice can be emailed now and queue the email after commit. Returns the recipients."""
    recipients = _check_sendable(invoice)
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(lambda: invoice_send_task.delay(invoice_id=invoice.pk, actor_id=actor_id, again=again))
    return recipients


def invoice_email_attachments(invoice: Invoice) -> list[Attachment]:
    """The files the invoice email carries in the customer's e-invoice format. The Factur-X keeps the
    plain PDF's name: to the reader it is the invoice PDF, to software it also carries the CII."""
    fmt = invoice.customer.einvoice_format
    filename = pdf.invoice_pdf_filename(invoice)
    if fmt == EinvoiceFormat.FACTURX:
        return [(filename, facturx.invoice_facturx_pdf(invoice=invoice), "application/pdf")]
    attachments = [(filename, pdf.invoice_pdf(invoice=invoice), "application/pdf")]
    if fmt in (EinvoiceFormat.UBL, EinvoiceFormat.PEPPOL):
        attachments.append((ubl.invoice_ubl_filename(invoice), ubl.invoice_ubl(invoice=invoice), "application/xml"))
    return attachments


def invoice_message(*, invoice: Invoice, recipients: list[str]) -> EmailMultiAlternatives:
    """The invoice email (text, HTML and the files of `invoice_email_attachments`) in the customer's language."""
    context = {
        "invoice": invoice, "customer": invoice.customer, "partner": invoice.partner,
        "pay_url": invoice_pay_url(invoice),
    }  # fmt: skip
    with translation.override(invoice.customer.language):
        subject = " ".join(render_to_string("emails/invoice_subject.txt", context).split())
        body = render_to_string("emails/invoice.txt", context)
        html = render_to_string("emails/invoice.html", context)
        attachments = invoice_email_attachments(invoice)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message


def invoice_send(*, invoice_id: int, actor_id: int | None = None, again: bool = False) -> list[str]:
    """Email the invoice now (the worker's half of `invoice_send_request`) and record it."""
    invoice = Invoice.objects.select_related("customer", "partner").get(pk=invoice_id)
    recipients = _check_sendable(invoice)
    message = invoice_message(invoice=invoice, recipients=recipients)
    message.send()
    audit_record(
        partner=invoice.partner,
        customer=invoice.customer,
        actor=User.objects.filter(pk=actor_id).first() if actor_id else None,
        action="invoice.sent",
        target=invoice,
        data={
            "to": ", ".join(recipients),
            "again": again,
            "format": invoice.customer.einvoice_format,
            "attachments": [name for name, _content, _mimetype in message.attachments],
        },
    )
    return recipients
