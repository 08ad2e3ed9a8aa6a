"""The scheduled checks: automatic escalation once per ticket, breach notices once and in business hours."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from escalation.models import BreachNotice, Escalation
from escalation.services import escalation_checks_run, escalation_checks_run_partner, escalation_update
from partner_portal import clock
from partner_portal.models import AuditEvent, Role
from tests.conftest import Tenant, make_tenant
from tests.factories import member
from tests.factories.escalation import entitlement, ticket, tier_catalogue
from tickets.models import SupportHoliday, Ticket
from tickets.services import support_offering_get, ticket_message_add, ticket_status_change

pytestmark = pytest.mark.django_db

# The default offering: Monday to Friday, 09:00-18:00, in the partner's time zone (UTC for the factories).
THURSDAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
FRIDAY_EVENING = dt.datetime(2026, 11, 27, 19, 0, tzinfo=dt.UTC)
SATURDAY_NOON = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
MONDAY_EARLY = dt.datetime(2026, 11, 30, 8, 59, tzinfo=dt.UTC)
MONDAY_OPENING = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TUESDAY_OPENING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _ticket(tenant: Tenant, category: str = "technical", *, first_due: dt.datetime, resolution_due: dt.datetime, **kw):
    with clock.frozen(THURSDAY):
        t = ticket(tenant.customer, category, **kw)
    Ticket.objects.filter(pk=t.pk).update(first_response_due=first_due, resolution_due=resolution_due)
    t.refresh_from_db()
    return t


def _responded(t: Ticket, agent) -> None:
    with clock.frozen(THURSDAY + dt.timedelta(minutes=5)):
        ticket_message_add(ticket=t, author=agent, body="Looking into it.", internal=False)


def _run(tenant: Tenant, at: dt.datetime, on_commit) -> None:
    with on_commit():
        escalation_checks_run_partner(partner=tenant.partner, at=at)


BREACH_SUBJECTS = (
    "First response overdue:", "Resolution overdue:", "Cannot escalate to Microsoft:",
    "Просрочен первый ответ:", "Просрочено решение:", "Невозможно эскалировать в Microsoft:",
)  # fmt: skip


def _breach_mails(ticket: Ticket) -> list:
    """The breach notices about the ticket (not the tickets app's own emails to the customer)."""
    return [m for m in mail.outbox if ticket.reference in m.subject and m.subject.startswith(BREACH_SUBJECTS)]


# ---- Automatic escalation ------------------------------------------------------------------------


def test_an_overdue_ticket_is_escalated_once_not_again_later(tenant: Tenant, on_commit) -> None:
    entitlement(tenant.partner, "premier")
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due)
    _responded(t, tenant.agent)

    _run(tenant, due - dt.timedelta(minutes=1), on_commit)
    assert not Escalation.objects.exists()

    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    escalation = Escalation.objects.get()
    t.refresh_from_db()
    assert (escalation.ticket, escalation.tier.code, escalation.automatic) == (t, "premier", True)
    assert escalation.created_by is None
    assert t.status == "escalated"
    assert "resolution target" in escalation.reason

    _run(tenant, due + dt.timedelta(minutes=6), on_commit)  # the next beat
    _run(tenant, due + dt.timedelta(days=1), on_commit)  # the next day
    assert Escalation.objects.count() == 1


def test_a_closed_escalation_is_not_repeated_automatically(tenant: Tenant, on_commit) -> None:
    entitlement(tenant.partner, "advanced")
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due)
    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    escalation = Escalation.objects.get()
    with clock.frozen(due + dt.timedelta(hours=1)):
        escalation_update(escalation=escalation, actor=tenant.agent, microsoft_case_number="2611270010000042")
        escalation_update(escalation=escalation, actor=tenant.agent, status="closed")
    t.refresh_from_db()
    assert t.status == "open"  # still unresolved, past due
    _run(tenant, due + dt.timedelta(days=1), on_commit)
    _run(tenant, due + dt.timedelta(days=2), on_commit)
    assert Escalation.objects.count() == 1


def test_a_manually_escalated_ticket_is_not_escalated_again(tenant: Tenant, on_commit, api_for) -> None:
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, "billing", first_due=due, resolution_due=due)
    with clock.frozen(THURSDAY):
        assert api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/escalate/", {"reason": "x"}).status_code == 201
    _run(tenant, due + dt.timedelta(hours=1), on_commit)
    assert Escalation.objects.filter(automatic=True).count() == 0
    assert Escalation.objects.count() == 1


@pytest.mark.parametrize("status", ["pending_customer", "resolved", "closed"])
def test_waiting_resolved_and_closed_tickets_are_left_alone(tenant: Tenant, on_commit, status: str) -> None:
    entitlement(tenant.partner, "premier")
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due)
    with clock.frozen(THURSDAY):
        ticket_status_change(ticket=t, status=status, actor=tenant.agent)
    mail.outbox.clear()
    _run(tenant, due + dt.timedelta(hours=1), on_commit)
    assert not Escalation.objects.exists()
    assert not BreachNotice.objects.exists()
    assert _breach_mails(t) == []


def test_without_an_entitlement_the_ticket_is_flagged_once_to_staff(tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due)
    _responded(t, tenant.agent)
    mail.outbox.clear()
    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    _run(tenant, due + dt.timedelta(minutes=6), on_commit)
    _run(tenant, due + dt.timedelta(days=4), on_commit)
    assert not Escalation.objects.exists()
    t.refresh_from_db()
    assert t.status == "open"
    flag = BreachNotice.objects.get(kind="not_entitled")
    assert "Premier or Advanced Support for Partners contract" in flag.detail
    flagged = [m for m in mail.outbox if m.subject.startswith("Cannot escalate to Microsoft")]
    assert sorted(m.to[0] for m in flagged) == sorted([tenant.admin.email, tenant.agent.email])
    assert "Signature Cloud Support ended on 30 September 2022" in flagged[0].body


# Real transactions, so the runs see each other's commits.
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_postgresql_escalate_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    tier_catalogue()  # an earlier transactional test's flush may have removed the migration data
    tenant = make_tenant("Gamma")
    entitlement(tenant.partner, "premier")
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    tickets = [_ticket(tenant, first_due=due, resolution_due=due) for _ in range(3)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            escalation_checks_run(at=due + dt.timedelta(minutes=1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Escalation.objects.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)
    assert AuditEvent.objects.filter(action="escalation.created").count() == 3
    assert BreachNotice.objects.filter(kind="resolution").count() == 3


# ---- Breach notices ------------------------------------------------------------------------------


def test_a_first_response_breach_is_notified_once(tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due + dt.timedelta(days=5), assignee=tenant.agent)
    mail.outbox.clear()
    _run(tenant, due - dt.timedelta(minutes=1), on_commit)
    assert _breach_mails(t) == []
    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    _run(tenant, due + dt.timedelta(minutes=6), on_commit)
    _run(tenant, due + dt.timedelta(days=1), on_commit)
    sent = _breach_mails(t)
    assert [(m.subject, m.to) for m in sent] == [
        (f"First response overdue: {t.reference} {t.subject}", [tenant.agent.email])
    ]
    assert "has had no first response, which was due by" in sent[0].body
    assert f"/staff/tickets/{t.pk}/" in sent[0].body
    assert sent[0].alternatives
    assert "Open the ticket" in sent[0].alternatives[0][0]
    notice = BreachNotice.objects.get()
    assert (notice.kind, notice.recipients, notice.sent_at) == (
        "first_response",
        [tenant.agent.email],
        due + dt.timedelta(minutes=1),
    )


def test_a_responded_ticket_has_no_first_response_breach(tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due + dt.timedelta(days=5))
    _responded(t, tenant.agent)
    _run(tenant, due + dt.timedelta(hours=1), on_commit)
    assert not BreachNotice.objects.exists()


def test_a_resolution_breach_mentions_the_automatic_escalation(tenant: Tenant, on_commit) -> None:
    entitlement(tenant.partner, "advanced")
    due = dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, first_due=due, resolution_due=due)
    _responded(t, tenant.agent)
    mail.outbox.clear()
    _run(tenant, due + dt.timedelta(minutes=2), on_commit)
    sent = _breach_mails(t)
    assert sorted(m.subject.split(":")[0] for m in sent) == ["Resolution overdue", "Resolution overdue"]
    assert "It has been escalated to Microsoft: Advanced Support for Partners." in sent[0].body
    assert BreachNotice.objects.get().kind == "resolution"


def test_a_breach_at_night_is_notified_at_the_next_opening(tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 27, 17, 59, tzinfo=dt.UTC)  # Friday, a minute before closing
    t = _ticket(tenant, "billing", first_due=due, resolution_due=due + dt.timedelta(days=10), assignee=tenant.agent)
    mail.outbox.clear()
    for at in (FRIDAY_EVENING, dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC), SATURDAY_NOON, MONDAY_EARLY):
        _run(tenant, at, on_commit)
    assert _breach_mails(t) == []
    assert not BreachNotice.objects.exists()
    _run(tenant, MONDAY_OPENING, on_commit)
    assert len(_breach_mails(t)) == 1
    assert BreachNotice.objects.get().sent_at == MONDAY_OPENING


def test_a_holiday_defers_the_notice_to_the_next_business_day(tenant: Tenant, on_commit) -> None:
    offering = support_offering_get(tenant.partner)
    SupportHoliday.objects.create(
        partner=tenant.partner, offering=offering, date=MONDAY_OPENING.date(), name="Bank holiday"
    )
    due = dt.datetime(2026, 11, 27, 17, 59, tzinfo=dt.UTC)
    t = _ticket(tenant, "billing", first_due=due, resolution_due=due + dt.timedelta(days=10), assignee=tenant.agent)
    mail.outbox.clear()
    _run(tenant, MONDAY_OPENING, on_commit)
    _run(tenant, MONDAY_OPENING + dt.timedelta(hours=3), on_commit)
    assert _breach_mails(t) == []
    _run(tenant, TUESDAY_OPENING, on_commit)
    assert len(_breach_mails(t)) == 1


def test_hours_follow_the_offerings_time_zone(tenant: Tenant, on_commit) -> None:
    tenant.partner.time_zone = "America/New_York"
    tenant.partner.save()
    due = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)  # 07:00 in New York: before opening
    t = _ticket(tenant, "billing", first_due=due, resolution_due=due + dt.timedelta(days=10), assignee=tenant.agent)
    mail.outbox.clear()
    _run(tenant, dt.datetime(2026, 11, 26, 13, 59, tzinfo=dt.UTC), on_commit)  # 08:59 New York
    assert _breach_mails(t) == []
    _run(tenant, dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC), on_commit)  # 09:00 New York
    assert len(_breach_mails(t)) == 1


def test_without_assignee_agents_and_admins_are_told_in_their_language(tenant: Tenant, on_commit) -> None:
    tenant.admin.language = "ru"
    tenant.admin.save()
    second_agent = member(tenant.partner, Role.SUPPORT_AGENT)
    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    t = _ticket(tenant, "billing", first_due=due, resolution_due=due + dt.timedelta(days=5))
    mail.outbox.clear()
    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    by_recipient = {m.to[0]: m for m in _breach_mails(t)}
    assert sorted(by_recipient) == sorted([tenant.admin.email, tenant.agent.email, second_agent.email])
    assert by_recipient[tenant.admin.email].body.startswith("Здравствуйте!")
    assert by_recipient[tenant.admin.email].subject.startswith("Просрочен первый ответ: T-")
    assert by_recipient[tenant.agent.email].body.startswith("Hello,")


def test_other_partners_tickets_are_not_touched(tenant: Tenant, other_tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    _ticket(other_tenant, "billing", first_due=due, resolution_due=due)
    _run(tenant, due + dt.timedelta(hours=1), on_commit)
    assert not BreachNotice.objects.exists()
    assert not Escalation.objects.exists()


def test_the_command_runs_as_of_a_given_time(tenant: Tenant, capsys) -> None:
    entitlement(tenant.partner, "premier")
    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    _ticket(tenant, first_due=due, resolution_due=due)
    call_command("escalate_tickets", "--at", "2026-11-26T13:00:00+00:00")
    assert not Escalation.objects.exists()
    call_command("escalate_tickets", "--at", "2026-11-26T14:05:00")
    assert Escalation.objects.get().tier.code == "premier"
    out = capsys.readouterr().out
    assert "Alpha Partners: 1 escalated, 0 not entitled, 2 notices sent" in out


def test_the_beat_schedule_runs_the_checks_every_few_minutes(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["escalation-checks"]
    assert entry["task"] == "escalation.tasks.escalation_checks_run_task"
    assert entry["schedule"] == 300


def test_without_entitlement_billing_tickets_still_go_to_business_support(tenant: Tenant, on_commit) -> None:
    due = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    technical = _ticket(tenant, first_due=due, resolution_due=due)
    billing = _ticket(tenant, "billing", first_due=due, resolution_due=due, subject="Invoice total is wrong")
    _run(tenant, due + dt.timedelta(minutes=1), on_commit)
    escalation = Escalation.objects.get()
    assert (escalation.ticket, escalation.tier.code, escalation.automatic) == (billing, "business", True)
    assert list(BreachNotice.objects.filter(kind="not_entitled").values_list("ticket", flat=True)) == [technical.pk]


def test_the_task_runs_the_checks_for_every_partner(tenant: Tenant, other_tenant: Tenant) -> None:
    from escalation.tasks import escalation_checks_run_task

    due = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    _ticket(tenant, "billing", first_due=due, resolution_due=due)
    _ticket(other_tenant, "billing", first_due=due, resolution_due=due)
    result = escalation_checks_run_task.delay(at="2026-11-26T14:05:00+00:00").get()
    assert result == {"escalated": 2, "not_entitled": 0, "notices": 4}
    assert sorted(Escalation.objects.values_list("partner__slug", flat=True)) == ["alpha", "beta"]
