"""The tickets demo: offerings for both partners, tickets in each status, billed time. Idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tickets.models import (
    Article,
    CannedReply,
    CustomerSupportPlan,
    SupportOffering,
    SupportPlan,
    Ticket,
    TicketMessage,
    TimeEntry,
)

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        TimeEntry.objects.count(),
        SupportOffering.objects.count(),
        SupportPlan.objects.count(),
        CustomerSupportPlan.objects.count(),
        CannedReply.objects.count(),
        Article.objects.count(),
    )


def test_seed_demo_tickets() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first
    offerings = {o.partner.slug: o for o in SupportOffering.objects.select_related("partner")}
    assert (offerings["contoso"].price_model, str(offerings["contoso"].price_amount)) == ("hourly", "120.00")
    assert (offerings["fabrikam"].price_model, offerings["fabrikam"].time_zone) == ("per_incident", "America/New_York")
    assert offerings["contoso"].holidays.count() == 3
    assert sorted(CannedReply.objects.filter(partner__slug="contoso").values_list("title", flat=True)) == [
        "Licence assigned", "Out of hours", "Waiting for a screenshot",
    ]  # fmt: skip
    articles = Article.objects.filter(partner__slug="contoso")
    assert {a.title_en: (a.status, bool(a.title_ru)) for a in articles} == {
        "Why was my subscription suspended?": ("published", True),
        "How do I pay an invoice?": ("published", True),
        "When is my invoice issued?": ("published", True),
        "How do I add or remove licences?": ("published", False),
    }
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(Ticket.Status.values)  # escalated ones come from the escalation demo
    for domain in ("northwind.example", "adatum.example", "tailspintoys.example"):
        assert Ticket.objects.filter(customer__domain=domain).exists()
    assert TicketMessage.objects.filter(internal=True).exists()
    teams = Ticket.objects.get(subject="Teams calls drop every ten minutes")
    billed = TimeEntry.objects.filter(ticket=teams, billed_invoice__isnull=False)
    assert list(billed.values_list("minutes", flat=True)) == [90]
    assert TimeEntry.objects.filter(ticket=teams, billable=False).count() == 1
    assert TimeEntry.objects.filter(ticket=teams, billable=True, billed_invoice__isnull=True).count() == 1
    plans = dict(SupportPlan.objects.filter(partner__slug="contoso").values_list("name", "price_model"))
    assert plans == {"Essential": "included", "Premium": "monthly"}
    assert CustomerSupportPlan.objects.get().customer.domain == "adatum.example"
