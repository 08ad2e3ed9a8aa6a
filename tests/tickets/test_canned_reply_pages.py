"""Canned replies on the staff pages: writing, changing and deleting them, the message for an unknown
variable, who may do what, another partner's canned reply, the list's queries, and the picker on a ticket
(the JSON the script inserts, the page without the script, the use counted when the reply is sent)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from partner_portal.models import AuditEvent
from tests.factories.tickets import ticket
from tickets.canned.models import CannedReply
from tickets.canned.services import CannedReplyInput, canned_reply_save
from tickets.models import TicketMessage

pytestmark = pytest.mark.django_db


def _reply(tenant, title="Password reset", en="Hello {customer}, about {ticket_number}.", ru="") -> CannedReply:
    return canned_reply_save(
        partner=tenant.partner, actor=None, data=CannedReplyInput(title=title, body_en=en, body_ru=ru)
    )


def test_an_agent_writes_changes_and_deletes_a_canned_reply(tenant, client_for) -> None:
    agent = client_for(tenant.agent)
    created = agent.post(
        reverse("canned_reply_create"),
        {"title": "Licence assigned", "body_en": "Hello {customer}, the licence is assigned.", "body_ru": ""},
    )
    assert created.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.partner, reply.title, reply.updated_by) == (tenant.partner, "Licence assigned", tenant.agent)
    listing = agent.get(reverse("canned_reply_list")).content.decode()
    assert "Licence assigned" in listing
    assert "Hello {customer}, the licence is assigned." in listing

    form = agent.get(reverse("canned_reply_edit", args=[reply.pk])).content.decode()
    assert "{offering_hours}" in form  # the variables are listed beside the form
    changed = agent.post(
        reverse("canned_reply_edit", args=[reply.pk]),
        {"title": "Licence assigned", "body_en": "Done, {customer}.", "body_ru": "Готово, {customer}."},
    )
    assert changed.status_code == 302
    reply.refresh_from_db()
    assert (reply.body_en, reply.body_ru) == ("Done, {customer}.", "Готово, {customer}.")

    confirm = agent.get(reverse("canned_reply_delete", args=[reply.pk]))
    assert confirm.status_code == 200
    assert CannedReply.objects.exists()  # asking deletes nothing
    assert agent.post(reverse("canned_reply_delete", args=[reply.pk])).status_code == 302
    assert not CannedReply.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="canned_reply.").order_by("pk").values_list("action", flat=True)
    ) == ["canned_reply.created", "canned_reply.updated", "canned_reply.deleted"]


def test_an_unknown_variable_is_shown_on_its_field_and_nothing_is_saved(tenant, client_for) -> None:
    answer = client_for(tenant.admin).post(
        reverse("canned_reply_create"), {"title": "Hi", "body_en": "Hello {name}", "body_ru": ""}
    )
    assert answer.status_code == 400
    assert answer.context["form"].errors == {
        "body_en": ["Unknown variable {name}. Use one of: {customer}, {ticket_number}, {agent}, {offering_hours}."]
    }
    assert "Unknown variable {name}." in answer.content.decode()
    assert not CannedReply.objects.exists()


def test_finance_and_customer_users_cannot_manage_canned_replies(tenant, client_for) -> None:
    reply = _reply(tenant)
    for user in (tenant.finance, tenant.customer_admin, tenant.customer_member):
        client = client_for(user)
        for url in (
            reverse("canned_reply_list"),
            reverse("canned_reply_create"),
            reverse("canned_reply_edit", args=[reply.pk]),
            reverse("canned_reply_delete", args=[reply.pk]),
        ):
            assert client.get(url).status_code == 403, (user.membership.role, url)
        refused = client.post(reverse("canned_reply_edit", args=[reply.pk]), {"title": "X", "body_en": "Y"})
        assert refused.status_code == 403
        assert client.post(reverse("canned_reply_delete", args=[reply.pk])).status_code == 403
    reply.refresh_from_db()
    assert (reply.title, reply.body_en) == ("Password reset", "Hello {customer}, about {ticket_number}.")
    t = ticket(tenant.customer)
    # Customers never get a canned reply, filled in or not.
    customer = client_for(tenant.customer_admin)
    assert customer.get(reverse("ticket_canned_reply", args=[t.pk, reply.pk])).status_code == 403
    assert "Password reset" not in customer.get(reverse("customer_ticket_detail", args=[t.pk])).content.decode()


def test_another_partners_canned_reply_is_not_found(tenant, other_tenant, client_for) -> None:
    theirs = _reply(other_tenant, title="Their secret answer", en="Theirs")
    agent = client_for(tenant.agent)
    for url in (
        reverse("canned_reply_edit", args=[theirs.pk]),
        reverse("canned_reply_delete", args=[theirs.pk]),
    ):
        assert agent.get(url).status_code == 404
    assert (
        agent.post(reverse("canned_reply_edit", args=[theirs.pk]), {"title": "Mine", "body_en": "x"}).status_code == 404
    )
    assert agent.post(reverse("canned_reply_delete", args=[theirs.pk])).status_code == 404
    t = ticket(tenant.customer)
    assert agent.get(reverse("ticket_canned_reply", args=[t.pk, theirs.pk])).status_code == 404
    # Nor through the page's picker, nor the list, nor when a reply names it.
    page = agent.get(f"{reverse('ticket_detail', args=[t.pk])}?canned_reply={theirs.pk}").content.decode()
    assert "Their secret answer" not in page
    assert "Theirs" not in page
    assert "Their secret answer" not in agent.get(reverse("canned_reply_list")).content.decode()
    sent = agent.post(reverse("ticket_reply", args=[t.pk]), {"body": "Hello", "canned_reply": str(theirs.pk)})
    assert sent.status_code == 302  # the reply goes; the foreign id counts for nothing
    theirs.refresh_from_db()
    assert (theirs.title, theirs.use_count) == ("Their secret answer", 0)
    # Their ticket is not found either, with one of our canned replies.
    ours = _reply(tenant)
    their_ticket = ticket(other_tenant.customer)
    assert agent.get(reverse("ticket_canned_reply", args=[their_ticket.pk, ours.pk])).status_code == 404


def test_the_picker_fills_in_the_text_for_the_ticket_and_sending_counts_a_use(tenant, client_for) -> None:
    tenant.agent.full_name = "Dana Agent"
    tenant.agent.save()
    reply = _reply(tenant, en="Hello {customer}, about {ticket_number}. {agent}", ru="Здравствуйте, {customer}.")
    t = ticket(tenant.customer)
    agent = client_for(tenant.agent)
    page = agent.get(reverse("ticket_detail", args=[t.pk])).content.decode()
    assert "data-canned-picker" in page
    assert "Password reset" in page
    assert reverse("ticket_canned_reply", args=[t.pk, reply.pk]) in page
    assert "js/canned_replies.js" in page

    answer = agent.get(reverse("ticket_canned_reply", args=[t.pk, reply.pk]))
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {
        "id": reply.pk, "title": "Password reset", "language": "en",
        "body": "Hello Alpha Customer One, about T-000001. Dana Agent",
    }  # fmt: skip
    reply.refresh_from_db()
    assert reply.use_count == 0  # inserting is not using

    # Without the script: the page comes back with the reply box filled in and the id kept.
    prefilled = agent.get(f"{reverse('ticket_detail', args=[t.pk])}?{urlencode({'canned_reply': reply.pk})}")
    form = prefilled.context["reply_form"]
    assert form.initial == {"body": "Hello Alpha Customer One, about T-000001. Dana Agent", "canned_reply": reply.pk}

    sent = agent.post(
        reverse("ticket_reply", args=[t.pk]), {"body": form.initial["body"] + " Thanks!", "canned_reply": reply.pk}
    )
    assert sent.status_code == 302
    reply.refresh_from_db()
    assert reply.use_count == 1
    assert reply.last_used_at is not None
    assert TicketMessage.objects.get(ticket=t, internal=False).body.endswith("Dana Agent Thanks!")
    # A reply written without a canned reply counts nothing.
    agent.post(reverse("ticket_reply", args=[t.pk]), {"body": "Anything else?"})
    reply.refresh_from_db()
    assert reply.use_count == 1


def test_finance_may_use_canned_replies_on_a_ticket(tenant, client_for) -> None:
    reply = _reply(tenant)
    t = ticket(tenant.customer)
    finance = client_for(tenant.finance)
    page = finance.get(reverse("ticket_detail", args=[t.pk])).content.decode()
    assert "Password reset" in page
    assert reverse("canned_reply_list") not in page  # no link to pages finance may not open
    assert finance.get(reverse("ticket_canned_reply", args=[t.pk, reply.pk])).json()["body"] == (
        "Hello Alpha Customer One, about T-000001."
    )


def test_the_list_searches_sorts_and_pages_in_a_fixed_number_of_queries(
    tenant, client_for, django_assert_max_num_queries
) -> None:
    for i in range(30):
        _reply(tenant, title=f"Answer {i:02d}", en=f"Text {i:02d} about {'Azure' if i % 3 == 0 else 'Outlook'}")
    CannedReply.objects.filter(title="Answer 07").update(use_count=9)
    agent = client_for(tenant.agent)
    url = reverse("canned_reply_list")
    with django_assert_max_num_queries(10):
        first = agent.get(url)
    page = first.context["page"]
    assert page.items[0].title == "Answer 07"  # most used first
    assert len(page.items) == 25
    assert page.next_cursor
    with django_assert_max_num_queries(10):
        second = agent.get(f"{url}?{urlencode({'cursor': page.next_cursor})}")
    assert len(second.context["page"].items) == 5
    assert {r.pk for r in second.context["page"].items}.isdisjoint(r.pk for r in page.items)
    with django_assert_max_num_queries(10):
        found = agent.get(f"{url}?{urlencode({'q': 'azure', 'sort': 'title'})}")
    assert [r.title for r in found.context["page"].items] == [f"Answer {i:02d}" for i in range(0, 30, 3)]
    assert "<strong>10</strong> canned replies" in found.content.decode()
    # The ticket page's picker reads the titles in one query, however many there are.
    t = ticket(tenant.customer)
    with django_assert_max_num_queries(40) as few:
        agent.get(reverse("ticket_detail", args=[t.pk]))
    for i in range(30, 60):
        _reply(tenant, title=f"Answer {i:02d}", en="More")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert agent.get(reverse("ticket_detail", args=[t.pk])).status_code == 200


def test_staff_navigation_leads_to_canned_replies(tenant, client_for) -> None:
    assert reverse("canned_reply_list") in client_for(tenant.agent).get(reverse("ticket_list")).content.decode()
    assert reverse("canned_reply_list") not in client_for(tenant.finance).get(reverse("ticket_list")).content.decode()
