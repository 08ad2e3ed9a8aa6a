"""What an issue, a credit note or a payment locks (PostgreSQL): its own rows and its customer's, so the
partner's other work goes on meanwhile, and the customer's balance writes queue behind one another."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from billing.collections.models import CustomerCollections
from billing.invoicing.models import CreditNote, Invoice, Payment
from billing.invoicing.services import (
    AllocationInput,
    credit_note_issue,
    invoice_draft_create,
    invoice_issue,
    payment_record,
)
from partner_portal import clock
from tests.conftest import make_tenant, require
from tests.factories.billing import assert_ledger_consistent, draft, issued, line

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = dt.date(2027, 1, 15)  # every invoice issued in November is overdue


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require(connection.vendor == "postgresql", "row locks between transactions are tested on PostgreSQL")


class Held:
    """A transaction on its own thread that does `work` on entering and commits when the block ends."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.errors: list[BaseException] = []
        self._done_work, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work: Callable[[], object]) -> None:
        try:
            with clock.frozen(TODAY), transaction.atomic():
                work()
                self._done_work.set()
                self._release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.errors.append(exc)
        finally:
            self._done_work.set()
            connections.close_all()

    def __enter__(self) -> Held:
        self._thread.start()
        assert self._done_work.wait(timeout=30)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._release.set()
        self._thread.join(timeout=30)
        if exc_type is None and self.errors:
            raise self.errors[0]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def _until_waiting(thread: threading.Thread, pid: dict[str, int]) -> None:
    """Wait until the thread's transaction waits for a lock (or it has ended without waiting)."""
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        if "pid" in pid and _waits_on_a_lock(pid["pid"]):
            return
        time.sleep(0.05)


def test_the_partners_other_work_goes_on_while_a_credit_note_is_being_issued() -> None:
    """Drafting for the same customer, issuing and recording a payment for another customer of the
    partner do not wait for the credit note's transaction (they used to, locked out by its partner)."""
    tenant = make_tenant("Locks")
    with clock.frozen(TODAY):
        invoice = issued(tenant.customer)
        other_draft = draft(tenant.other_customer)
    credit = Held(lambda: credit_note_issue(invoice=invoice, actor=None, reason="Two seats", amount=Decimal("86.40")))
    with credit, clock.frozen(TODAY), transaction.atomic():  # this transaction commits first
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        invoice_draft_create(partner=tenant.partner, customer=tenant.customer, actor=None, lines=[line()])
        other = invoice_issue(invoice=other_draft, actor=None)
        payment_record(
            partner=tenant.partner, customer=tenant.other_customer, actor=tenant.finance,
            amount=Decimal("100.00"), received_on=TODAY,
        )  # fmt: skip
    invoice.refresh_from_db()
    other.refresh_from_db()
    assert CreditNote.objects.get().invoice == invoice
    assert invoice.balance == Decimal("345.60")
    assert (other.status, other.balance) == (Invoice.Status.PARTIALLY_PAID, Decimal("332.00"))
    assert Invoice.objects.filter(customer=tenant.customer, status=Invoice.Status.DRAFT).count() == 1
    assert_ledger_consistent()


def test_a_payment_recorded_while_a_credit_note_is_issued_leaves_the_right_overdue_total() -> None:
    """The customer's balance writes queue: the payment's collections summary counts the credit note
    committed before it, not the invoice as it was."""
    tenant = make_tenant("Queue")
    with clock.frozen(TODAY):
        credited, paid = issued(tenant.customer), issued(tenant.customer)
    payer: dict[str, int] = {}
    errors: list[BaseException] = []

    def pay() -> None:
        try:
            payer["pid"] = _backend_pid()
            with clock.frozen(TODAY):
                payment_record(
                    partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("100.00"),
                    received_on=TODAY, allocations=[AllocationInput(invoice=paid, amount=Decimal("100.00"))],
                )  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    payment = threading.Thread(target=pay)
    with Held(lambda: credit_note_issue(invoice=credited, actor=None, reason="Two seats", amount=Decimal("86.40"))):
        payment.start()
        _until_waiting(payment, payer)  # for the credit note
    payment.join(timeout=30)
    assert errors == []
    assert Payment.objects.get().amount == Decimal("100.00")
    summary = CustomerCollections.objects.get(customer=tenant.customer)
    assert summary.overdue_total == Decimal("345.60") + Decimal("332.00")
    assert summary.overdue_count == 2
    assert_ledger_consistent()
