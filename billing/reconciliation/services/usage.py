"""Matching reconciliation lines to customers by hand, and billing their usage to the customers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import formats, translation
from django.utils.translation import gettext as _

from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from billing.invoicing.services.generation import period_bounds
from billing.invoicing.services.invoicing import LineInput, invoice_draft_create, invoice_draft_update
from billing.reconciliation.errors import ReconciliationInvalid
from billing.reconciliation.models import ReconciliationImport, ReconciliationLine
from billing.reconciliation.services.imports import BATCH, reconciliation_partner_lock, subscriptions_by_microsoft_id
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, User

HUNDRED = Decimal(100)


FOUR_PLACES = Decimal("0.0001")


@transaction.atomic
def reconciliation_line_map(*, line: ReconciliationLine, customer: Customer, actor: User | None) -> int:
    """Map an unmatched line, and every other unmatched line of its import with the same Microsoft
    customer ID, to one of the partner's customers; their subscriptions are then matched among that
    customer's. Returns how many lines were mapped. The customer's tenant ID is not changed."""
    imp = ReconciliationImport.objects.select_for_update().get(pk=line.reconciliation_import_id)
    if customer.partner_id != imp.partner_id or line.partner_id != imp.partner_id:
        raise ReconciliationInvalid(_("The customer belongs to another partner."))
    line = ReconciliationLine.objects.get(pk=line.pk)
    if line.customer_id is not None:
        raise ReconciliationInvalid(_("This line is matched already."))
    same = ReconciliationLine.objects.filter(
        reconciliation_import=imp, ms_customer_id=line.ms_customer_id, customer__isnull=True
    )
    ms_subscription_ids = set(same.exclude(ms_subscription_id="").values_list("ms_subscription_id", flat=True))
    count = same.update(customer=customer)
    subscriptions = subscriptions_by_microsoft_id(
        partner=imp.partner, subscription_ids=ms_subscription_ids, customer_ids={customer.pk}
    )
    spellings: dict[int, list[str]] = defaultdict(list)
    for raw in ms_subscription_ids:
        if (sub := subscriptions.get(raw.lower())) is not None:
            spellings[sub.pk].append(raw)
    for subscription_id, raws in spellings.items():
        ReconciliationLine.objects.filter(
            reconciliation_import=imp, ms_customer_id=line.ms_customer_id, customer=customer,
            subscription__isnull=True, ms_subscription_id__in=raws,
        ).update(subscription_id=subscription_id)  # fmt: skip
    ReconciliationImport.objects.filter(pk=imp.pk).update(
        matched_lines=F("matched_lines") + count, unmatched_lines=F("unmatched_lines") - count
    )
    audit_record(
        partner=imp.partner, customer=customer, actor=actor, action="reconciliation.mapped", target=imp,
        data={"ms_customer_id": line.ms_customer_id, "customer": customer.pk, "lines": count,
              "subscriptions": len(spellings)},
    )  # fmt: skip
    return count


def _usage_description(line: ReconciliationLine) -> str:
    what = line.product or line.charge_type or _("Microsoft usage")
    if line.charge_start and line.charge_end:
        span = f"{formats.date_format(line.charge_start, 'j M Y')}–{formats.date_format(line.charge_end, 'j M Y')}"
        return f"{what} ({span})"[:300]
    return what[:300]


def _usage_input(line: ReconciliationLine, factor: Decimal) -> LineInput:
    """One invoice line for one usage line: Microsoft's subtotal with the markup, as a unit price."""
    return LineInput(
        description=_usage_description(line),
        quantity=Decimal(1),
        unit_price=(line.subtotal * factor).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP),
        tax_rate=line.subscription.tax_rate if line.subscription is not None else ZERO,
        kind=InvoiceLine.Kind.USAGE,
        subscription=line.subscription,
        period_start=line.charge_start,
        period_end=line.charge_end,
    )


def _as_input(line: InvoiceLine) -> LineInput:
    return LineInput(
        description=line.description, quantity=line.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate,
        kind=line.kind, subscription=line.subscription, period_start=line.period_start, period_end=line.period_end,
    )  # fmt: skip


def _append_lines(invoice: Invoice, new: Sequence[LineInput], actor: User | None) -> list[InvoiceLine] | None:
    """Add lines to a draft, keeping its lines and the reconciliation lines billed on them.

    `invoice_draft_update` rewrites every line of the draft, so the links of usage billed on it before
    are moved to the rewritten lines. None when the invoice is no longer a draft.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not invoice.is_draft:
        return None
    existing = list(
        InvoiceLine.objects.filter(invoice=invoice).select_related("subscription").order_by("position", "pk")
    )
    place = {line.pk: i for i, line in enumerate(existing)}
    links = list(ReconciliationLine.objects.filter(billed_invoice_line__in=existing).only("pk", "billed_invoice_line"))
    invoice_draft_update(invoice=invoice, actor=actor, lines=[*map(_as_input, existing), *new])
    rewritten = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk"))
    for link in links:
        assert link.billed_invoice_line_id is not None  # noqa: S101 - selected by it
        link.billed_invoice_line = rewritten[place[link.billed_invoice_line_id]]
    ReconciliationLine.objects.bulk_update(links, ["billed_invoice_line"], batch_size=BATCH)
    return rewritten[len(existing) :]


@transaction.atomic
def reconciliation_usage_bill(
    *, reconciliation_import: ReconciliationImport, actor: User | None, markup_percent: Decimal
) -> list[Invoice]:
    """Bill the matched, unbilled usage lines of a done import to their customers, with a markup.

    One invoice line per usage line (quantity 1, unit price = Microsoft's subtotal × (1 + markup/100),
    half-up to four places), added to the customer's draft for the import's period: the draft
    generation made for it, else the usage draft of that period, else a new draft (period left blank
    so that generation still runs for the customer). Each usage line is marked billed; a second run
    bills nothing twice. Lines in another currency than the customer's invoices, and lines of zero, are
    left unbilled. Returns the invoices that got lines.
    """
    imp = (
        ReconciliationImport.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=reconciliation_import.pk)
    )
    reconciliation_partner_lock(partner_id=imp.partner_id)
    if imp.status != ReconciliationImport.Status.DONE:
        raise ReconciliationInvalid(_("Only a completed import can be billed."))
    if not isinstance(markup_percent, Decimal) or markup_percent <= -HUNDRED:
        raise ReconciliationInvalid(_("The markup must be a percentage above -100."))
    factor = 1 + markup_percent / HUNDRED
    partner = imp.partner
    lines = list(
        ReconciliationLine.objects.filter(
            reconciliation_import=imp, is_usage=True, customer__isnull=False, billed_at__isnull=True
        )
        .exclude(subtotal=0)
        .select_related("customer", "subscription")
        .order_by("customer_id", "charge_start", "row_number")
    )
    by_customer: dict[int, list[ReconciliationLine]] = defaultdict(list)
    for line in lines:
        assert line.customer_id is not None  # noqa: S101 - filtered on it
        by_customer[line.customer_id].append(line)
    drafts = Invoice.objects.for_partner(partner).filter(customer_id__in=by_customer, status=Invoice.Status.DRAFT)
    period_drafts = {i.customer_id: i for i in drafts.filter(period=imp.period)}
    usage_drafts: dict[int, Invoice] = {}
    billed_before = ReconciliationLine.objects.filter(
        partner=partner, reconciliation_import__period=imp.period, billed_invoice__isnull=False
    ).values("billed_invoice_id")
    for invoice in drafts.filter(period="", pk__in=billed_before).order_by("pk"):
        usage_drafts.setdefault(invoice.customer_id, invoice)
    first, _last = period_bounds(imp.period)
    invoices: list[Invoice] = []
    billed = skipped = 0
    now = clock.now()
    for customer_id, customer_lines in by_customer.items():
        customer = customer_lines[0].customer
        assert customer is not None  # noqa: S101 - filtered on it
        draft = period_drafts.get(customer_id) or usage_drafts.get(customer_id)
        currency = draft.currency if draft is not None else customer.currency
        billable = [line for line in customer_lines if line.currency == currency]
        skipped += len(customer_lines) - len(billable)
        if not billable:
            continue
        with translation.override(customer.language):
            inputs = [_usage_input(line, factor) for line in billable]
            notes = _("Microsoft cloud usage, %(month)s.") % {"month": formats.date_format(first, "F Y")}
        added = _append_lines(draft, inputs, actor) if draft is not None else None
        if added is None:  # no draft, or it was issued meanwhile: a new draft for the usage
            invoice = invoice_draft_create(partner=partner, customer=customer, actor=actor, lines=inputs, notes=notes)
            added = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk"))
        else:
            invoice = Invoice.objects.get(pk=added[0].invoice_id)
        for line, invoice_line in zip(billable, added, strict=True):
            line.billed_invoice_line, line.billed_invoice, line.billed_at = invoice_line, invoice, now
        ReconciliationLine.objects.bulk_update(billable, ["billed_invoice_line", "billed_invoice", "billed_at"])
        invoices.append(invoice)
        billed += len(billable)
    if not billed and not skipped:
        return invoices  # nothing left to bill: nothing happened
    audit_record(
        partner=partner, actor=actor, action="reconciliation.usage_billed", target=imp,
        data={"markup_percent": str(markup_percent), "lines": billed, "invoices": [i.pk for i in invoices],
              "skipped_other_currency": skipped},
    )  # fmt: skip
    return invoices


def reconciliation_usage_release(*, invoice: Invoice) -> None:
    """Usage billed on a draft that is being deleted becomes billable again (run by invoice_draft_delete,
    registered in billing.apps)."""
    ReconciliationLine.objects.filter(billed_invoice=invoice).update(
        billed_invoice=None, billed_invoice_line=None, billed_at=None
    )
