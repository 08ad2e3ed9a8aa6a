from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F
from django.db.utils import DatabaseError

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import AppendOnlyError, AuditEvent, Customer
from partner_portal.money import quantize
from partner_portal.pagination import keyset_page
from tests.conftest import Tenant
from tests.factories import CustomerFactory, PartnerFactory


def test_clock_can_be_pinned_and_reports_partner_local_date() -> None:
    at = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
    with clock.frozen(at):
        assert clock.now() == at
        assert clock.today("UTC") == dt.date(2026, 3, 31)
        assert clock.today("Europe/Moscow") == dt.date(2026, 4, 1)
    assert clock.now() != at


def test_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"), clock.frozen(dt.datetime(2026, 1, 1)):  # noqa: DTZ001
        pass


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "USD", "2.68"),  # half-up, where Python's default half-even would give 2.67
        ("2.665", "EUR", "2.67"),
        ("-2.675", "USD", "-2.68"),
        ("1234.5", "JPY", "1235"),
    ],
)
def test_quantize_rounds_half_up_to_the_currency_exponent(amount: str, currency: str, expected: str) -> None:
    assert quantize(Decimal(amount), currency) == Decimal(expected)
    assert str(quantize(Decimal(amount), currency)) == expected


def test_quantize_refuses_floats() -> None:
    with pytest.raises(TypeError):
        quantize(2.675, "USD")  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.parametrize(("sort_field", "descending"), [("name", False), ("name", True), ("credit_days", False)])
def test_keyset_pages_walk_every_row_once_in_both_directions(sort_field: str, descending: bool) -> None:
    partner = PartnerFactory()
    for i in range(23):
        # Repeated credit_days values make ties that only the pk can break.
        CustomerFactory(partner=partner, name=f"C{i % 7:02d}-{i:02d}", credit_days=[14, 30, 45][i % 3])
    qs = Customer.objects.for_partner(partner)
    expected = list(qs.order_by(f"-{sort_field}" if descending else sort_field, "-pk" if descending else "pk"))

    seen, pages, cursor = [], [], None
    while True:
        page = keyset_page(qs, sort_field=sort_field, descending=descending, cursor=cursor, size=5)
        seen += page.items
        pages.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[0].prev_cursor is None

    back = keyset_page(qs, sort_field=sort_field, descending=descending, cursor=pages[-1].prev_cursor, size=5)
    assert back.items == pages[-2].items
    assert back.next_cursor
    assert back.prev_cursor


@pytest.mark.django_db
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_page_walks_an_annotation_both_ways(descending: bool) -> None:
    partner = PartnerFactory()
    for i in range(12):
        CustomerFactory(partner=partner, name=f"A{i:02d}", credit_days=[14, 30, 45][i % 3])
    # A decimal computed per row, with ties, as the collections overview sorts by the overdue total.
    qs = Customer.objects.for_partner(partner).annotate(
        weight=ExpressionWrapper(
            F("credit_days") * Decimal("1.5"), output_field=DecimalField(max_digits=10, decimal_places=2)
        )
    )
    expected = [c.pk for c in qs.order_by("-weight" if descending else "weight", "-pk" if descending else "pk")]

    seen, cursors, cursor = [], [], None
    while True:
        page = keyset_page(qs, sort_field="weight", descending=descending, cursor=cursor, size=5)
        seen += [c.pk for c in page.items]
        cursors.append(page.prev_cursor)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    back = keyset_page(qs, sort_field="weight", descending=descending, cursor=cursors[-1], size=5)
    assert [c.pk for c in back.items] == expected[5:10]


@pytest.mark.django_db
def test_keyset_page_with_a_garbled_cursor_starts_over() -> None:
    partner = PartnerFactory()
    CustomerFactory.create_batch(3, partner=partner)
    page = keyset_page(
        Customer.objects.for_partner(partner), sort_field="name", descending=False, cursor="!!not-a-cursor", size=2
    )
    assert len(page.items) == 2
    assert page.prev_cursor is None


@pytest.mark.django_db
def test_audit_events_are_append_only(tenant: Tenant) -> None:
    event = audit_record(partner=tenant.partner, actor=tenant.admin, action="customer.updated", target=tenant.customer)
    assert event.customer == tenant.customer
    assert event.target_type == "partner_portal.customer"
    event.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "customer.updated"


@pytest.mark.django_db
def test_database_refuses_rewriting_audit_events_on_postgresql(tenant: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = audit_record(partner=tenant.partner, action="customer.created", target=tenant.customer)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE partner_portal_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM partner_portal_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="customer.created").exists()
