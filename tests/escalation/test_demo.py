"""The escalation demo: an escalation to each tier at Contoso, a refusal at Fabrikam; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from escalation.models import Entitlement, Escalation
from partner_portal.models import User
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return Entitlement.objects.count(), Escalation.objects.count(), Ticket.objects.count()


def test_the_demo_shows_every_tier_and_a_refusal(client) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first

    contoso = Escalation.objects.filter(partner__slug="contoso")
    assert set(contoso.values_list("tier__code", flat=True)) == {"business", "premier", "advanced"}
    gold = Entitlement.objects.get(partner__slug="contoso", kind="gold")
    assert (gold.valid_until, gold.tier_code) == (dt.date(2022, 9, 30), "signature_cloud")
    assert set(contoso.values_list("status", flat=True)) >= {"to_file", "in_progress", "resolved", "closed"}
    assert not Escalation.objects.filter(partner__slug="fabrikam", tier__kind="technical").exists()

    # Fabrikam's technical ticket: the agent is told what the partner would need.
    ticket = Ticket.objects.filter(partner__slug="fabrikam", category="technical").exclude(status="closed").first()
    assert ticket is not None
    client.force_login(User.objects.get(email="admin@fabrikam.example"))
    html = client.get(f"/staff/tickets/{ticket.pk}/escalate/").content.decode()
    assert "Premier or Advanced Support for Partners contract (Gold and Silver competencies" in html

    # Contoso's pages render with the demo data.
    client.force_login(User.objects.get(email="agent@contoso.example"))
    assert "Gold Cloud Productivity" in client.get("/staff/escalation/entitlements/").content.decode()
    for escalation in contoso:
        assert client.get(f"/staff/escalation/{escalation.pk}/").status_code == 200
