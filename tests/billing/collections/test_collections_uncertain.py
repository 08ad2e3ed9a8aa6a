"""A notice is emailed at most once: a worker that dies while sending leaves it `uncertain`, with its
Message-ID, for staff to mark as sent or to send again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from billing.collections.errors import NoticeNotUncertain
from billing.collections.models import Notice
from billing.collections.services import (
    collection_notice_mark_sent,
    collection_notice_send,
    collection_notice_send_again,
)
from billing.invoicing.services import AllocationInput, payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.factories.collections import DUE, invoice_due, run_on

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code that was running: nothing after this point runs."""


def _crash_after_the_server_accepted(monkeypatch) -> None:
    original = EmailMultiAlternatives.send

    def send_then_die(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        original(self, fail_silently)
        raise WorkerKilled

    monkeypatch.setattr(EmailMultiAlternatives, "send", send_then_die)


@pytest.fixture
def uncertain(tenant, monkeypatch, on_commit) -> Notice:
    """A notice whose worker died right after the mail server accepted it, swept an hour later."""
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    with clock.frozen(START):
        run_on(tenant.partner, 7)  # not committed: the notice waits, pending
        notice = Notice.objects.get(invoice=invoice)
        _crash_after_the_server_accepted(monkeypatch)
        with pytest.raises(WorkerKilled):
            collection_notice_send(notice_id=notice.pk)
    monkeypatch.undo()
    with clock.frozen(START + dt.timedelta(hours=1)), on_commit():
        run_on(tenant.partner, 7)  # the next run's sweep
    notice.refresh_from_db()
    return notice


def test_the_message_id_is_stored_before_the_email_leaves(uncertain) -> None:
    [message] = mail.outbox
    assert uncertain.message_id == message.extra_headers["Message-ID"]
    assert message.message()["Message-ID"] == uncertain.message_id
    assert uncertain.message_id.startswith("<")
    assert uncertain.message_id.endswith("@127.0.0.1>")  # the portal's host (PORTAL_BASE_URL)


def test_a_claim_lapsed_while_sending_becomes_uncertain_and_is_not_resent(uncertain) -> None:
    assert uncertain.status == "uncertain"
    assert len(mail.outbox) == 1  # the sweep sent nothing
    event = AuditEvent.objects.get(action="collections.notice_uncertain")
    assert event.data["message_id"] == uncertain.message_id
    assert collection_notice_send(notice_id=uncertain.pk) == "uncertain"  # a late broker message: nothing
    assert len(mail.outbox) == 1


def test_a_recent_claim_is_left_to_its_worker(tenant, on_commit) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    with clock.frozen(START):
        run_on(tenant.partner, 7)
        Notice.objects.filter(invoice=invoice).update(status="sending", claimed_at=clock.now())
    with clock.frozen(START + dt.timedelta(minutes=5)), on_commit():
        run_on(tenant.partner, 7)
    assert Notice.objects.get(invoice=invoice).status == "sending"
    assert mail.outbox == []


def test_an_smtp_refusal_stays_failed_and_is_retried_with_the_same_message_id(tenant, monkeypatch, on_commit):
    invoice = invoice_due(tenant.customer, DUE, "100.00")

    def refuse(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        raise OSError("SMTP server refused the connection")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMultiAlternatives, "send", refuse)
        with clock.frozen(START), on_commit():
            run_on(tenant.partner, 7)
    notice = Notice.objects.get(invoice=invoice)
    assert notice.status == "failed"
    with clock.frozen(START + dt.timedelta(hours=1)), on_commit():
        run_on(tenant.partner, 7)
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == notice.message_id
    notice.refresh_from_db()
    assert notice.status == "sent"


def test_send_again_sends_exactly_once_more_with_a_new_message_id(tenant, uncertain) -> None:
    first_id = uncertain.message_id
    status = collection_notice_send_again(partner_id=tenant.partner.pk, notice_id=uncertain.pk, actor=tenant.finance)
    assert status == "sent"
    assert len(mail.outbox) == 2
    uncertain.refresh_from_db()
    assert uncertain.message_id != first_id
    assert mail.outbox[1].extra_headers["Message-ID"] == uncertain.message_id
    assert uncertain.earlier_message_ids == [first_id]
    event = AuditEvent.objects.get(action="collections.notice_sent_again")
    assert (event.actor_id, event.data["message_id"], event.data["earlier_message_id"]) == (
        tenant.finance.pk,
        uncertain.message_id,
        first_id,
    )
    with pytest.raises(NoticeNotUncertain):  # a second click: nothing more
        collection_notice_send_again(partner_id=tenant.partner.pk, notice_id=uncertain.pk, actor=tenant.finance)
    assert collection_notice_send(notice_id=uncertain.pk) == "sent"
    assert len(mail.outbox) == 2


def test_mark_as_sent_sends_nothing(tenant, uncertain) -> None:
    notice = collection_notice_mark_sent(partner_id=tenant.partner.pk, notice_id=uncertain.pk, actor=tenant.admin)
    assert (notice.status, notice.sent_at) == ("sent", uncertain.claimed_at)
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(action="collections.notice_marked_sent")
    assert (event.actor_id, event.data["message_id"]) == (tenant.admin.pk, uncertain.message_id)
    with pytest.raises(NoticeNotUncertain):
        collection_notice_mark_sent(partner_id=tenant.partner.pk, notice_id=uncertain.pk, actor=tenant.admin)


def test_another_partner_cannot_decide(tenant, other_tenant, uncertain) -> None:
    with pytest.raises(Notice.DoesNotExist):
        collection_notice_mark_sent(partner_id=other_tenant.partner.pk, notice_id=uncertain.pk, actor=None)


# ---- The pages ---------------------------------------------------------------------------------------


def test_the_overview_lists_uncertain_notices_with_their_message_id(tenant, client_for, uncertain) -> None:
    page = client_for(tenant.agent).get(reverse("collections_overview"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-uncertain-count="1"' in html
    assert uncertain.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert reverse("collection_notice_send_again", args=[uncertain.pk]) not in html  # agents only read
    html = client_for(tenant.finance).get(reverse("collections_overview")).content.decode()
    assert reverse("collection_notice_send_again", args=[uncertain.pk]) in html
    assert reverse("collection_notice_mark_sent", args=[uncertain.pk]) in html


def test_the_run_page_shows_the_message_id(tenant, client_for, uncertain) -> None:
    html = client_for(tenant.admin).get(reverse("collection_run_detail", args=[uncertain.run_id])).content.decode()
    assert uncertain.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert reverse("collection_notice_mark_sent", args=[uncertain.pk]) in html


def test_send_again_from_the_page(tenant, client_for, uncertain) -> None:
    response = client_for(tenant.finance).post(reverse("collection_notice_send_again", args=[uncertain.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    uncertain.refresh_from_db()
    assert uncertain.status == "sent"
    again = client_for(tenant.finance).post(reverse("collection_notice_send_again", args=[uncertain.pk]), follow=True)
    assert "Nothing done" in again.content.decode()
    assert len(mail.outbox) == 2


def test_mark_as_sent_from_the_page(tenant, client_for, uncertain) -> None:
    response = client_for(tenant.admin).post(reverse("collection_notice_mark_sent", args=[uncertain.pk]))
    assert response.status_code == 302
    uncertain.refresh_from_db()
    assert uncertain.status == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_roles_that_may_not_run_collections_are_refused(tenant, client_for, uncertain, role) -> None:
    client = client_for(getattr(tenant, role))
    for name in ("collection_notice_mark_sent", "collection_notice_send_again"):
        assert client.post(reverse(name, args=[uncertain.pk])).status_code in (403, 404)
    uncertain.refresh_from_db()
    assert uncertain.status == "uncertain"
    assert len(mail.outbox) == 1


def test_another_partners_staff_get_a_404(other_tenant, client_for, uncertain) -> None:
    for name in ("collection_notice_mark_sent", "collection_notice_send_again"):
        assert client_for(other_tenant.admin).post(reverse(name, args=[uncertain.pk])).status_code == 404
    uncertain.refresh_from_db()
    assert uncertain.status == "uncertain"


def test_send_again_after_the_invoice_was_settled_sends_nothing(tenant, client_for, uncertain) -> None:
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("100.00"), received_on=DUE,
        allocations=[AllocationInput(invoice=uncertain.invoice, amount=Decimal("100.00"))],
    )  # fmt: skip
    page = client_for(tenant.finance).post(reverse("collection_notice_send_again", args=[uncertain.pk]), follow=True)
    assert "its invoice was settled" in page.content.decode()
    uncertain.refresh_from_db()
    assert uncertain.status == "cancelled"
    assert len(mail.outbox) == 1
