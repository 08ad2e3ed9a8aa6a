"""Reconciliation imports on two workers at once (PostgreSQL): one claims the file, one bills usage."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import invoice_draft_create
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.services import (
    reconciliation_import_run,
    reconciliation_import_submit,
    reconciliation_usage_bill,
)
from partner_portal.models import AuditEvent
from tests.billing.invoicing.test_lock_scope import Held, _backend_pid, _until_waiting
from tests.billing.invoicing.test_numbering_concurrency import _in_threads
from tests.conftest import Tenant, make_tenant, require
from tests.factories.billing import assert_ledger_consistent, line
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_and_media(settings, tmp_path) -> None:
    require(connection.vendor == "postgresql", "concurrent workers are tested on PostgreSQL")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECONCILIATION_INLINE_MAX_LINES = 0  # every file goes to "the worker"


def _pending(rows: int) -> ReconciliationImport:
    tenant = make_tenant("Concurrent")
    one = str(tenant.customer.tenant_id)
    content = csv_bytes(
        NEW_COMMERCE_HEADER,
        [
            nce_row(customer_id=one, charge_type="usage", subtotal=f"{i}.00", total=f"{i}.00")
            for i in range(1, rows + 1)
        ],
    )
    submission = reconciliation_import_submit(
        partner=tenant.partner, actor=tenant.finance, file_name="usage.csv", content=content, period="2026-11"
    )
    return submission.reconciliation_import


def test_four_workers_import_a_file_once() -> None:
    imp = _pending(rows=30)
    assert imp.status == "pending"
    errors = _in_threads([lambda: reconciliation_import_run(import_id=imp.pk)] * 4)
    assert errors == []
    imp.refresh_from_db()
    assert (imp.status, imp.total_lines, imp.matched_lines) == ("done", 30, 30)
    assert ReconciliationLine.objects.count() == 30
    assert list(MicrosoftPayable.objects.values_list("amount", flat=True)) == [Decimal("465.00")]
    assert AuditEvent.objects.filter(action="reconciliation.imported").count() == 1
    assert_ledger_consistent()


def test_usage_billed_twice_at_once_is_billed_once() -> None:
    imp = reconciliation_import_run(import_id=_pending(rows=3).pk)
    errors = _in_threads(
        [lambda: reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(10))] * 2
    )
    assert errors == []
    assert list(InvoiceLine.objects.order_by("position").values_list("amount", flat=True)) == [
        Decimal("1.10"),
        Decimal("2.20"),
        Decimal("3.30"),
    ]
    assert ReconciliationLine.objects.filter(billed_at__isnull=True).count() == 0
    assert_ledger_consistent()


def _usage_file(tenant: Tenant, *subtotals: int) -> ReconciliationImport:
    rows = [
        nce_row(customer_id=str(tenant.customer.tenant_id), charge_type="usage", subtotal=f"{s}.00", total=f"{s}.00")
        for s in subtotals
    ]
    submission = reconciliation_import_submit(
        partner=tenant.partner, actor=tenant.finance, file_name=f"usage-{subtotals[0]}.csv",
        content=csv_bytes(NEW_COMMERCE_HEADER, rows), period="2026-11",
    )  # fmt: skip
    return reconciliation_import_run(import_id=submission.reconciliation_import.pk)


def _bill(imp: ReconciliationImport) -> Callable[[], object]:
    return lambda: reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(10))


def test_the_partners_other_work_goes_on_while_usage_is_billed() -> None:
    """A draft for the partner's customer does not wait for the usage billing's transaction (it used
    to, locked out by the partner's row)."""
    tenant = make_tenant("Billing")
    imp = _usage_file(tenant, 1, 2)
    with Held(_bill(imp)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        invoice_draft_create(partner=tenant.partner, customer=tenant.other_customer, actor=None, lines=[line()])
    assert Invoice.objects.filter(customer=tenant.other_customer).count() == 1
    assert ReconciliationLine.objects.filter(billed_at__isnull=True).count() == 0


def test_usage_of_two_files_of_a_month_billed_at_once_goes_on_one_draft() -> None:
    """The partner's usage billings queue: the second finds the usage draft the first made."""
    tenant = make_tenant("Twofiles")
    first, second = _usage_file(tenant, 1, 2), _usage_file(tenant, 4)
    biller: dict[str, int] = {}
    errors: list[BaseException] = []

    def bill_second() -> None:
        try:
            biller["pid"] = _backend_pid()
            _bill(second)()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=bill_second)
    with Held(_bill(first)):
        thread.start()
        _until_waiting(thread, biller)
    thread.join(timeout=30)
    assert errors == []
    drafts = Invoice.objects.filter(customer=tenant.customer, status=Invoice.Status.DRAFT)
    assert drafts.count() == 1
    assert sorted(InvoiceLine.objects.filter(invoice__in=drafts).values_list("amount", flat=True)) == [
        Decimal("1.10"),
        Decimal("2.20"),
        Decimal("4.40"),
    ]
    assert_ledger_consistent()
