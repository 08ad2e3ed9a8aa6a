"""Counted incidents under concurrency, on PostgreSQL: two escalations at once cannot both take the last one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from escalation.models import Entitlement, Escalation
from escalation.services import ticket_escalate
from tests.conftest import Tenant
from tests.factories.escalation import CURRENT, entitlement, ticket, tier_catalogue

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_escalations_at_once_take_the_last_incident_once(tenant: Tenant) -> None:
    tier_catalogue()
    counted = entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, preference=1, incidents=1)
    entitlement(tenant.partner, "premier", CURRENT, preference=2)
    tickets = [ticket(tenant.customer, subject=f"Case {n}") for n in range(2)]
    barrier = threading.Barrier(2)
    tiers: list[str] = []
    errors: list[BaseException] = []

    def escalate(t) -> None:
        try:
            barrier.wait(timeout=10)
            tiers.append(ticket_escalate(ticket=t, reason="Needs Microsoft", actor=None).tier.code)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=escalate, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(tiers) == ["premier", "solutions_partner"]
    counted.refresh_from_db()
    assert counted.incidents_remaining == 0
    assert Escalation.objects.filter(entitlement=counted).count() == 1
    assert Entitlement.objects.count() == 2
