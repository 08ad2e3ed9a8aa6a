"""Many audit events at once (a collections run, a sync): the same events as one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from partner_portal import clock
from partner_portal.audit import audit_record, audit_record_many, audit_row
from partner_portal.models import AuditEvent
from tests.conftest import Tenant, require
from tests.factories.subscriptions import SubscriptionFactory

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
FIELDS = ("partner_id", "customer_id", "actor_id", "action", "target_type", "target_id", "target_repr", "data",
          "created_at")  # fmt: skip


def _events(action: str) -> list[tuple[object, ...]]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk").values_list(*FIELDS))


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_many_events_at_once_are_the_events_audit_record_writes(tenant: Tenant, monkeypatch, vendor: str) -> None:
    """On PostgreSQL one statement over arrays, elsewhere a bulk insert: both write what audit_record does."""
    require(connection.vendor == "postgresql", "the statement over arrays is PostgreSQL's")
    subs = [
        SubscriptionFactory(customer=tenant.customer, product=f"Microsoft 365 E{n} — «Ünïcode»", quantity=n)
        for n in (3, 5)
    ]
    data = [{"reason": 'overdue "30 days"', "n": n, "ok": True, "none": None} for n in range(2)]
    with clock.frozen(NOW):
        for sub, d in zip(subs, data, strict=True):
            audit_record(
                partner=tenant.partner,
                actor=tenant.finance,
                action="test.one_by_one",
                target=sub,
                customer=tenant.customer,
                data=d,
            )
        monkeypatch.setattr(connection, "vendor", vendor)
        audit_record_many(
            partner=tenant.partner, actor=tenant.finance, action="test.at_once",
            rows=[audit_row(sub, d) for sub, d in zip(subs, data, strict=True)],
        )  # fmt: skip
        monkeypatch.undo()
    one_by_one, at_once = _events("test.one_by_one"), _events("test.at_once")
    assert [row[:3] + row[4:] for row in at_once] == [row[:3] + row[4:] for row in one_by_one]
    assert at_once[0][6] == "Microsoft 365 E3 — «Ünïcode» × 3"
    assert at_once[0][1] == tenant.customer.pk  # a subscription's event names its customer


def test_nothing_to_write_writes_nothing(tenant: Tenant) -> None:
    before = AuditEvent.objects.count()
    audit_record_many(partner=tenant.partner, actor=None, action="test.none", rows=[])
    assert AuditEvent.objects.count() == before
