"""The site operator connects a partner's support mailbox and decides the quarantine in the Django admin."""

from __future__ import annotations

import pytest
from django.test import Client

from partner_portal.models import AuditEvent, User
from subscriptions.secrets import secret_decrypt
from tests.conftest import Tenant
from tests.tickets.mailbox.test_reading import message
from tickets.mailbox.models import InboundEmail, SupportMailbox
from tickets.mailbox.services import inbound_email_process
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

FORM = {"address": "Support@Partner.test", "host": "imap.partner.test", "port": "993", "security": "tls",
        "username": "support@partner.test", "folder": "INBOX", "active": "on"}  # fmt: skip


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.com", "a-long-password-42"))
    return client


def test_the_operator_connects_a_mailbox_and_the_password_is_never_shown_back(tenant: Tenant, operator) -> None:
    refused = operator.post("/admin/tickets/supportmailbox/add/", {**FORM, "partner": tenant.partner.pk})
    assert refused.status_code == 200
    assert not SupportMailbox.objects.exists()
    operator.post("/admin/tickets/supportmailbox/add/", {**FORM, "partner": tenant.partner.pk, "password": "s3cret-pw"})
    mailbox = SupportMailbox.objects.get(partner=tenant.partner)
    assert mailbox.address == "support@partner.test"
    assert "s3cret-pw" not in mailbox.password_encrypted
    assert secret_decrypt(mailbox.password_encrypted) == "s3cret-pw"
    page = operator.get(f"/admin/tickets/supportmailbox/{mailbox.pk}/change/")
    assert page.status_code == 200
    assert b"s3cret-pw" not in page.content
    assert mailbox.password_encrypted.encode() not in page.content
    operator.post(f"/admin/tickets/supportmailbox/{mailbox.pk}/change/", {**FORM, "port": "995"})  # keeps it
    moved = operator.post(f"/admin/tickets/supportmailbox/{mailbox.pk}/change/", {**FORM, "host": "imap.other.test"})
    assert moved.status_code == 200  # refused: the stored password never goes to another server
    assert b"Enter the password again" in moved.content
    mailbox.refresh_from_db()
    assert (mailbox.port, secret_decrypt(mailbox.password_encrypted)) == (995, "s3cret-pw")
    saved = AuditEvent.objects.filter(action="support_mailbox.saved", partner=tenant.partner)
    assert saved.count() == 2
    assert "s3cret-pw" not in str(list(saved.values_list("data", flat=True)))


def test_the_operator_accepts_or_drops_quarantined_emails(tenant: Tenant, operator) -> None:
    operator.post("/admin/tickets/supportmailbox/add/", {**FORM, "partner": tenant.partner.pk, "password": "pw"})
    mailbox = SupportMailbox.objects.get(partner=tenant.partner)
    emails = [
        inbound_email_process(mailbox_id=mailbox.pk, uidvalidity=1, uid=uid, raw=message(
            sender=f"stranger{uid}@elsewhere.test", to=mailbox.address, subject=f"Help {uid}", body="Please call me."))
        for uid in (1, 2)
    ]  # fmt: skip
    assert [e.status for e in emails if e] == [InboundEmail.Status.QUARANTINED] * 2
    first, second = emails[0], emails[1]
    assert first is not None
    assert second is not None
    url = "/admin/tickets/inboundemail/"
    operator.post(url, {"action": "accept", "_selected_action": [first.pk], "customer": ""})  # no customer chosen
    operator.post(url, {"action": "accept", "_selected_action": [first.pk], "customer": tenant.customer.pk})
    operator.post(url, {"action": "drop", "_selected_action": [second.pk, first.pk]})  # the accepted one stays
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (InboundEmail.Status.ACCEPTED, InboundEmail.Status.DROPPED)
    assert Ticket.objects.get(pk=first.ticket_id).customer == tenant.customer
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1
