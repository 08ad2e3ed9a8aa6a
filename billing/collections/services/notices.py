"""Emailing collections notices: each claimed by one worker, sent at most once, in the customer's language.

The claim stores the email's Message-ID before the email leaves. A claim that lapses while `sending`
(the worker died, perhaps after the mail server took the message) is never resent by itself: the
run's sweep makes it `uncertain`, and staff either mark it sent (they found the Message-ID in the mail
log) or send it again with a new Message-ID.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.template.loader import render_to_string
from django.utils import translation

from billing.collections.errors import NoticeNotUncertain
from billing.collections.models import CollectionRun, CollectionStep, Notice
from billing.collections.services.policy import collection_policy_get
from billing.invoicing import pdf
from billing.invoicing.models import ZERO
from billing.invoicing.paylink import invoice_pay_url
from billing.invoicing.services import billing_recipients
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import User

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5  # a notice that failed this often is left for a person to look at
SEND_CLAIM_STALE_AFTER = dt.timedelta(minutes=30)  # a claim older than this belonged to a dead worker


def notice_message_id() -> str:
    """A new Message-ID in the portal's own domain (PORTAL_BASE_URL's host)."""
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "portal.invalid"
    return make_msgid(idstring="notice", domain=domain)


def _claim_notice(notice_id: int) -> bool:
    """Move the notice to `sending` with its Message-ID (kept if it has one: a retry after a refused
    send is the same email); only the worker whose UPDATE changed the row sends it. A lapsed `sending`
    claim is not claimable: the email may have left (see notices_uncertain_mark)."""
    now = clock.now()
    claimable = Q(status=Notice.Status.PENDING) | Q(status=Notice.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS)
    message_id = Coalesce(NullIf(F("message_id"), Value("")), Value(notice_message_id()))
    claimed = Notice.objects.filter(claimable, pk=notice_id).update(
        status=Notice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, message_id=message_id
    )
    return claimed == 1


def notices_uncertain_mark(*, partner_id: int) -> list[int]:
    """Claims of the partner's notices that lapsed while `sending` become `uncertain`, audited; their ids.

    The worker died between the claim and recording the outcome, so the mail server may have the
    email: sending it again could email the customer twice. Staff decide (mark sent / send again).
    """
    stale = clock.now() - SEND_CLAIM_STALE_AFTER
    with transaction.atomic():
        notices = list(
            Notice.objects.select_for_update(skip_locked=True)
            .filter(partner_id=partner_id, status=Notice.Status.SENDING, claimed_at__lt=stale)
            .select_related("invoice", "customer", "partner")
            .order_by("pk")
        )
        if not notices:
            return []
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(status=Notice.Status.UNCERTAIN)
        for notice in notices:
            audit_record(
                partner=notice.partner, customer=notice.customer, action="collections.notice_uncertain",
                target=notice, data={"invoice": notice.invoice.number, "message_id": notice.message_id,
                                     "claimed_at": notice.claimed_at.isoformat() if notice.claimed_at else None},
            )  # fmt: skip
    return [n.pk for n in notices]


def collection_notice_message(*, notice: Notice) -> EmailMultiAlternatives:
    """The notice's email (text, HTML, the invoice PDF) in the customer's language, ready to send."""
    invoice, customer, partner = notice.invoice, notice.customer, notice.partner
    next_action = notice.next_action
    if next_action == CollectionStep.Action.SUSPEND and customer.collections_exempt:
        next_action = ""  # never suspended: do not threaten it
    context = {
        "notice": notice, "invoice": invoice, "customer": customer, "partner": partner,
        "days_late": max(notice.days_overdue, 0), "days_left": max(-notice.days_overdue, 0),
        "next_action": next_action, "next_action_date": notice.next_action_date,
        "pay_url": invoice_pay_url(invoice),
    }  # fmt: skip
    policy = collection_policy_get(partner=partner)
    context.update(suspend_scope=policy.suspend_scope, reactivate_automatically=policy.reactivate_automatically)
    with translation.override(customer.language):
        subject = " ".join(render_to_string("emails/collections_notice_subject.txt", context).split())
        body = render_to_string("emails/collections_notice.txt", context)
        html = render_to_string("emails/collections_notice.html", context)
        attachment = pdf.invoice_pdf(invoice=invoice)
        filename = pdf.invoice_pdf_filename(invoice)
    headers = {"Message-ID": notice.message_id} if notice.message_id else None
    message = EmailMultiAlternatives(
        subject, body, settings.DEFAULT_FROM_EMAIL, billing_recipients(customer), headers=headers
    )
    message.attach_alternative(html, "text/html")
    message.attach(filename, attachment, "application/pdf")
    return message


def collection_notice_send(*, notice_id: int) -> str:
    """Email one notice once. Returns its status afterwards.

    Claimed first with a conditional UPDATE (committed on its own), so two workers never both send
    it. A notice whose invoice was settled meanwhile is cancelled, not sent. A failure leaves the
    notice `failed` with the error, counted on its run; the next run tries again (up to
    MAX_SEND_ATTEMPTS). A worker that dies between the claim and the last UPDATE leaves a claim that
    lapses after SEND_CLAIM_STALE_AFTER; the run's sweep then makes the notice `uncertain` rather
    than sending it twice (see notices_uncertain_mark).
    """
    if not _claim_notice(notice_id):
        return str(Notice.objects.filter(pk=notice_id).values_list("status", flat=True).first() or "")
    notice = Notice.objects.select_related("invoice", "customer", "partner").get(pk=notice_id)
    if not notice.invoice.is_open or notice.invoice.balance <= ZERO:
        Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.CANCELLED)
        return Notice.Status.CANCELLED
    try:
        message = collection_notice_message(notice=notice)
        if not message.to:
            raise ValueError("the customer has no billing email and no customer admin")
        message.send()
    except Exception as exc:
        logger.exception("collections notice %s could not be sent", notice.pk)
        with transaction.atomic():
            Notice.objects.filter(pk=notice.pk).update(
                status=Notice.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
            )
            if notice.run_id:
                CollectionRun.objects.filter(pk=notice.run_id).update(errors_count=F("errors_count") + 1)
        return Notice.Status.FAILED
    with transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(
            status=Notice.Status.SENT, sent_at=clock.now(), recipient=", ".join(message.to)[:254], error=""
        )
        if notice.run_id:
            CollectionRun.objects.filter(pk=notice.run_id).update(notices_sent=F("notices_sent") + 1)
        audit_record(
            partner=notice.partner, customer=notice.customer, action="collections.notice_sent", target=notice,
            data={"invoice": notice.invoice.number, "action": notice.action, "offset_days": notice.offset_days,
                  "amount_due": str(notice.amount_due), "to": message.to},
        )  # fmt: skip
    return Notice.Status.SENT


def collection_notices_send(*, notice_ids: Sequence[int]) -> dict[str, int]:
    """Send several notices (see collection_notice_send); the count of each resulting status."""
    counts: dict[str, int] = defaultdict(int)
    for notice_id in notice_ids:
        counts[collection_notice_send(notice_id=notice_id)] += 1
    return dict(counts)


def _uncertain_notice(*, partner_id: int, notice_id: int) -> Notice:
    notice = (
        Notice.objects.select_for_update(of=("self",))
        .select_related("invoice", "customer", "partner")
        .filter(partner_id=partner_id, pk=notice_id)
        .first()
    )
    if notice is None:
        raise Notice.DoesNotExist(notice_id)
    if notice.status != Notice.Status.UNCERTAIN:
        raise NoticeNotUncertain(notice.get_status_display())
    return notice


def collection_notice_mark_sent(*, partner_id: int, notice_id: int, actor: User | None) -> Notice:
    """Staff found an uncertain notice's Message-ID in the mail log: it was sent. Emails nothing; audited."""
    with transaction.atomic():
        notice = _uncertain_notice(partner_id=partner_id, notice_id=notice_id)
        notice.status = Notice.Status.SENT
        notice.sent_at = notice.claimed_at or clock.now()
        notice.recipient = ", ".join(billing_recipients(notice.customer))[:254]
        notice.error = ""
        notice.save(update_fields=["status", "sent_at", "recipient", "error"])
        if notice.run_id:
            CollectionRun.objects.filter(pk=notice.run_id).update(notices_sent=F("notices_sent") + 1)
        audit_record(
            partner=notice.partner, customer=notice.customer, actor=actor, action="collections.notice_marked_sent",
            target=notice, data={"invoice": notice.invoice.number, "message_id": notice.message_id},
        )  # fmt: skip
    return notice


def collection_notice_send_again(*, partner_id: int, notice_id: int, actor: User | None) -> str:
    """Staff did not find an uncertain notice in the mail log: email it once more, with a new Message-ID
    (the earlier one is kept on the notice and in the audit). Returns the notice's status afterwards."""
    with transaction.atomic():
        notice = _uncertain_notice(partner_id=partner_id, notice_id=notice_id)
        earlier = notice.message_id
        notice.earlier_message_ids = [*notice.earlier_message_ids, *([earlier] if earlier else [])]
        notice.message_id = notice_message_id()
        notice.status = Notice.Status.PENDING
        notice.save(update_fields=["earlier_message_ids", "message_id", "status"])
        audit_record(
            partner=notice.partner, customer=notice.customer, actor=actor, action="collections.notice_sent_again",
            target=notice, data={"invoice": notice.invoice.number, "message_id": notice.message_id,
                                 "earlier_message_id": earlier},
        )  # fmt: skip
    # Committed first: the claim (pending -> sending) then makes this the one send, whoever calls it.
    return collection_notice_send(notice_id=notice_id)
