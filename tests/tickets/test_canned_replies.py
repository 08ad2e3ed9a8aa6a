"""Canned replies, the services: checked variables, the customer's language and the other as fallback,
variables filled in safely for a ticket, the use counted when the reply is sent, most used first, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from partner_portal import clock
from partner_portal.models import AuditEvent
from partner_portal.tenancy import Scope
from tests.factories.tickets import offering, ticket
from tickets.canned.models import CannedReply
from tickets.canned.selectors import canned_reply_picker
from tickets.canned.services import (
    CannedReplyInput,
    canned_reply_delete,
    canned_reply_render,
    canned_reply_save,
    offering_hours_text,
)
from tickets.errors import CannedReplyInvalid, TicketInvalid
from tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db

HOURS = {
    "mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
    "thu": [["09:00", "18:00"]], "fri": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]], "sun": [],
}  # fmt: skip


def _save(tenant, title="Password reset", en="", ru="", reply=None) -> CannedReply:
    return canned_reply_save(
        partner=tenant.partner, actor=tenant.agent, data=CannedReplyInput(title=title, body_en=en, body_ru=ru),
        reply=reply,
    )  # fmt: skip


def _scope(user) -> Scope:
    return Scope(membership=user.membership)


def test_variables_are_filled_in_for_the_ticket_and_the_agent(tenant) -> None:
    offering(tenant.partner, time_zone="Europe/Berlin", hours=HOURS)
    tenant.agent.full_name = "Dana Agent"
    tenant.agent.save()
    reply = _save(
        tenant,
        en="Hello {customer},\nabout {ticket_number}: we are here {offering_hours}.\n{ agent }",
    )
    t = ticket(tenant.customer)
    rendered = canned_reply_render(reply=reply, ticket=t, agent=tenant.agent)
    assert rendered.language == "en"
    assert rendered.body == (
        "Hello Alpha Customer One,\nabout T-000001: we are here "
        "Mon–Thu 09:00–18:00; Fri 09:00–17:00; Sat 10:00–14:00 (Europe/Berlin).\nDana Agent"
    )


def test_values_are_never_read_as_placeholders_or_templates(tenant) -> None:
    """A customer's name with braces or template syntax is inserted as written: one pass, no engine."""
    tenant.customer.name = "{agent} {{ request.user.password }} {% now 'Y' %}"
    tenant.customer.save()
    reply = _save(tenant, en="Dear {customer}, {0.__class__} {agent.email} {}")
    rendered = canned_reply_render(reply=reply, ticket=ticket(tenant.customer), agent=tenant.agent)
    agent = tenant.agent.get_full_name()
    assert rendered.body == "Dear {agent} {{ request.user.password }} {% now 'Y' %}, {0.__class__} {agent.email} {}"
    assert agent not in rendered.body


def test_an_unknown_variable_is_refused_with_its_name_and_nothing_is_saved(tenant) -> None:
    with pytest.raises(CannedReplyInvalid) as refused:
        _save(tenant, en="Hello {customer_name}, {customer}", ru="Здравствуйте, {клиент} {user}")
    assert refused.value.fields == {
        "body_en": ["Unknown variable {customer_name}. Use one of: {customer}, {ticket_number}, {agent}, "
                    "{offering_hours}."],
        "body_ru": ["Unknown variable {user}. Use one of: {customer}, {ticket_number}, {agent}, {offering_hours}."],
    }  # fmt: skip
    assert CannedReply.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="canned_reply.").count() == 0


def test_an_unknown_variable_left_in_a_stored_text_is_shown_as_written(tenant) -> None:
    reply = _save(tenant, en="Hello {customer}")
    CannedReply.objects.filter(pk=reply.pk).update(body_en="Hello {customer}, see {wiki_link}")
    reply.refresh_from_db()
    rendered = canned_reply_render(reply=reply, ticket=ticket(tenant.customer), agent=tenant.agent)
    assert rendered.body == "Hello Alpha Customer One, see {wiki_link}"


def test_a_title_and_at_least_one_text_are_needed_and_titles_are_unique_per_partner(tenant, other_tenant) -> None:
    with pytest.raises(CannedReplyInvalid) as refused:
        _save(tenant, title="  ", en=" ", ru="")
    assert refused.value.fields == {
        "title": ["Give the canned reply a title."],
        "body_en": ["Write the text in English, in Russian or in both."],
    }
    _save(tenant, title="Password reset", en="Reset it here.")
    with pytest.raises(CannedReplyInvalid) as taken:
        _save(tenant, title="password RESET", ru="Сбросьте пароль.")
    assert taken.value.fields == {"title": ["Another canned reply already has this title."]}
    _save(other_tenant, title="Password reset", en="Another partner may use the same title.")
    assert CannedReply.objects.count() == 2


def test_the_customers_language_is_used_and_the_other_text_when_it_has_none(tenant) -> None:
    both = _save(tenant, title="Both", en="Hello {customer}", ru="Здравствуйте, {customer}")
    english_only = _save(tenant, title="English only", en="Hello {customer}")
    russian_only = _save(tenant, title="Russian only", ru="Здравствуйте, {customer}")
    english_ticket = ticket(tenant.customer)
    tenant.other_customer.language = "ru"
    tenant.other_customer.save()
    russian_ticket = ticket(tenant.other_customer)

    def text(reply, t):
        rendered = canned_reply_render(reply=reply, ticket=t, agent=tenant.agent)
        return rendered.language, rendered.body

    assert text(both, english_ticket) == ("en", "Hello Alpha Customer One")
    assert text(both, russian_ticket) == ("ru", "Здравствуйте, Alpha Customer Two")
    assert text(english_only, russian_ticket) == ("en", "Hello Alpha Customer Two")
    assert text(russian_only, english_ticket) == ("ru", "Здравствуйте, Alpha Customer One")


def test_hours_are_written_in_the_language_of_the_text(tenant) -> None:
    offering(tenant.partner, time_zone="Europe/Moscow", hours=HOURS)
    reply = _save(tenant, ru="Мы работаем {offering_hours}.")
    rendered = canned_reply_render(reply=reply, ticket=ticket(tenant.customer), agent=tenant.agent)
    assert rendered.body == "Мы работаем Пн–Чт 09:00–18:00; Пт 09:00–17:00; Сб 10:00–14:00 (Europe/Moscow)."


def test_hours_of_a_partner_without_an_offering_are_the_defaults_and_nothing_is_created(tenant) -> None:
    from tickets.models import SupportOffering

    t = ticket(tenant.customer)  # opening a ticket reads the offering, which creates it with defaults
    SupportOffering.objects.filter(partner=tenant.partner).delete()
    reply = _save(tenant, en="{offering_hours}")
    assert canned_reply_render(reply=reply, ticket=t, agent=tenant.agent).body == "Mon–Fri 09:00–18:00 (UTC)"
    assert not SupportOffering.objects.filter(partner=tenant.partner).exists()
    closed = SupportOffering(time_zone="UTC", hours={day: [] for day in HOURS})
    assert offering_hours_text(closed) == "no regular hours (UTC)"


def test_sending_a_reply_counts_a_use_and_the_picker_lists_most_used_first(tenant) -> None:
    first = _save(tenant, title="A first", en="One")
    second = _save(tenant, title="B second", en="Two")
    third = _save(tenant, title="C third", en="Three")
    t = ticket(tenant.customer)
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        ticket_message_add(ticket=t, author=tenant.agent, body="Two", internal=False, canned_reply=second)
    with clock.frozen(at + dt.timedelta(hours=1)):
        ticket_message_add(ticket=t, author=tenant.agent, body="Two", internal=True, canned_reply=second)
        ticket_message_add(ticket=t, author=tenant.agent, body="Three", internal=False, canned_reply=third)
    second.refresh_from_db()
    third.refresh_from_db()
    first.refresh_from_db()
    assert (second.use_count, second.last_used_at) == (2, at + dt.timedelta(hours=1))
    assert (third.use_count, first.use_count, first.last_used_at) == (1, 0, None)
    assert [r.title for r in canned_reply_picker(scope=_scope(tenant.agent))] == ["B second", "C third", "A first"]
    # Equal counts: the one used last comes first.
    with clock.frozen(at + dt.timedelta(hours=2)):
        ticket_message_add(ticket=t, author=tenant.agent, body="One", internal=False, canned_reply=first)
    with clock.frozen(at + dt.timedelta(hours=3)):
        ticket_message_add(ticket=t, author=tenant.agent, body="Three", internal=False, canned_reply=third)
    assert [r.title for r in canned_reply_picker(scope=_scope(tenant.agent))] == ["C third", "B second", "A first"]
    replied = AuditEvent.objects.filter(action="ticket.replied").order_by("pk").last()
    assert replied.data["canned_reply"] == third.pk
    # Editing the text keeps its count.
    _save(tenant, title="C third", en="Three, reworded", reply=third)
    third.refresh_from_db()
    assert third.use_count == 2


def test_another_partners_canned_reply_is_neither_used_nor_rendered_and_customers_cannot_use_one(
    tenant, other_tenant
) -> None:
    foreign = _save(other_tenant, title="Theirs", en="Not yours")
    t = ticket(tenant.customer)
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=tenant.agent, body="Hi", internal=False, canned_reply=foreign)
    with pytest.raises(CannedReplyInvalid):
        canned_reply_render(reply=foreign, ticket=t, agent=tenant.agent)
    own = _save(tenant, title="Ours", en="Hello")
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="Hello", internal=False, canned_reply=own)
    foreign.refresh_from_db()
    own.refresh_from_db()
    assert (foreign.use_count, own.use_count) == (0, 0)
    assert canned_reply_picker(scope=_scope(tenant.customer_admin)) == []


def test_saving_and_deleting_are_audited_with_what_changed(tenant) -> None:
    reply = _save(tenant, title="Licence", en="Assign the licence.")
    _save(tenant, title="Licence", en="Assign the licence.", reply=reply)  # no change: no event
    _save(tenant, title="Licences", en="Assign the licence.", ru="Назначьте лицензию.", reply=reply)
    canned_reply_delete(partner=tenant.partner, actor=tenant.admin, reply=reply)
    events = list(AuditEvent.objects.filter(action__startswith="canned_reply.").order_by("pk"))
    assert [(e.action, e.actor, e.data) for e in events] == [
        ("canned_reply.created", tenant.agent, {"title": "Licence", "changed": ["title", "body_en"]}),
        ("canned_reply.updated", tenant.agent, {"title": "Licences", "changed": ["title", "body_ru"]}),
        ("canned_reply.deleted", tenant.admin, {"title": "Licences", "use_count": 0}),
    ]
    assert all(e.partner == tenant.partner for e in events)
    assert not CannedReply.objects.exists()
