"""Invoices, their lines, payments and their allocations, credit notes, numbering, idempotency, exports.

The base of billing's parts: `billing.collections` and `billing.reconciliation` build on these models,
`billing.finance` composes them all (docs/architecture.md, "Billing").

Money is Decimal end to end. Line amounts are rounded once, half-up to the currency's exponent, by
the services (partner_portal.money.quantize); the columns hold exactly that many places, so the
database never rounds on its own. Totals are stored for set-based queries and always equal the sum
of the lines; check constraints hold the balance arithmetic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from billing.invoicing.vat import (
    NEEDS_EXEMPTION,
    ZERO_RATE_CATEGORIES,
    UnitCode,
    VatBand,
    VatCategory,
    VatExemptionCode,
    vat_in_accounting_currency,
)
from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet
from subscriptions.models import Subscription

ZERO = Decimal("0.00")


def is_past_due(due_date: dt.date | None, on: dt.date) -> bool:
    """The date half of "overdue": a due date before `on` (on the due date itself it is due, not late).
    Invoice.is_overdue adds "open"; collections apply it to rows already selected as open."""
    return due_date is not None and due_date < on


class NumberSeriesQuerySet(TenantQuerySet["NumberSeries"]):
    customer_lookup = None


class NumberSeries(models.Model):
    """The last number used in a partner's gapless series (invoices or credit notes) for one year.

    Issuing locks this row for the rest of its transaction, so numbers are taken in commit order:
    a rolled-back issue gives its number back, and two concurrent issues never share one.
    """

    class Kind(models.TextChoices):
        INVOICE = "INV", _("Invoice")
        CREDIT_NOTE = "CN", _("Credit note")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    objects = NumberSeriesQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "kind", "year"], name="number_series_unique")]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last_number}"


# Days past due of the receivables' aging buckets, in order: key -> (first day, last day); None is
# open-ended. "current" is not due yet (or has no due date); "90_plus" is more than 90 days past due.
AGING_BUCKETS: dict[str, tuple[int | None, int | None]] = {
    "current": (None, 0),
    "1_30": (1, 30),
    "31_60": (31, 60),
    "61_90": (61, 90),
    "90_plus": (91, None),
}
AGING_LABELS: dict[str, Promise] = {
    "current": _("Not yet due"),
    "1_30": _("1–30 days overdue"),
    "31_60": _("31–60 days overdue"),
    "61_90": _("61–90 days overdue"),
    "90_plus": _("Over 90 days overdue"),
}


class InvoiceQuerySet(TenantQuerySet["Invoice"]):
    customer_lookup = "customer"

    # The SQL twins of Invoice.is_open and Invoice.is_overdue(): the same rules, side by side
    # (tests/billing/invoicing/test_invoice_rules.py checks that both say the same).

    def open(self) -> InvoiceQuerySet:
        """Invoices still owed: issued or partially paid (Invoice.is_open)."""
        return self.filter(status__in=Invoice.OPEN_STATUSES)

    @staticmethod
    def overdue_condition(on: dt.date) -> Q:
        """Invoice.is_overdue(on) as a condition, for filtered sums: open and due before `on`."""
        return Q(status__in=Invoice.OPEN_STATUSES, due_date__lt=on)

    def overdue(self, on: dt.date) -> InvoiceQuerySet:
        """Open invoices whose due date is before `on` (Invoice.is_overdue)."""
        return self.filter(self.overdue_condition(on))

    @staticmethod
    def aging_condition(key: str, on: dt.date) -> Q:
        """Invoices in the aging bucket `key` on `on`: 1_30 is 1 to 30 days past due, and so on."""
        first, last = AGING_BUCKETS[key]
        if first is None:  # not due yet: due today or later, or no due date at all
            return Q(due_date__gte=on) | Q(due_date__isnull=True)
        condition = Q(due_date__lte=on - dt.timedelta(days=first))
        if last is not None:
            condition &= Q(due_date__gte=on - dt.timedelta(days=last))
        return condition

    def aged(self, key: str, on: dt.date) -> InvoiceQuerySet:
        """Open invoices in the aging bucket `key` on `on` (the finance page's receivables by age)."""
        return self.open().filter(self.aging_condition(key, on))


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        VOID = "void", pgettext_lazy("invoice status", "Void")

    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3)
    # The billing period an invoice generated from subscriptions covers ("2026-11"); blank otherwise.
    period = models.CharField(_("billing period"), max_length=7, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    subtotal = MoneyField(_("subtotal"), default=ZERO)
    tax_total = MoneyField(_("tax"), default=ZERO)
    total = MoneyField(_("total"), default=ZERO)
    amount_paid = MoneyField(_("amount paid"), default=ZERO)
    amount_credited = MoneyField(_("amount credited"), default=ZERO)
    balance = MoneyField(_("balance"), default=ZERO)
    notes = models.TextField(_("notes to the customer"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    # Units of the partner's accounting currency per unit of the invoice currency, for the VAT total in
    # the accounting currency an e-invoice states (EN 16931 BT-6, BT-111); blank: no conversion stated.
    tax_currency_rate = models.DecimalField(
        _("VAT currency exchange rate"),
        max_digits=18,
        decimal_places=8,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Units of the partner's accounting currency per unit of the invoice currency."),
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "number"], condition=~Q(number=""), name="invoice_number_unique_per_partner"
            ),
            # One generated invoice per customer and period: generation can run again safely.
            models.UniqueConstraint(
                fields=["customer", "period"], condition=~Q(period=""), name="invoice_one_per_customer_period"
            ),
            models.CheckConstraint(
                condition=Q(total=Round(F("subtotal") + F("tax_total"), 2)), name="invoice_total_is_subtotal_plus_tax"
            ),
            # A void invoice owes nothing; every other balance is what is left after payments and credits.
            # (Round() only matters on SQLite, which does this arithmetic in floating point.)
            models.CheckConstraint(
                condition=Q(status="void", balance=0)
                | (~Q(status="void") & Q(balance=Round(F("total") - F("amount_paid") - F("amount_credited"), 2))),
                name="invoice_balance_arithmetic",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_credited__gte=0), name="invoice_settled_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number="") | (~Q(status="draft") & ~Q(number="")),
                name="invoice_number_iff_issued",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "status", "due_date"], name="invoice_status_due_idx"),
            models.Index(fields=["customer", "status"], name="invoice_customer_idx"),
            # The invoice list's sorts and status filter; amounts are sorted within one currency.
            models.Index(fields=["partner", "created_at", "id"], name="invoice_partner_created_idx"),
            models.Index(fields=["partner", "status", "created_at", "id"], name="invoice_partner_status_idx"),
            models.Index(fields=["partner", "currency", "total", "id"], name="invoice_partner_total_idx"),
            models.Index(fields=["partner", "currency", "balance", "id"], name="invoice_partner_balance_idx"),
            # A customer's invoices, newest first (its page and the self-service page).
            models.Index(fields=["customer", "created_at", "id"], name="invoice_customer_created_idx"),
            # A customer's invoices still to pay, by due date: what collections read (the run, the
            # overview, the customer's banner); a tenth of the invoices or less.
            models.Index(
                fields=["customer", "due_date"],
                condition=Q(status__in=["issued", "partially_paid"], balance__gt=0),
                name="invoice_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or gettext("Draft #%(pk)s") % {"pk": self.pk}

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_open(self) -> bool:
        """Still owed: issued or partially paid (InvoiceQuerySet.open in SQL)."""
        return self.status in self.OPEN_STATUSES

    @property
    def tax_in_accounting_currency(self) -> tuple[str, Decimal] | None:
        """The partner's accounting currency and the tax total in it, when the invoice states them
        (another currency with an exchange rate; `vat_in_accounting_currency`)."""
        return vat_in_accounting_currency(
            tax=self.tax_total, currency=self.currency,
            accounting_currency=self.partner.default_currency, rate=self.tax_currency_rate,
        )  # fmt: skip

    def is_overdue(self, on: dt.date) -> bool:
        """Open and due before `on` (InvoiceQuerySet.overdue in SQL). A draft or an invoice without a
        due date is never overdue; on its due date an invoice is due, not yet overdue."""
        return self.is_open and is_past_due(self.due_date, on)

    def settled_status(self) -> str:
        """The status an issued invoice's balance calls for: paid when nothing is left, partially paid
        when part of the total is, issued while all of it is."""
        if self.balance <= ZERO:
            return self.Status.PAID
        if self.balance < self.total:
            return self.Status.PARTIALLY_PAID
        return self.Status.ISSUED


class InvoiceLineQuerySet(TenantQuerySet["InvoiceLine"]):
    customer_lookup = "invoice__customer"


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SUBSCRIPTION = "subscription", _("Subscription")
        USAGE = "usage", _("Usage")
        SUPPORT = "support", _("Support")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    # EN 16931: the line's VAT category (UNCL5305) and, where it carries no VAT, why (text or VATEX code).
    # Blank only on lines from before categories, and on 0 % drafts whose category could not be decided.
    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices, blank=True)
    vat_exemption_reason = models.CharField(_("VAT exemption reason"), max_length=300, blank=True)
    vat_exemption_code = models.CharField(_("VATEX code"), max_length=20, choices=VatExemptionCode.choices, blank=True)
    unit_code = models.CharField(_("unit"), max_length=3, choices=UnitCode.choices, default=UnitCode.ONE)
    amount = MoneyField(_("amount"))
    tax_amount = MoneyField(_("tax"))
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="invoice_line_tax_rate_percent"
            ),
            # Standard rated lines carry VAT; every other category is at 0 % (billing.invoicing.vat).
            models.CheckConstraint(
                condition=Q(vat_category="")
                | Q(vat_category="S", tax_rate__gt=0)
                | Q(vat_category__in=sorted(ZERO_RATE_CATEGORIES), tax_rate=0),
                name="invoice_line_vat_category_rate",
            ),
            models.CheckConstraint(
                condition=~Q(vat_category__in=sorted(NEEDS_EXEMPTION))
                | ~Q(vat_exemption_reason="")
                | ~Q(vat_exemption_code=""),
                name="invoice_line_vat_exemption_given",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class PaymentQuerySet(TenantQuerySet["Payment"]):
    customer_lookup = "customer"

    def live(self) -> PaymentQuerySet:
        """Payments that stand: not voided (what totals of money received count)."""
        return self.filter(voided_at__isnull=True)


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        OTHER = "other", _("Other")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    # The online payment provider that took a card payment (e.g. "stripe"); blank for payments staff record.
    provider = models.CharField(_("provider"), max_length=16, blank=True)
    # What is not allocated to an invoice yet: the customer's credit, used by later invoices.
    unallocated = MoneyField(_("unallocated"))
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    # A voided payment was recorded in error (a bounced transfer, a duplicate): it keeps its row and its
    # allocations, reversed, as history; it pays nothing and leaves no credit.
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    voided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated__gte=0) & Q(unallocated__lte=F("amount")), name="payment_unallocated_in_range"
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | Q(unallocated=0), name="payment_voided_leaves_no_credit"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "received_on", "id"], name="payment_partner_received_idx"),
            models.Index(fields=["customer", "received_on", "id"], name="payment_customer_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.received_on}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class AllocationQuerySet(TenantQuerySet["PaymentAllocation"]):
    customer_lookup = "invoice__customer"

    def active(self) -> AllocationQuerySet:
        """Allocations that pay their invoice: not reversed (by a void or a refund)."""
        return self.filter(reversed_at__isnull=True)


class PaymentAllocation(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(default=clock.now)
    # Set when the money no longer pays the invoice (the payment was voided, or refunded from here);
    # the row stays as history, and only allocations without it count in the invoice's amount paid.
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None


class RefundQuerySet(TenantQuerySet["Refund"]):
    customer_lookup = "customer"


class Refund(models.Model):
    """Money of a payment given back to the customer. It comes from the payment's credit, or from
    allocations finance chooses (their invoices owe that part again, unless credited at once); a
    payment's allocated, unallocated and refunded money always add up to its amount."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    refunded_on = models.DateField(_("refunded on"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    # What of the amount came off invoices ({invoice number: amount}); the rest was the payment's credit.
    from_invoices = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = RefundQuerySet.as_manager()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-refunded_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.refunded_on}"


class CreditNoteQuerySet(TenantQuerySet["CreditNote"]):
    customer_lookup = "customer"


class CreditNote(models.Model):
    """A correction of an issued invoice: reduces its balance. Numbered in its own gapless series."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=32)
    amount = MoneyField(_("amount"))  # what is credited, VAT included: net_amount + tax_amount
    net_amount = MoneyField(_("net amount"), default=ZERO)
    tax_amount = MoneyField(_("VAT"), default=ZERO)
    # Net and VAT per category and rate, fixed when issued (billing.invoicing.services.credit_notes):
    # [{"category": "S", "rate": "20.00", "net": "100.00", "tax": "20.00", "exemption": ""}, …]
    vat_breakdown = models.JSONField(_("VAT breakdown"), default=list, blank=True)
    # The invoice lines a note by lines credits, so a later note credits only what is left of each:
    # [{"line": 12, "quantity": "2", "net": "40.00", "tax": "8.00"}, …]; empty for a note by amount.
    credited_lines = models.JSONField(_("credited lines"), default=list, blank=True)
    # The credited invoice as the document refers to it (EN 16931 BG-3), kept with the note.
    invoice_number = models.CharField(_("credited invoice"), max_length=32, blank=True)
    invoice_issue_date = models.DateField(_("credited invoice's issue date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=500)
    # The credited invoice's balance right after this note, as the document states it for good.
    invoice_balance_after = MoneyField(_("invoice balance after"))
    issue_date = models.DateField(_("issue date"))
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = CreditNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "number"], name="credit_note_number_unique_per_partner"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount=Round(F("net_amount") + F("tax_amount"), 2)),
                name="credit_note_amount_is_net_plus_vat",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def vat_bands(self) -> list[VatBand]:
        return [
            VatBand(
                category=b["category"],
                rate=Decimal(b["rate"]),
                net=Decimal(b["net"]),
                tax=Decimal(b["tax"]),
                exemption=b.get("exemption", ""),
            )
            for b in self.vat_breakdown
        ]


class IdempotencyKeyQuerySet(TenantQuerySet["IdempotencyKey"]):
    customer_lookup = None


class IdempotencyKey(models.Model):
    """The first answer to a create request sent with an `Idempotency-Key`, replayed on retries."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=clock.now)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "user", "endpoint", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class ExportJobQuerySet(TenantQuerySet["ExportJob"]):
    customer_lookup = None  # exports are for partner staff


class ExportJob(models.Model):
    """A bulk export run by a worker, with its progress for the page's progress bar."""

    class Kind(models.TextChoices):
        INVOICE_PDFS = "invoice_pdfs", _("Invoice PDFs (ZIP)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INVOICE_PDFS)
    filters = models.JSONField(default=dict, blank=True)
    # Drafts are left out of an export unless asked for (or the status filter picks drafts).
    include_drafts = models.BooleanField(default=False)
    # Each issued invoice's Peppol BIS Billing 3.0 UBL as <number>.xml beside its PDF (drafts have none).
    include_xml = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else (self.done * 100 // self.total if self.total else 0)


class ExportPartQuerySet(TenantQuerySet["ExportPart"]):
    customer_lookup = None  # exports are for partner staff


class ExportPart(models.Model):
    """A slice of a large export, rendered by one worker into a ZIP of its own and merged into the
    job's ZIP once every part is done. The invoices are fixed when the job starts, in export order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")  # the job's
    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="parts")
    seq = models.PositiveIntegerField()
    invoice_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportPartQuerySet.as_manager()

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="export_part_seq_unique")]

    def __str__(self) -> str:
        return f"part {self.seq} of export #{self.job_id}"
