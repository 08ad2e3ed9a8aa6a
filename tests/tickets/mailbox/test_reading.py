"""Reading a support mailbox over IMAP (a real Dovecot, tests/tickets/mailbox/dovecot.py) into tickets."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail

from tests.factories.tickets import PNG, ticket
from tests.tickets.mailbox.dovecot import _free_port
from tickets.mailbox.models import InboundEmail, SupportMailbox, TicketEmail
from tickets.mailbox.services import inbound_email_accept, inbound_email_drop, support_mailbox_read
from tickets.models import Ticket, TicketAttachment, TicketMessage

pytestmark = pytest.mark.django_db


def message(
    *, sender: str, to: str, subject: str, body: str, headers: dict[str, str] | None = None,
    files: list[tuple[str, bytes, str]] = (),
) -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for name, content, kind in files:
        maintype, subtype = kind.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def read(mailbox: SupportMailbox, on_commit) -> int:
    with on_commit():
        result = support_mailbox_read(mailbox_id=mailbox.pk)
    assert result.error == ""
    return result.read


QUOTED_REPLY = """Thanks, the invoice is right now.

Best regards,
Ivan

On Mon, 1 Dec 2026 at 10:00, Support <support@partner.test> wrote:
> Please check the invoice again.
"""


def test_a_reply_threads_onto_its_ticket_by_its_headers(tenant, connect_mailbox, dovecot, on_commit) -> None:
    mailbox = connect_mailbox(tenant.partner)
    with on_commit():
        opened = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Invoice total wrong")
    sent = TicketEmail.objects.get(ticket=opened, recipients=[tenant.customer_admin.email])
    confirmation = next(m for m in mail.outbox if m.to == [tenant.customer_admin.email])
    assert confirmation.extra_headers["Message-ID"] == sent.message_id
    assert confirmation.reply_to == [mailbox.address]
    # A subject that names no ticket: the headers alone find it.
    dovecot.append(mailbox.username, message(
        sender=tenant.customer_admin.email, to=mailbox.address, subject="Re: your request", body=QUOTED_REPLY,
        headers={"In-Reply-To": sent.message_id, "References": sent.message_id},
    ))  # fmt: skip
    mail.outbox.clear()

    assert read(mailbox, on_commit) == 1

    reply = TicketMessage.objects.get(ticket=opened)
    assert (reply.author, reply.body, reply.internal) == (
        tenant.customer_admin,
        "Thanks, the invoice is right now.",
        False,
    )
    assert InboundEmail.objects.get().status == InboundEmail.Status.REPLIED
    # The agents hear of it, threaded: it answers the customer's email.
    to_agent = next(m for m in mail.outbox if m.to == [tenant.agent.email])
    assert to_agent.extra_headers["In-Reply-To"] == InboundEmail.objects.get().message_id
    assert to_agent.extra_headers["References"].split()[0] == f"<ticket-{opened.pk}.{tenant.partner.pk}@127.0.0.1>"
    assert to_agent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_reply_threads_onto_its_ticket_by_the_number_in_its_subject(
    tenant, connect_mailbox, dovecot, on_commit
) -> None:
    mailbox = connect_mailbox(tenant.partner)
    opened = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Licence count")
    opened.status = Ticket.Status.PENDING_CUSTOMER
    opened.save()
    dovecot.append(mailbox.username, message(
        sender=tenant.customer_member.email.upper(), to=mailbox.address,
        subject=f"RE: New reply on {opened.reference}: Licence count", body="We need 12 licences.",
    ))  # fmt: skip

    assert read(mailbox, on_commit) == 1

    reply = TicketMessage.objects.get(ticket=opened)
    assert (reply.author, reply.body) == (tenant.customer_member, "We need 12 licences.")
    opened.refresh_from_db()
    assert opened.status == Ticket.Status.OPEN  # the customer answered: no longer waiting on them


def test_the_ticket_number_of_another_customer_does_not_let_a_sender_in(
    tenant, connect_mailbox, dovecot, on_commit
) -> None:
    mailbox = connect_mailbox(tenant.partner)
    theirs = ticket(tenant.other_customer, opened_by=tenant.other_customer_admin, subject="Private")
    dovecot.append(mailbox.username, message(
        sender=tenant.customer_admin.email, to=mailbox.address, subject=f"Re: {theirs.reference}", body="Hi",
    ))  # fmt: skip

    read(mailbox, on_commit)

    assert TicketMessage.objects.filter(ticket=theirs).count() == 0
    assert InboundEmail.objects.get().status == InboundEmail.Status.QUARANTINED


def test_a_new_email_from_a_customer_contact_opens_a_ticket_with_its_files(
    tenant, connect_mailbox, dovecot, on_commit
) -> None:
    mailbox = connect_mailbox(tenant.partner)
    tenant.other_customer.billing_email = "accounts@two.test"
    tenant.other_customer.save()
    dovecot.append(mailbox.username, message(
        sender="Accounts <accounts@two.test>", to=mailbox.address, subject="Charged twice in November",
        body="We were charged twice.\n\n--\nAccounts team\n", files=[("screen.png", PNG, "image/png"),
                                                                 ("run.exe", b"MZ\x90\x00", "application/octet-stream")],
    ))  # fmt: skip

    assert read(mailbox, on_commit) == 1

    opened = Ticket.objects.get(partner=tenant.partner)
    assert (opened.customer, opened.subject, opened.opened_by) == (
        tenant.other_customer,
        "Charged twice in November",
        None,
    )
    assert opened.description == "Sent by email from Accounts <accounts@two.test>.\n\nWe were charged twice."
    assert list(TicketAttachment.objects.filter(ticket=opened).values_list("original_name", flat=True)) == [
        "screen.png"
    ]
    note = TicketMessage.objects.get(ticket=opened)
    assert note.internal
    assert "run.exe" in note.body
    # The confirmation goes to the billing contact and threads with the customer's email.
    confirmation = next(m for m in mail.outbox if m.to == ["accounts@two.test"])
    assert confirmation.extra_headers["In-Reply-To"] == InboundEmail.objects.get().message_id


def test_an_unknown_sender_is_quarantined_and_staff_accept_or_drop(tenant, connect_mailbox, dovecot, on_commit) -> None:
    mailbox = connect_mailbox(tenant.partner)
    for subject in ("Question about Azure", "Buy cheap watches"):
        dovecot.append(mailbox.username, message(
            sender="someone@unknown.test", to=mailbox.address, subject=subject, body="Hello",
        ))  # fmt: skip
    mail.outbox.clear()

    assert read(mailbox, on_commit) == 2

    assert Ticket.objects.filter(partner=tenant.partner).count() == 0
    assert mail.outbox == []  # nobody is answered from the quarantine
    question, spam = InboundEmail.objects.order_by("uid")
    assert (question.status, question.reason) == (InboundEmail.Status.QUARANTINED, "unknown sender")
    with on_commit():
        opened = inbound_email_accept(email=question, customer=tenant.customer, actor=tenant.agent)
    assert (opened.customer, opened.subject) == (tenant.customer, "Question about Azure")
    inbound_email_drop(email=spam, actor=tenant.agent)
    assert sorted(InboundEmail.objects.values_list("status", flat=True)) == ["accepted", "dropped"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied", "Subject": "Out of office"},
        {"Precedence": "bulk"},
        {"From": "MAILER-DAEMON@customer.test", "Subject": "Undelivered Mail Returned to Sender"},
    ],
    ids=["auto-reply", "bulk", "bounce"],
)
def test_auto_replies_and_bounces_create_nothing(tenant, connect_mailbox, dovecot, on_commit, headers) -> None:
    mailbox = connect_mailbox(tenant.partner)
    opened = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Licence count")
    raw = message(
        sender=headers.pop("From", tenant.customer_admin.email), to=mailbox.address,
        subject=headers.pop("Subject", f"Re: {opened.reference}"), body="I am away until Monday.", headers=headers,
    )  # fmt: skip
    dovecot.append(mailbox.username, raw)
    mail.outbox.clear()

    assert read(mailbox, on_commit) == 1

    assert TicketMessage.objects.filter(ticket=opened).count() == 0
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1
    assert InboundEmail.objects.get().status == InboundEmail.Status.IGNORED
    assert mail.outbox == []  # and nothing answers it: no loop


def test_a_delivery_report_creates_nothing(tenant, connect_mailbox, dovecot, on_commit) -> None:
    mailbox = connect_mailbox(tenant.partner)
    report = (
        f"From: Mail Delivery System <bounces@customer.test>\r\nTo: {mailbox.address}\r\n"
        "Subject: Delivery Status Notification (Failure)\r\nMessage-ID: <dsn-1@customer.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n"
        "Final-Recipient: rfc822; gone@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    ).encode()
    dovecot.append(mailbox.username, report)

    read(mailbox, on_commit)

    assert (InboundEmail.objects.get().status, InboundEmail.objects.get().reason) == ("ignored", "delivery report")
    assert Ticket.objects.filter(partner=tenant.partner).count() == 0


def test_the_same_message_fetched_twice_is_stored_once(tenant, connect_mailbox, dovecot, on_commit) -> None:
    mailbox = connect_mailbox(tenant.partner)
    raw = message(sender=tenant.customer_admin.email, to=mailbox.address, subject="Renewal", body="When?")
    dovecot.append(mailbox.username, raw)
    dovecot.append(mailbox.username, raw)  # delivered twice: two UIDs, one Message-ID

    assert read(mailbox, on_commit) == 2
    mailbox.refresh_from_db()
    mailbox.last_uid = 0  # as if the progress had been lost: everything is fetched again
    mailbox.save()
    assert read(mailbox, on_commit) == 2

    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1


def test_a_mailbox_that_is_down_leaves_nothing_half_done_and_is_read_next_time(
    tenant, connect_mailbox, dovecot, on_commit
) -> None:
    mailbox = connect_mailbox(tenant.partner, port=_free_port())  # nothing listens there
    dovecot.append(mailbox.username, message(
        sender=tenant.customer_admin.email, to=mailbox.address, subject="Renewal", body="When?",
    ))  # fmt: skip

    result = support_mailbox_read(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert result.read == 0
    assert "cannot connect" in mailbox.last_error
    assert (mailbox.failures, mailbox.last_uid, mailbox.locked_until) == (1, 0, None)
    assert InboundEmail.objects.count() == 0
    assert Ticket.objects.filter(partner=tenant.partner).count() == 0
    # The server is back (here: the right port): the next run reads what was waiting.
    SupportMailbox.objects.filter(pk=mailbox.pk).update(port=dovecot.port)
    assert read(mailbox, on_commit) == 1
    mailbox.refresh_from_db()
    assert (mailbox.failures, mailbox.last_error) == (0, "")
    assert Ticket.objects.filter(partner=tenant.partner).count() == 1


def test_a_wrong_password_is_reported_and_nothing_is_read(tenant, connect_mailbox, dovecot) -> None:
    mailbox = connect_mailbox(tenant.partner, password="wrong")
    dovecot.append(mailbox.username, message(sender=tenant.customer_admin.email, to=mailbox.address,
                                             subject="Hi", body="Hi"))  # fmt: skip

    result = support_mailbox_read(mailbox_id=mailbox.pk)

    assert result.error != ""
    assert InboundEmail.objects.count() == 0
