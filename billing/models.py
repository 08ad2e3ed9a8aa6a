"""Invoices, their lines, payments and their allocations, credit notes, numbering, idempotency.

Money is Decimal end to end. Line amounts are rounded once, half-up to the currency's exponent, by
the services (partner_portal.money.quantize); the columns hold exactly that many places, so the
database never rounds on its own. Totals are stored for set-based queries and always equal the sum
of the lines; check constraints hold the balance arithmetic.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet
from subscriptions.models import Subscription

ZERO = Decimal("0.00")


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


class InvoiceQuerySet(TenantQuerySet["Invoice"]):
    customer_lookup = "customer"

    def open(self) -> InvoiceQuerySet:
        return self.filter(status__in=Invoice.OPEN_STATUSES)


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
        ]

    def __str__(self) -> str:
        return self.number or gettext("Draft #%(pk)s") % {"pk": self.pk}

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


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
        ]

    def __str__(self) -> str:
        return self.description


class PaymentQuerySet(TenantQuerySet["Payment"]):
    customer_lookup = "customer"


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
    # What is not allocated to an invoice yet: the customer's credit, used by later invoices.
    unallocated = MoneyField(_("unallocated"))
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

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
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.received_on}"


class AllocationQuerySet(TenantQuerySet["PaymentAllocation"]):
    customer_lookup = "invoice__customer"


class PaymentAllocation(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(default=clock.now)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"


class CreditNoteQuerySet(TenantQuerySet["CreditNote"]):
    customer_lookup = "customer"


class CreditNote(models.Model):
    """A correction of an issued invoice: reduces its balance. Numbered in its own gapless series."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=32)
    amount = MoneyField(_("amount"))
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
        ]

    def __str__(self) -> str:
        return self.number


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


# --- What the partner owes Microsoft, and the Partner Center reconciliation files it comes from -----------


class MicrosoftPayableQuerySet(TenantQuerySet["MicrosoftPayable"]):
    customer_lookup = None  # what the partner owes Microsoft is for partner staff only


class MicrosoftPayable(models.Model):
    """What the partner owes Microsoft for one billing period in one currency (DESIGN.md §4).

    Entered by hand or produced by a reconciliation import; finance sees receivables against it.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Reconciliation import")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("billing period"), max_length=7)  # "2026-11"
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    due_date = models.DateField(_("due date"))
    # True once finance set the due date by hand: later imports keep it instead of the default.
    due_date_manual = models.BooleanField(_("due date set by hand"), default=False)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    reconciliation_import = models.ForeignKey(
        "ReconciliationImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    objects = MicrosoftPayableQuerySet.as_manager()

    class Meta:
        verbose_name = _("Microsoft payable")
        verbose_name_plural = _("Microsoft payables")
        ordering = ["-period", "currency", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "period", "currency"], name="microsoft_payable_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: {self.amount} {self.currency}"


class ReconciliationImportQuerySet(TenantQuerySet["ReconciliationImport"]):
    customer_lookup = None  # imports are for partner staff


class ReconciliationImport(models.Model):
    """One Partner Center reconciliation file, imported by a worker with its progress.

    A file is identified by its SHA-256: the same file uploaded again is the same import. A refused
    file keeps its per-row errors and no lines; a done one has every line, nothing in between.
    """

    class Kind(models.TextChoices):
        NEW_COMMERCE = "new_commerce", _("New commerce invoice reconciliation")
        LEGACY = "legacy", _("Legacy license-based reconciliation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # The billing period ("2026-11"): given at upload or, when blank, derived from the charge dates.
    period = models.CharField(_("billing period"), max_length=7, blank=True)
    kind = models.CharField(_("file kind"), max_length=20, choices=Kind.choices, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(upload_to="reconciliation/", max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    total_lines = models.PositiveIntegerField(_("lines"), default=0)  # an estimate until the file is read
    processed_lines = models.PositiveIntegerField(_("lines read"), default=0)
    matched_lines = models.PositiveIntegerField(_("matched lines"), default=0)
    unmatched_lines = models.PositiveIntegerField(_("unmatched lines"), default=0)
    # Why a file was refused: [{"row": 7, "column": "ChargeStartDate", "message": "..."}], row 1 the header.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    total = MoneyField(_("total"), default=ZERO)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), default=clock.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ReconciliationImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("reconciliation import")
        verbose_name_plural = _("reconciliation imports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The same file imported twice is one import: a second upload changes nothing.
            models.UniqueConstraint(fields=["partner", "file_sha256"], name="reconciliation_import_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.period or self.get_status_display()})"

    @property
    def percent(self) -> int:
        """Progress for the page: reading and checking the file is the first half; the lines are
        written in one transaction, so the second half shows when it commits."""
        if self.status in (self.Status.DONE, self.Status.REFUSED):
            return 100
        if not self.total_lines:
            return 0
        return min(50, self.processed_lines * 50 // self.total_lines)


class ReconciliationLineQuerySet(TenantQuerySet["ReconciliationLine"]):
    customer_lookup = "customer"


class ReconciliationLine(models.Model):
    """One charge line of a reconciliation file, matched to a customer and subscription where known."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # No index of its own: the unique (import, row number) index serves every lookup by import.
    reconciliation_import = models.ForeignKey(
        ReconciliationImport, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    row_number = models.PositiveIntegerField(_("row"))  # as a spreadsheet shows it: the header is row 1
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ms_customer_id = models.CharField(_("Microsoft customer ID"), max_length=36)  # CustomerId, a GUID
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    customer_domain = models.CharField(_("customer domain"), max_length=253, blank=True)
    ms_subscription_id = models.CharField(_("Microsoft subscription ID"), max_length=64, blank=True)
    product = models.CharField(_("product"), max_length=300, blank=True)
    charge_type = models.CharField(_("charge type"), max_length=100, blank=True)
    charge_start = models.DateField(_("charge start"), null=True, blank=True)
    charge_end = models.DateField(_("charge end"), null=True, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4)
    subtotal = MoneyField(_("subtotal"))
    tax_total = MoneyField(_("tax"))
    total = MoneyField(_("total"))
    currency = models.CharField(_("currency"), max_length=3)
    is_usage = models.BooleanField(_("usage"), default=False)
    # Set when the usage was billed to the customer. The invoice line is rewritten whenever its draft
    # is edited (SET_NULL then), so `billed_at` is what says "billed": never billed twice.
    billed_invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="reconciliation_lines"
    )
    billed_invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    billed_at = models.DateTimeField(_("billed"), null=True, blank=True)

    objects = ReconciliationLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("reconciliation line")
        verbose_name_plural = _("reconciliation lines")
        ordering = ["reconciliation_import_id", "row_number"]
        constraints = [
            # A line is written once: a second run of the same import cannot duplicate it.
            models.UniqueConstraint(fields=["reconciliation_import", "row_number"], name="reconciliation_line_once"),
        ]
        indexes = [
            models.Index(fields=["reconciliation_import", "customer"], name="recon_line_import_customer_idx"),
            models.Index(fields=["reconciliation_import", "ms_customer_id"], name="recon_line_import_mscust_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.customer_name}) row {self.row_number}"


# --- Collections: the policy, its steps, the daily run and the notices it sends ---------------------------
# The rules that apply them live in billing/collections_rules.py (pure) and billing/services/collections.py.


class CollectionPolicyQuerySet(TenantQuerySet["CollectionPolicy"]):
    customer_lookup = None  # customers read the policy through the selectors, in plain words


class CollectionPolicy(models.Model):
    """A partner's collections policy: when overdue invoices are chased and when access is suspended.

    One per partner; `collection_policy_get()` creates the default one (DEFAULT_STEPS) on first use.
    """

    class SuspendScope(models.TextChoices):
        ALL = "all", _("All of the customer's subscriptions")
        OVERDUE_INVOICES = "overdue_invoices", _("Only subscriptions billed on the overdue invoices")

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="collection_policy")
    # The customer's overdue balance (in its currency) below which no positive step is taken.
    min_amount = MoneyField(_("minimum overdue amount"), default=Decimal("10.00"))
    # Added to every step after the due date (offset > 0).
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    suspend_scope = models.CharField(
        _("what is suspended"), max_length=20, choices=SuspendScope.choices, default=SuspendScope.OVERDUE_INVOICES
    )
    reactivate_automatically = models.BooleanField(_("reactivate automatically once paid"), default=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CollectionPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection policy")
        verbose_name_plural = _("collection policies")
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="collection_policy_min_not_negative")
        ]

    def __str__(self) -> str:
        return f"collections policy of partner {self.partner_id}"


class CollectionStepQuerySet(TenantQuerySet["CollectionStep"]):
    customer_lookup = None


class CollectionStep(models.Model):
    """One step of a policy: an action taken `offset_days` after the due date (negative: before)."""

    class Action(models.TextChoices):
        REMIND = "remind", _("Reminder")
        FINAL_NOTICE = "final_notice", _("Final notice")
        SUSPEND = "suspend", _("Suspension")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(CollectionPolicy, on_delete=models.CASCADE, related_name="steps")
    offset_days = models.IntegerField(_("days after the due date"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    objects = CollectionStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection step")
        verbose_name_plural = _("collection steps")
        ordering = ["offset_days"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "offset_days"], name="collection_step_one_per_offset"),
            models.CheckConstraint(
                condition=Q(offset_days__gte=-60) & Q(offset_days__lte=365), name="collection_step_offset_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offset_days:+d} {self.action}"


# The default policy (DESIGN.md §4): a reminder three days before the due date, on it, a week and two
# weeks after; a final notice at three weeks; suspension at thirty days overdue.
DEFAULT_STEPS: list[tuple[int, str]] = [
    (-3, CollectionStep.Action.REMIND),
    (0, CollectionStep.Action.REMIND),
    (7, CollectionStep.Action.REMIND),
    (14, CollectionStep.Action.REMIND),
    (21, CollectionStep.Action.FINAL_NOTICE),
    (30, CollectionStep.Action.SUSPEND),
]


class CollectionRunQuerySet(TenantQuerySet["CollectionRun"]):
    customer_lookup = None  # what the run did is for partner staff


class CollectionRun(models.Model):
    """One collections run of one partner for one date, with what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another run was in progress)")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")
        PAGE = "page", _("Started by hand")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    run_date = models.DateField(_("run date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=clock.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    triggered_by = models.CharField(_("triggered by"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notices_sent = models.PositiveIntegerField(_("notices"), default=0)
    suspensions_requested = models.PositiveIntegerField(_("suspensions"), default=0)
    reactivations_requested = models.PositiveIntegerField(_("reactivations"), default=0)
    errors_count = models.PositiveIntegerField(_("errors"), default=0)
    # Per-customer outcomes and error messages: {"customers": [...], "errors": [...]}.
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = CollectionRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection run")
        verbose_name_plural = _("collection runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["partner", "-started_at"], name="collection_run_partner_idx")]

    def __str__(self) -> str:
        return f"{self.run_date} ({self.status})"


class NoticeQuerySet(TenantQuerySet["Notice"]):
    customer_lookup = "customer"


class Notice(models.Model):
    """A collections notice for one invoice and step: one row per (invoice, offset, action), sent once.

    The run inserts rows set-based (ON CONFLICT DO NOTHING); the sender claims each with a conditional
    UPDATE (pending/failed -> sending), so two workers never email the same notice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent: settled meanwhile")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="collection_notices")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="notices")
    run = models.ForeignKey(CollectionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices")
    offset_days = models.IntegerField(_("days after the due date"))
    action = models.CharField(_("action"), max_length=16, choices=CollectionStep.Action.choices)
    amount_due = MoneyField(_("amount due"))  # the invoice's balance when the notice was made
    overdue_total = MoneyField(_("overdue total"))  # the customer's overdue balance then
    days_overdue = models.IntegerField(_("days overdue"), default=0)  # on the run date; negative: not due yet
    # What the policy does next and when, as the email states it (blank/None after the last step).
    next_action = models.CharField(_("next step"), max_length=16, choices=CollectionStep.Action.choices, blank=True)
    next_action_date = models.DateField(_("next step on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.EmailField(_("sent to"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Sent exactly once: a second run, a second worker or a retry after a crash inserts nothing.
            models.UniqueConstraint(fields=["invoice", "offset_days", "action"], name="notice_once_per_invoice_step"),
        ]
        indexes = [
            models.Index(fields=["partner", "status"], name="notice_partner_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="notice_customer_idx"),
        ]

    def __str__(self) -> str:
        # As the activity feed shows it: "INV-2026-000015 · Final notice, +21 d" (days from the due date).
        invoice = self.invoice.number if "invoice" in self._state.fields_cache else f"#{self.invoice_id}"
        return f"{invoice} · {self.get_action_display()}, {self.offset_days:+d} d"
