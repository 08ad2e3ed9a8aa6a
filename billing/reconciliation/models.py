"""What the partner owes Microsoft, and the Partner Center reconciliation files it comes from.

`MicrosoftPayable` lives here, not in `billing.finance`: a reconciliation import produces the payable of
its period (and links it), so the part that reads the files owns what they say is owed. Finance only
composes receivables (`billing.invoicing`) with these payables, and `billing.collections` never needs
them, so the layers stay one way: finance -> reconciliation -> invoicing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from billing.reconciliation.values import shown
from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet
from subscriptions.models import Subscription


class MicrosoftPayableQuerySet(TenantQuerySet["MicrosoftPayable"]):
    customer_lookup = None  # what the partner owes Microsoft is for partner staff only


class MicrosoftPayable(models.Model):
    """What the partner owes Microsoft for one billing period in one currency (docs/architecture.md, "Billing").

    Entered by hand or produced by a reconciliation import; finance sees receivables against it. Both
    figures are kept (`manual_amount`, `imported_amount`): an import never replaces an amount entered by
    hand, finance chooses which stands (`source`), and `amount` is the one that stands.
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
    manual_amount = MoneyField(_("amount entered by hand"), null=True, blank=True)
    imported_amount = MoneyField(_("amount from reconciliation files"), null=True, blank=True)
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

    @property
    def difference(self) -> Decimal | None:
        """The imported amount less the one entered by hand, when both exist and differ."""
        if self.manual_amount is None or self.imported_amount is None or self.manual_amount == self.imported_amount:
            return None
        return self.imported_amount - self.manual_amount


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
        LEGACY_USAGE = "legacy_usage", _("Legacy usage-based reconciliation")
        # Read to be named, never imported (billing.reconciliation.layouts.NOT_IMPORTED).
        DAILY_RATED_USAGE = "daily_rated_usage", _("New commerce daily rated usage")
        USAGE_AGGREGATED = "usage_aggregated", _("New commerce billed usage aggregated")

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
    def shown_errors(self) -> list[dict[str, Any]]:
        """The errors in the reader's language, not the uploader's (billing.reconciliation.values.shown)."""
        return [shown(error) for error in self.errors]

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
