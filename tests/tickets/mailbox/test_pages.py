"""The partner's own pages of support email: the mailbox settings (partner admins, a connection test
against a real Dovecot) and the quarantine (admins and agents), and the services behind them."""

from __future__ import annotations

import re

import pytest

from partner_portal.models import AuditEvent, Invitation
from subscriptions.secrets import secret_decrypt
from tests.factories.tickets import PNG
from tests.tickets.mailbox.dovecot import PASSWORD
from tests.tickets.mailbox.test_reading import message
from tickets.errors import InboundEmailDecided, TicketInvalid
from tickets.mailbox.models import InboundEmail, SupportMailbox
from tickets.mailbox.services import (
    MailboxInput,
    inbound_email_accept,
    inbound_email_drop,
    inbound_email_process,
    support_mailbox_save,
)
from tickets.models import Ticket, TicketAttachment

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/staff/support/mailbox/"
QUARANTINE_URL = "/staff/support/quarantine/"
FORM = {"address": "Help@Alpha.test", "host": "imap.alpha.test", "port": "993", "security": "tls",
        "username": "help@alpha.test", "folder": "INBOX", "active": "on"}  # fmt: skip
_uids = iter(range(1, 10_000))


def mailbox_of(partner, password: str = "first-Secret-pw") -> SupportMailbox:  # noqa: S107 - a test value
    return support_mailbox_save(
        partner=partner, actor=None,
        data=MailboxInput(address=f"help@{partner.slug}.test", host="imap.test", port=993,
                          username=f"help@{partner.slug}.test", password=password),
    )  # fmt: skip


def quarantined(mailbox: SupportMailbox, *, sender="stranger@elsewhere.test", subject="Printer on fire",
                body="Please call me back.", files=()) -> InboundEmail:  # fmt: skip
    email = inbound_email_process(
        mailbox_id=mailbox.pk, uidvalidity=1, uid=next(_uids),
        raw=message(sender=sender, to=mailbox.address, subject=subject, body=body, files=list(files)),
    )  # fmt: skip
    assert email is not None
    assert email.status == InboundEmail.Status.QUARANTINED
    return email


# ---- The services ---------------------------------------------------------------------------------


def test_accept_opens_one_ticket_for_the_chosen_customer_with_the_text_and_files(tenant, on_commit) -> None:
    email = quarantined(
        mailbox_of(tenant.partner), body="Our invoice total looks wrong.", files=[("shot.png", PNG, "image/png")]
    )

    with on_commit():
        ticket = inbound_email_accept(email=email, customer=tenant.other_customer, actor=tenant.agent)

    assert (ticket.customer, ticket.subject) == (tenant.other_customer, "Printer on fire")
    assert "Our invoice total looks wrong." in ticket.description
    assert "stranger@elsewhere.test" in ticket.description  # who sent it, since no user of the customer did
    assert list(TicketAttachment.objects.filter(ticket=ticket).values_list("original_name", flat=True)) == ["shot.png"]
    email.refresh_from_db()
    assert (email.status, email.ticket, email.customer, email.decided_by) == (
        InboundEmail.Status.ACCEPTED, ticket, tenant.other_customer, tenant.agent,
    )  # fmt: skip
    # A second accept (a double click, or another agent) opens nothing more; nor does a drop.
    with pytest.raises(InboundEmailDecided):
        inbound_email_accept(email=email, customer=tenant.customer, actor=tenant.admin)
    with pytest.raises(InboundEmailDecided):
        inbound_email_drop(email=email, actor=tenant.admin)
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1
    assert AuditEvent.objects.filter(action="support_mailbox.email_accepted", partner=tenant.partner).count() == 1


def test_accept_refuses_another_partners_customer(tenant, other_tenant) -> None:
    email = quarantined(mailbox_of(tenant.partner))
    with pytest.raises(TicketInvalid):
        inbound_email_accept(email=email, customer=other_tenant.customer, actor=tenant.agent)
    email.refresh_from_db()
    assert email.status == InboundEmail.Status.QUARANTINED
    assert not Ticket.objects.exists()


def test_drop_opens_nothing_and_is_audited(tenant) -> None:
    email = quarantined(mailbox_of(tenant.partner))
    inbound_email_drop(email=email, actor=tenant.agent)
    email.refresh_from_db()
    assert (email.status, email.decided_by) == (InboundEmail.Status.DROPPED, tenant.agent)
    assert not Ticket.objects.exists()
    event = AuditEvent.objects.get(action="support_mailbox.email_dropped", partner=tenant.partner)
    assert event.actor == tenant.agent


# ---- The mailbox settings page ----------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("finance", 403), ("agent", 403),
                                             ("customer_admin", 403)])  # fmt: skip
def test_only_partner_admins_open_the_mailbox_settings(tenant, client_for, who, status) -> None:
    assert client_for(getattr(tenant, who)).get(SETTINGS_URL).status_code == status
    saved = client_for(getattr(tenant, who)).post(SETTINGS_URL, {**FORM, "password": "x"})
    assert saved.status_code == (302 if status == 200 else status)
    assert SupportMailbox.objects.exists() is (status == 200)


def test_an_admin_connects_the_mailbox_and_the_password_is_never_shown_back(tenant, client_for) -> None:
    admin = client_for(tenant.admin)
    page = admin.get(SETTINGS_URL)
    assert "Not connected" in page.content.decode()

    response = admin.post(SETTINGS_URL, {**FORM, "password": "s3cret-Mailbox-pw", "action": "save"})

    assert response.status_code == 302
    mailbox = SupportMailbox.objects.get(partner=tenant.partner)
    assert (mailbox.address, mailbox.host, mailbox.security) == ("help@alpha.test", "imap.alpha.test", "tls")
    assert secret_decrypt(mailbox.password_encrypted) == "s3cret-Mailbox-pw"
    html = admin.get(SETTINGS_URL).content.decode()
    assert "s3cret-Mailbox-pw" not in html
    assert mailbox.password_encrypted not in html
    assert 'value="imap.alpha.test"' in html
    # Saving again with the password left empty keeps it; the change is audited without it.
    admin.post(SETTINGS_URL, {**FORM, "port": "143", "security": "starttls", "password": ""})
    mailbox.refresh_from_db()
    assert (mailbox.port, mailbox.security, secret_decrypt(mailbox.password_encrypted)) == (
        143, "starttls", "s3cret-Mailbox-pw"
    )  # fmt: skip
    events = AuditEvent.objects.filter(action="support_mailbox.saved", partner=tenant.partner).order_by("pk")
    assert [(e.actor, e.data["password_changed"], e.data["port"]) for e in events] == [
        (tenant.admin, True, 993), (tenant.admin, False, 143)
    ]  # fmt: skip
    assert "s3cret-Mailbox-pw" not in str(list(events.values_list("data", flat=True)))


def test_the_stored_password_never_goes_to_another_server(tenant, client_for, connect_mailbox, dovecot) -> None:
    mailbox = connect_mailbox(tenant.partner)
    admin = client_for(tenant.admin)
    # The stored password is tried at the stored server and user only; elsewhere it must be typed again.
    moved = _test(admin, dovecot, password="", host="localhost", username=mailbox.username)
    assert moved.status_code == 400
    assert "Enter the password again when you change the server or the user name." in moved.content.decode()
    saved = admin.post(SETTINGS_URL, {**FORM, "host": "imap.attacker.test", "password": ""})
    assert saved.status_code == 400
    assert SupportMailbox.objects.get().host == "127.0.0.1"
    assert not AuditEvent.objects.filter(action="support_mailbox.tested").exists()


def test_settings_are_validated_field_by_field(tenant, client_for) -> None:
    admin = client_for(tenant.admin)
    bad = {**FORM, "address": "not-an-address", "host": "imaps://imap.alpha.test/", "port": "70000", "folder": ""}
    response = admin.post(SETTINGS_URL, bad)  # and no password for a new mailbox

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"address", "host", "port", "folder", "password"}
    html = response.content.decode()
    assert "Enter the server&#x27;s name only" in html or "Enter the server's name only" in html
    assert "Enter the mailbox&#x27;s password." in html
    assert not SupportMailbox.objects.exists()
    assert not AuditEvent.objects.filter(action="support_mailbox.saved").exists()


def test_the_page_shows_the_last_read_and_the_last_error(tenant, client_for) -> None:
    mailbox = mailbox_of(tenant.partner)
    SupportMailbox.objects.filter(pk=mailbox.pk).update(
        last_checked_at="2026-12-01T10:00:00Z", last_error="cannot connect to imap.test:993: timed out", failures=3
    )
    html = client_for(tenant.admin).get(SETTINGS_URL).content.decode()
    assert "cannot connect to imap.test:993: timed out" in html
    assert "3 failed checks in a row" in html


# ---- Test connection, against the real server ---------------------------------------------------------


def _test(client, dovecot, **values):
    return client.post(SETTINGS_URL, {**FORM, "host": "127.0.0.1", "port": str(dovecot.port),
                                      "username": "tester@mail.test", "action": "test", **values})  # fmt: skip


def test_test_connection_signs_in_and_saves_nothing(tenant, client_for, connect_mailbox, dovecot) -> None:
    admin = client_for(tenant.admin)

    response = _test(admin, dovecot, password=PASSWORD)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-connection-check="ok"' in html
    assert "Signed in to 127.0.0.1 and opened the folder “INBOX”." in html
    assert PASSWORD not in html
    assert not SupportMailbox.objects.exists()


def test_connection_tests_are_audited_and_limited(tenant, client_for, connect_mailbox, dovecot, monkeypatch) -> None:
    monkeypatch.setattr("tickets.mailbox.services.TESTS_PER_WINDOW", 2)
    admin = client_for(tenant.admin)
    for _ in range(2):
        assert 'data-connection-check="ok"' in _test(admin, dovecot, password=PASSWORD).content.decode()

    html = _test(admin, dovecot, password=PASSWORD).content.decode()

    assert "Too many connection tests" in html
    events = AuditEvent.objects.filter(action="support_mailbox.tested", partner=tenant.partner)
    assert [(e.actor, e.data["host"], e.data["ok"]) for e in events] == [(tenant.admin, "127.0.0.1", True)] * 2
    assert PASSWORD not in str(list(events.values_list("data", flat=True)))


def test_test_connection_with_starttls(tenant, client_for, connect_mailbox, dovecot) -> None:
    response = _test(client_for(tenant.admin), dovecot, password=PASSWORD, port=str(dovecot.starttls_port),
                     security="starttls")  # fmt: skip
    assert 'data-connection-check="ok"' in response.content.decode()


def test_test_connection_tries_the_stored_password_when_none_is_entered(
    tenant, client_for, connect_mailbox, dovecot
) -> None:
    mailbox = connect_mailbox(tenant.partner)  # stores the right password
    response = _test(client_for(tenant.admin), dovecot, password="", username=mailbox.username)
    assert 'data-connection-check="ok"' in response.content.decode()


def test_a_wrong_password_is_told_in_a_sentence(tenant, client_for, connect_mailbox, dovecot) -> None:
    response = _test(client_for(tenant.admin), dovecot, password="not-the-password")

    html = response.content.decode()
    assert 'data-connection-check="failed"' in html
    assert "The server refused the user name or password." in html
    assert "Traceback" not in html
    assert "not-the-password" not in html


def test_a_wrong_port_and_a_wrong_folder_are_told_in_sentences(tenant, client_for, connect_mailbox, dovecot) -> None:
    admin = client_for(tenant.admin)
    # IMAPS against the STARTTLS port: the server does not speak TLS first.
    html = _test(admin, dovecot, password=PASSWORD, port=str(dovecot.starttls_port)).content.decode()
    assert "A secure (TLS) connection to 127.0.0.1" in html
    html = _test(admin, dovecot, password=PASSWORD, folder="No Such Folder").content.decode()
    assert "the folder “No Such Folder” could not be opened" in html


def test_the_connection_test_is_in_russian_for_a_russian_reader(tenant, client_for, connect_mailbox, dovecot) -> None:
    tenant.admin.language = "ru"
    tenant.admin.save(update_fields=["language"])
    html = _test(client_for(tenant.admin), dovecot, password="not-the-password").content.decode()
    assert "The server refused" not in html
    assert re.search(r"[А-Яа-я]", html)


# ---- The quarantine pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("agent", 200), ("finance", 403),
                                             ("customer_admin", 403)])  # fmt: skip
def test_admins_and_agents_handle_the_quarantine_others_do_not(tenant, client_for, who, status) -> None:
    email = quarantined(mailbox_of(tenant.partner))
    client = client_for(getattr(tenant, who))
    assert client.get(QUARANTINE_URL).status_code == status
    assert client.get(f"{QUARANTINE_URL}{email.pk}/").status_code == status
    client.post(f"{QUARANTINE_URL}{email.pk}/accept/", {"customer": tenant.customer.pk})
    client.post(f"{QUARANTINE_URL}{email.pk}/drop/")
    email.refresh_from_db()
    assert (email.status != InboundEmail.Status.QUARANTINED) is (status == 200)


def test_the_list_searches_sorts_and_pages(tenant, client_for) -> None:
    mailbox = mailbox_of(tenant.partner)
    for n in range(27):
        quarantined(mailbox, sender=f"sender{n}@elsewhere.test", subject=f"Question {n:02d}")
    quarantined(mailbox, sender="boss@acme.test", subject="Contract renewal")
    decided = quarantined(mailbox, subject="Already dropped")
    inbound_email_drop(email=decided, actor=tenant.agent)
    agent = client_for(tenant.agent)

    first = agent.get(QUARANTINE_URL)
    assert first.context["total"] == 28
    subjects = [e.subject for e in first.context["page"].items]
    assert subjects[0] == "Contract renewal"  # newest first
    assert len(subjects) == 25
    assert "Already dropped" not in first.content.decode()
    oldest = agent.get(QUARANTINE_URL, {"sort": "received"})
    assert oldest.context["page"].items[0].subject == "Question 00"
    found = agent.get(QUARANTINE_URL, {"q": "acme"})
    assert [e.subject for e in found.context["page"].items] == ["Contract renewal"]
    assert found.context["page"].items[0].size > 0


def test_the_detail_shows_the_text_escaped(tenant, client_for) -> None:
    email = quarantined(mailbox_of(tenant.partner), subject="<b>Hi</b>",
                        body="<script>alert('x')</script> Please help")  # fmt: skip
    html = client_for(tenant.agent).get(f"{QUARANTINE_URL}{email.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<b>Hi</b>" not in html
    assert "Please help" in html
    assert "The sender is no contact of any of your customers." in html  # why it is there, in words


def test_accepting_from_the_page_lands_on_the_ticket_and_a_second_post_does_nothing(tenant, client_for) -> None:
    email = quarantined(mailbox_of(tenant.partner))
    agent = client_for(tenant.agent)

    refused = agent.post(f"{QUARANTINE_URL}{email.pk}/accept/", {"customer": ""})
    assert refused.status_code == 400
    assert not Ticket.objects.exists()
    response = agent.post(f"{QUARANTINE_URL}{email.pk}/accept/", {"customer": tenant.customer.pk})

    ticket = Ticket.objects.get(partner=tenant.partner)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/tickets/{ticket.pk}/"
    assert ticket.customer == tenant.customer
    again = agent.post(f"{QUARANTINE_URL}{email.pk}/accept/", {"customer": tenant.other_customer.pk})
    assert again.status_code == 400
    assert "dealt with already" in again.content.decode()
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1


def test_dropping_from_the_page(tenant, client_for) -> None:
    email = quarantined(mailbox_of(tenant.partner))
    response = client_for(tenant.admin).post(f"{QUARANTINE_URL}{email.pk}/drop/")
    assert response["Location"] == QUARANTINE_URL
    email.refresh_from_db()
    assert email.status == InboundEmail.Status.DROPPED
    assert AuditEvent.objects.filter(action="support_mailbox.email_dropped", actor=tenant.admin).exists()


def test_another_partners_email_and_customers_are_out_of_reach(tenant, other_tenant, client_for) -> None:
    theirs = quarantined(mailbox_of(other_tenant.partner), subject="Their secret subject")
    ours = quarantined(mailbox_of(tenant.partner))
    agent = client_for(tenant.agent)

    assert "Their secret subject" not in agent.get(QUARANTINE_URL).content.decode()
    assert agent.get(f"{QUARANTINE_URL}{theirs.pk}/").status_code == 404
    assert agent.post(f"{QUARANTINE_URL}{theirs.pk}/accept/", {"customer": tenant.customer.pk}).status_code == 404
    assert agent.post(f"{QUARANTINE_URL}{theirs.pk}/drop/").status_code == 404
    # Our email, their customer: refused as a choice of the form.
    response = agent.post(f"{QUARANTINE_URL}{ours.pk}/accept/", {"customer": other_tenant.customer.pk})
    assert response.status_code == 400
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (theirs.status, ours.status) == (InboundEmail.Status.QUARANTINED, InboundEmail.Status.QUARANTINED)
    assert not Ticket.objects.exists()
    # Their mailbox's settings never show on our admin's page.
    html = client_for(tenant.admin).get(SETTINGS_URL).content.decode()
    assert "help@beta.test" not in html


def test_an_admin_may_invite_the_sender_to_the_customer_an_agent_may_not(tenant, client_for, on_commit) -> None:
    mailbox = mailbox_of(tenant.partner)
    first = quarantined(mailbox, sender="Olga <Olga@NewDomain.test>")
    second = quarantined(mailbox, sender="ivan@newdomain.test")

    agent_page = client_for(tenant.agent).get(f"{QUARANTINE_URL}{second.pk}/").content.decode()
    assert 'name="invite_sender"' not in agent_page
    client_for(tenant.agent).post(
        f"{QUARANTINE_URL}{second.pk}/accept/", {"customer": tenant.customer.pk, "invite_sender": "on"}
    )
    assert not Invitation.objects.exists()  # ignored: agents do not invite customer users

    admin = client_for(tenant.admin)
    assert 'name="invite_sender"' in admin.get(f"{QUARANTINE_URL}{first.pk}/").content.decode()
    with on_commit():
        admin.post(f"{QUARANTINE_URL}{first.pk}/accept/", {"customer": tenant.other_customer.pk, "invite_sender": "on"})
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.customer, invitation.role) == (
        "olga@newdomain.test", tenant.other_customer, "customer_member"
    )  # fmt: skip
    assert Ticket.objects.filter(customer=tenant.other_customer).count() == 1


def test_inviting_someone_already_on_the_team_still_opens_the_ticket(tenant, client_for) -> None:
    email = quarantined(mailbox_of(tenant.partner), sender=tenant.finance.email)  # staff, no ticket named
    response = client_for(tenant.admin).post(
        f"{QUARANTINE_URL}{email.pk}/accept/", {"customer": tenant.customer.pk, "invite_sender": "on"}, follow=True
    )
    html = response.content.decode()
    assert "The sender was not invited" in html
    assert Ticket.objects.filter(customer=tenant.customer).count() == 1
    assert not Invitation.objects.exists()
