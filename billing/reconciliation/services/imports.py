"""Partner Center reconciliation imports and what the partner owes Microsoft (docs/architecture.md).

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
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing.reconciliation.errors import ReconciliationInvalid
from billing.reconciliation.models import ReconciliationImport, ReconciliationLine
from billing.reconciliation.parsing import (
    ChargeRow,
    FileRefused,
    RowError,
    Summary,
    check_file,
    file_kind,
    read_charges,
)
from billing.reconciliation.reading import header_of, is_workbook
from billing.reconciliation.services.payables import is_period, payable_from_imports
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


@dataclass(frozen=True)
class ImportSubmission:
    reconciliation_import: ReconciliationImport
    created: bool  # False: the same file was imported before, and this is that import


# A workbook is compressed: its rows are estimated from its size (about this many bytes a row).
_WORKBOOK_BYTES_PER_ROW = 40


def _line_estimate(content: bytes) -> int:
    """Data rows of a file, counted by line breaks (exact unless quoted fields span lines)."""
    if is_workbook(content[:4]):
        return len(content) // _WORKBOOK_BYTES_PER_ROW
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    return max(lines - 1, 0)


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
    if period and not is_period(period):
        raise ReconciliationInvalid(_("The period must be a month as YYYY-MM, e.g. 2026-11."))
    sha256 = hashlib.sha256(content).hexdigest()
    extension = "xlsx" if is_workbook(content[:4]) else "csv"
    name = f"reconciliation/{partner.pk}/{sha256}.{extension}"
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
                partner=partner, period=period or "", kind=file_kind(header_of(content)),
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
    from billing.reconciliation.tasks import reconciliation_import_run_task  # tasks import services, not the reverse

    transaction.on_commit(lambda: reconciliation_import_run_task.delay(import_id=import_id))


@contextlib.contextmanager
def _stored_file(name: str) -> Iterator[IO[bytes]]:
    """The stored file, streamed (a 100,000-line file is not held in memory)."""
    with default_storage.open(name, "rb") as raw:
        yield raw


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

    with _stored_file(imp.file.name) as raw:
        summary = check_file(raw, on_row=progress)
    period = imp.period or summary.period
    if summary.ok and not period:
        summary.add_error(RowError(1, "", gettext_noop("No charge line has a start date: give the period (YYYY-MM).")))
    if not summary.ok:
        return _refuse(imp, summary=summary, started=started)
    # Checked: half way. The lines are written in one transaction, so the rest shows when it commits.
    ReconciliationImport.objects.filter(pk=import_id, started_at=started).update(
        processed_lines=summary.rows, total_lines=summary.rows
    )
    with transaction.atomic():
        locked = (
            ReconciliationImport.objects.select_for_update(of=("self",)).select_related("partner").get(pk=import_id)
        )
        reconciliation_partner_lock(partner_id=locked.partner_id)
        if locked.status != ReconciliationImport.Status.RUNNING or locked.started_at != started:
            return locked  # taken over by another run (this one was presumed dead): leave it to that one
        return _write(locked, summary=summary, period=period, actor=imp.created_by)


def reconciliation_partner_lock(*, partner_id: int) -> None:
    """Lock the partner's row to the end of the transaction: its files are written, and their usage
    billed, one at a time. The payable adds up the latest file of each kind of the period, and billing
    usage looks for the usage draft an earlier billing made, so each must see what the one before it
    committed. FOR NO KEY UPDATE: a transaction that inserted rows referring to the partner (an invoice,
    a ticket, an audit event) takes a key-share lock on it when its foreign keys are checked at commit,
    which FOR UPDATE would make wait while a large file is written."""
    list(Partner.objects.select_for_update(no_key=True).filter(pk=partner_id).values_list("pk", flat=True))


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
            data={"errors": summary.error_count, "first": summary.errors[0].text if summary.errors else ""},
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
    with _stored_file(imp.file.name) as raw:
        _, charges = read_charges(raw)
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
    payable = payable_from_imports(imp=imp, actor=actor)
    audit_record(
        partner=partner, actor=actor, action="reconciliation.imported", target=imp,
        data={
            "kind": imp.kind, "period": period, "currency": imp.currency, "total": str(total), "lines": rows,
            "matched": matched, "unmatched": rows - matched, "payable": payable.pk,
        },
    )  # fmt: skip
    return imp
