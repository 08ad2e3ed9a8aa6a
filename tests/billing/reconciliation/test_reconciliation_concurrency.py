"""Reconciliation imports on two workers at once (PostgreSQL): one claims the file, one bills usage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from billing.invoicing.models import InvoiceLine
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.services import (
    reconciliation_import_run,
    reconciliation_import_submit,
    reconciliation_usage_bill,
)
from partner_portal.models import AuditEvent
from tests.billing.invoicing.test_numbering_concurrency import _in_threads
from tests.conftest import make_tenant, require
from tests.factories.billing import assert_ledger_consistent
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
