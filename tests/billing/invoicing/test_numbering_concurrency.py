"""Concurrent issuing on PostgreSQL: numbers are taken in commit order, with no gap and no duplicate."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction

from billing.invoicing.models import Invoice
from billing.invoicing.services import invoice_issue
from tests.conftest import make_tenant
from tests.factories.billing import assert_ledger_consistent, draft

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.date(2026, 11, 20)


def _in_threads(targets: list) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def run(target) -> None:
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_issues_and_a_rollback_leave_no_gap_and_no_duplicate() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    tenant = make_tenant("Concurrent")
    drafts = [draft(tenant.customer) for _ in range(8)]
    doomed = draft(tenant.customer)

    def issue(invoice: Invoice):
        return lambda: invoice_issue(invoice=invoice, actor=None, issue_date=DAY)

    def issue_then_fail() -> None:
        with transaction.atomic():
            invoice_issue(invoice=doomed, actor=None, issue_date=DAY)
            raise RuntimeError("the request failed after taking a number")

    errors = _in_threads([issue(d) for d in drafts] + [issue_then_fail])
    assert [type(e) for e in errors] == [RuntimeError]
    numbers = sorted(Invoice.objects.exclude(number="").values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 9)]
    doomed.refresh_from_db()
    assert doomed.status == Invoice.Status.DRAFT
    assert_ledger_consistent()


def test_the_same_draft_issued_twice_at_once_takes_one_number() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    tenant = make_tenant("Twice")
    invoice = draft(tenant.customer)
    errors = _in_threads([lambda: invoice_issue(invoice=invoice, actor=None, issue_date=DAY)] * 2)
    assert errors == []
    invoice.refresh_from_db()
    assert invoice.number == "INV-2026-000001"
    assert Invoice.objects.exclude(number="").count() == 1
    assert_ledger_consistent()
