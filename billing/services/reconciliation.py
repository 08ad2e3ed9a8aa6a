"""Partner Center reconciliation imports and what the partner owes Microsoft (DESIGN.md §4, §6).

An import goes pending → running → done or refused, once: the same file (by SHA-256) uploaded again
is the same import, and a run claims the import with a compare-and-set, so two workers, a retry or a
second call never import a file twice. A file is read twice: first checked from end to end (progress
is written as it goes, outside any transaction), then — only if every row is good — written in one
transaction with its lines matched to customers and subscriptions, the Microsoft payable of its
period updated and the audit recorded. Nothing is ever half-imported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, translation
from django.utils.translation import gettext as _

from billing.errors import PayableInvalid, ReconciliationInvalid
from billing.models import ZERO, Invoice, InvoiceLine, MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.parsing import (
    ChargeRow,
    FileRefused,
    RowError,
    Summary,
    check_file,
    file_kind,
    read_charges,
)
from billing.services.generation import period_bounds
from billing.services.invoicing import LineInput, invoice_draft_create, invoice_draft_update
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import quantize
from subscriptions.models import Subscription

BATCH = 2_000  # lines per INSERT, rows per progress update, ids per IN (...) lookup
# Files up to this many lines are imported in the request itself; bigger ones by a worker.
INLINE_MAX_LINES = 5_000
# A run that has not finished after this long died with its worker: another run may take it over.
# Longer than any import takes (a million lines import in a few minutes).
STALE_AFTER = dt.timedelta(hours=1)
# Microsoft invoices a billing period after it ends and the partner pays within 60 days of the
# invoice date (CSP direct-bill terms); without a date set by hand the payable is due then.
PAYMENT_TERMS = dt.timedelta(days=60)
HUNDRED = Decimal(100)
FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class ImportSubmission:
    reconciliation_import: ReconciliationImport
    created: bool  # False: the same file was imported before, and this is that import


def _is_period(value: str) -> bool:
    try:
        period_bounds(value)
    except ValueError:
        return False
    return len(value) == 7


def _line_estimate(content: bytes) -> int:
    """Data rows of a file, counted by line breaks (exact unless quoted fields span lines)."""
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    return max(lines - 1, 0)


def _first_line(content: bytes) -> str:
    return content[:65536].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")


def reconciliation_import_submit(
    *,
    partner: Partner,
    actor: User | None,
    file_name: str,
    content: bytes,
    period: str | None,
    inline: bool | None = None,
) -> ImportSubmission:
    """Upload a reconciliation file: the import it makes, and whether it is new.

    The same file (same bytes) uploaded again returns the first import unchanged. A new file is stored
    where workers read it, recorded as pending and audited; small files are imported at once, larger
    ones by `reconciliation_import_run_task` after commit (`inline` forces one or the other). Raises
    ReconciliationInvalid for a bad period.
    """
    if period and not _is_period(period):
        raise ReconciliationInvalid(_("The period must be a month as YYYY-MM, e.g. 2026-11."))
    sha256 = hashlib.sha256(content).hexdigest()
    name = f"reconciliation/{partner.pk}/{sha256}.csv"
    existing = ReconciliationImport.objects.for_partner(partner).filter(file_sha256=sha256).first()
    if existing is not None:
        if existing.status == ReconciliationImport.Status.PENDING:
            # Its run failed or never started (a lost message, a missing file): the upload retries it.
            if not default_storage.exists(existing.file.name):
                default_storage.save(existing.file.name, ContentFile(content))
            if inline:
                existing = reconciliation_import_run(import_id=existing.pk)
            else:
                _schedule(existing.pk)
        return ImportSubmission(reconciliation_import=existing, created=False)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(content))
    estimate = _line_estimate(content)
    try:
        with transaction.atomic():
            imp = ReconciliationImport.objects.create(
                partner=partner, period=period or "", kind=file_kind([_first_line(content)]),
                file_name=os.path.basename(file_name)[:255] or "reconciliation.csv", file_sha256=sha256, file=name,
                total_lines=estimate, created_by=actor if actor is not None and actor.is_authenticated else None,
            )  # fmt: skip
            audit_record(
                partner=partner, actor=actor, action="reconciliation.uploaded", target=imp,
                data={"file_name": imp.file_name, "sha256": sha256, "bytes": len(content), "period": imp.period},
            )  # fmt: skip
    except IntegrityError:  # the same file uploaded twice at the same moment: the other upload won
        return ImportSubmission(
            reconciliation_import=ReconciliationImport.objects.for_partner(partner).get(file_sha256=sha256),
            created=False,
        )
    if inline is None:
        inline = estimate <= getattr(settings, "RECONCILIATION_INLINE_MAX_LINES", INLINE_MAX_LINES)
    if inline:
        imp = reconciliation_import_run(import_id=imp.pk)
    else:
        _schedule(imp.pk)
    return ImportSubmission(reconciliation_import=imp, created=True)


def reconciliation_import_create(
    *, partner: Partner, actor: User | None, file_name: str, content: bytes, period: str | None
) -> ReconciliationImport:
    """Upload a reconciliation file (see `reconciliation_import_submit`); the same file again returns
    the first import unchanged."""
    return reconciliation_import_submit(
        partner=partner, actor=actor, file_name=file_name, content=content, period=period
    ).reconciliation_import


def _schedule(import_id: int) -> None:
    from billing.tasks import reconciliation_import_run_task  # tasks import services, not the reverse

    transaction.on_commit(lambda: reconciliation_import_run_task.delay(import_id=import_id))


@contextlib.contextmanager
def _stored_text(name: str) -> Iterator[TextIO]:
    """The stored file as text, streamed (a 100,000-line file is not held in memory)."""
    with default_storage.open(name, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            yield text
        finally:
            text.detach()  # the storage's file object closes itself


def reconciliation_import_run(*, import_id: int) -> ReconciliationImport:
    """Import a pending reconciliation file. Idempotent and safe on two workers at once.

    Only the run that moves the import from pending to running works on it (a running import is
    taken over only when its run is older than STALE_AFTER); any other call returns the import as it
    is. A file with bad rows is refused with every error and writes no lines. A good file's lines,
    its payable and the audit are written in one transaction. When the run fails unexpectedly
    (database, storage) the import goes back to pending, so a retry or a new upload runs it again.
    """
    started = clock.now()
    claimed = ReconciliationImport.objects.filter(pk=import_id, status=ReconciliationImport.Status.PENDING).update(
        status=ReconciliationImport.Status.RUNNING, started_at=started, processed_lines=0
    )
    if claimed != 1:
        claimed = ReconciliationImport.objects.filter(
            pk=import_id, status=ReconciliationImport.Status.RUNNING, started_at__lt=started - STALE_AFTER
        ).update(started_at=started, processed_lines=0)
    if claimed != 1:  # done, refused, or another worker is on it
        return ReconciliationImport.objects.get(pk=import_id)
    try:
        return _run_claimed(import_id=import_id, started=started)
    except Exception:
        ReconciliationImport.objects.filter(
            pk=import_id, status=ReconciliationImport.Status.RUNNING, started_at=started
        ).update(status=ReconciliationImport.Status.PENDING, started_at=None)
        raise


def _run_claimed(*, import_id: int, started: dt.datetime) -> ReconciliationImport:
    imp = ReconciliationImport.objects.select_related("partner", "created_by").get(pk=import_id)

    def progress(row_number: int) -> None:
        # Outside any transaction (in a worker), so the page polling the import sees it move.
        if row_number % BATCH == 0:
            ReconciliationImport.objects.filter(pk=import_id, started_at=started).update(
                processed_lines=row_number - 1, total_lines=max(imp.total_lines, row_number - 1)
            )

    with _stored_text(imp.file.name) as text:
        summary = check_file(text, on_row=progress)
    period = imp.period or summary.period
    if summary.ok and not period:
        summary.add_error(RowError(1, "", _("No charge line has a start date: give the period (YYYY-MM).")))
    if not summary.ok:
        return _refuse(imp, summary=summary, started=started)
    # Checked: half way. The lines are written in one transaction, so the rest shows when it commits.
    ReconciliationImport.objects.filter(pk=import_id, started_at=started).update(
        processed_lines=summary.rows, total_lines=summary.rows
    )
    with transaction.atomic():
        locked = ReconciliationImport.objects.select_for_update().select_related("partner").get(pk=import_id)
        if locked.status != ReconciliationImport.Status.RUNNING or locked.started_at != started:
            return locked  # taken over by another run (this one was presumed dead): leave it to that one
        return _write(locked, summary=summary, period=period, actor=imp.created_by)


def _refuse(imp: ReconciliationImport, *, summary: Summary, started: dt.datetime) -> ReconciliationImport:
    with transaction.atomic():
        locked = ReconciliationImport.objects.select_for_update().get(pk=imp.pk)
        if locked.status != ReconciliationImport.Status.RUNNING or locked.started_at != started:
            return locked
        locked.status = ReconciliationImport.Status.REFUSED
        locked.kind = summary.kind or locked.kind
        locked.errors = summary.error_list()
        locked.total_lines = locked.processed_lines = summary.rows + summary.bad_rows
        locked.matched_lines = locked.unmatched_lines = 0
        locked.finished_at = clock.now()
        locked.save(
            update_fields=[
                "status", "kind", "errors", "total_lines", "processed_lines", "matched_lines", "unmatched_lines",
                "finished_at",
            ]
        )  # fmt: skip
        audit_record(
            partner=imp.partner, actor=imp.created_by, action="reconciliation.refused", target=locked,
            data={"errors": summary.error_count, "first": summary.errors[0].message if summary.errors else ""},
        )  # fmt: skip
    return locked


def _chunks(values: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def customers_by_tenant_id(*, partner: Partner, tenant_ids: Iterable[str]) -> dict[str, Customer]:
    """The partner's customers whose Microsoft tenant ID is one of `tenant_ids` (canonical GUIDs),
    by tenant ID: one query per 2,000 IDs, never one per line."""
    found: dict[str, Customer] = {}
    for chunk in _chunks(sorted(set(tenant_ids))):
        for customer in Customer.objects.for_partner(partner).filter(tenant_id__in=chunk):
            found[str(customer.tenant_id)] = customer
    return found


def subscriptions_by_microsoft_id(
    *, partner: Partner, subscription_ids: Iterable[str], customer_ids: set[int] | None = None
) -> dict[str, Subscription]:
    """The partner's subscriptions by Microsoft subscription ID (lower-cased), found set-based.

    IDs are GUIDs that Partner Center and people write in either case: every spelling is looked up,
    which lets the database use its (partner, microsoft_subscription_id) index.
    """
    spellings = {s for raw in set(subscription_ids) for s in (raw, raw.lower(), raw.upper())}
    found: dict[str, Subscription] = {}
    for chunk in _chunks(sorted(spellings), size=BATCH * 3):
        qs = Subscription.objects.for_partner(partner).filter(microsoft_subscription_id__in=chunk)
        if customer_ids is not None:
            qs = qs.filter(customer_id__in=customer_ids)
        for sub in qs:
            found[sub.microsoft_subscription_id.lower()] = sub
    return found


def _line(
    imp: ReconciliationImport, row: ChargeRow, customer: Customer | None, subscription: Subscription | None
) -> ReconciliationLine:
    return ReconciliationLine(
        partner_id=imp.partner_id, reconciliation_import=imp, row_number=row.row_number, customer=customer,
        subscription=subscription, ms_customer_id=row.customer_id, customer_name=row.customer_name,
        customer_domain=row.customer_domain, ms_subscription_id=row.subscription_id, product=row.product,
        charge_type=row.charge_type, charge_start=row.charge_start, charge_end=row.charge_end,
        unit_price=row.unit_price, quantity=row.quantity, subtotal=row.subtotal, tax_total=row.tax,
        total=row.total, currency=row.currency, is_usage=row.is_usage,
    )  # fmt: skip


def _write(imp: ReconciliationImport, *, summary: Summary, period: str, actor: User | None) -> ReconciliationImport:
    """Second reading of a checked file: insert its lines, matched set-based, then the payable."""
    partner = imp.partner
    customers = customers_by_tenant_id(partner=partner, tenant_ids=summary.customer_ids)
    subscriptions = subscriptions_by_microsoft_id(partner=partner, subscription_ids=summary.subscription_ids)
    rows = matched = 0
    batch: list[ReconciliationLine] = []
    with _stored_text(imp.file.name) as text:
        _, charges = read_charges(text)
        for item in charges:
            if isinstance(item, RowError):  # the stored file changed since it was checked
                raise FileRefused([item])
            customer = customers.get(item.customer_id)
            sub = subscriptions.get(item.subscription_id.lower()) if item.subscription_id else None
            # A subscription counts only under the customer Microsoft bills it to.
            subscription = sub if sub is not None and customer is not None and sub.customer_id == customer.pk else None
            batch.append(_line(imp, item, customer, subscription))
            rows += 1
            matched += customer is not None
            if len(batch) == BATCH:
                ReconciliationLine.objects.bulk_create(batch)
                batch = []
    if batch:
        ReconciliationLine.objects.bulk_create(batch)
    total = quantize(summary.total, summary.currency)
    imp.status = ReconciliationImport.Status.DONE
    imp.kind, imp.period, imp.currency, imp.total = summary.kind, period, summary.currency, total
    imp.total_lines = imp.processed_lines = rows
    imp.matched_lines, imp.unmatched_lines = matched, rows - matched
    imp.errors = []
    imp.finished_at = clock.now()
    imp.save(
        update_fields=[
            "status", "kind", "period", "currency", "total", "total_lines", "processed_lines", "matched_lines",
            "unmatched_lines", "errors", "finished_at",
        ]
    )  # fmt: skip
    payable = _payable_from_imports(imp=imp, actor=actor)
    audit_record(
        partner=partner, actor=actor, action="reconciliation.imported", target=imp,
        data={
            "kind": imp.kind, "period": period, "currency": imp.currency, "total": str(total), "lines": rows,
            "matched": matched, "unmatched": rows - matched, "payable": payable.pk,
        },
    )  # fmt: skip
    return imp


def payable_default_due_date(period: str) -> dt.date:
    """The 1st of the month after the period, plus the 60 days CSP direct-bill partners have to pay."""
    _, last = period_bounds(period)
    return last + dt.timedelta(days=1) + PAYMENT_TERMS


def _payable_from_imports(*, imp: ReconciliationImport, actor: User | None) -> MicrosoftPayable:
    """Create or update the payable of the import's period and currency from the imported files.

    Its amount is the total of the latest imported file of each kind for that period: a month's
    new-commerce and legacy invoices add up, and a corrected file of one kind replaces the earlier one.
    A due date set by hand is kept (and the payable says so); otherwise it is the default.
    """
    latest: dict[str, ReconciliationImport] = {}
    done = (
        ReconciliationImport.objects.for_partner(imp.partner)
        .filter(period=imp.period, currency=imp.currency, status=ReconciliationImport.Status.DONE)
        .order_by("-finished_at", "-pk")
    )
    for other in done:
        latest.setdefault(other.kind, other)
    amount = sum((i.total for i in latest.values()), ZERO)
    due = payable_default_due_date(imp.period)
    payable = (
        MicrosoftPayable.objects.select_for_update()
        .for_partner(imp.partner)
        .filter(period=imp.period, currency=imp.currency)
        .first()
    )
    if payable is None:
        try:
            with transaction.atomic():
                payable = MicrosoftPayable.objects.create(
                    partner=imp.partner, period=imp.period, currency=imp.currency, amount=amount, due_date=due,
                    source=MicrosoftPayable.Source.IMPORT, reconciliation_import=imp,
                )  # fmt: skip
            audit_record(
                partner=imp.partner, actor=actor, action="microsoft_payable.imported", target=payable,
                data={"period": imp.period, "currency": imp.currency, "amount": str(amount), "previous_amount": None,
                      "due_date": due.isoformat(), "due_date_kept": False, "import": imp.pk},
            )  # fmt: skip
            return payable
        except IntegrityError:  # another import of the same period created it a moment ago
            payable = (
                MicrosoftPayable.objects.select_for_update()
                .for_partner(imp.partner)
                .get(period=imp.period, currency=imp.currency)
            )
    previous = payable.amount
    kept = payable.due_date_manual
    if kept:
        note = _("Due date %(date)s kept: it was set by hand.") % {"date": payable.due_date.isoformat()}
        if note not in payable.notes:
            payable.notes = f"{payable.notes}\n{note}".strip()
    else:
        payable.due_date = due
    payable.amount, payable.source, payable.reconciliation_import = amount, MicrosoftPayable.Source.IMPORT, imp
    payable.updated_at = clock.now()
    payable.save(update_fields=["amount", "source", "reconciliation_import", "due_date", "notes", "updated_at"])
    audit_record(
        partner=imp.partner, actor=actor, action="microsoft_payable.imported", target=payable,
        data={"period": imp.period, "currency": imp.currency, "amount": str(amount), "previous_amount": str(previous),
              "due_date": payable.due_date.isoformat(), "due_date_kept": kept, "import": imp.pk},
    )  # fmt: skip
    return payable


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
    imp = ReconciliationImport.objects.select_for_update().select_related("partner").get(pk=reconciliation_import.pk)
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


@transaction.atomic
def microsoft_payable_set(
    *,
    partner: Partner,
    actor: User | None,
    period: str,
    amount: Decimal,
    currency: str,
    due_date: dt.date,
    notes: str = "",
) -> MicrosoftPayable:
    """Enter what the partner owes Microsoft for a period by hand (create or replace), audited.

    Its due date then stays when a reconciliation file of the period is imported later."""
    if not _is_period(period):
        raise PayableInvalid(_("The period must be a month as YYYY-MM, e.g. 2026-11."))
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise PayableInvalid(_("The currency must be a three-letter code such as USD."))
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PayableInvalid(_("The amount must be a decimal number."))
    amount = quantize(amount, currency)
    payable = (
        MicrosoftPayable.objects.select_for_update()
        .for_partner(partner)
        .filter(period=period, currency=currency)
        .first()
    )
    previous = payable.amount if payable is not None else None
    if payable is None:
        payable = MicrosoftPayable(partner=partner, period=period, currency=currency)
    payable.amount, payable.due_date, payable.due_date_manual = amount, due_date, True
    payable.source, payable.notes, payable.updated_at = MicrosoftPayable.Source.MANUAL, notes, clock.now()
    payable.save()
    audit_record(
        partner=partner, actor=actor, action="microsoft_payable.set", target=payable,
        data={"period": period, "currency": currency, "amount": str(amount),
              "previous_amount": str(previous) if previous is not None else None, "due_date": due_date.isoformat()},
    )  # fmt: skip
    return payable
