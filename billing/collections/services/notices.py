"""Emailing collections notices: each claimed by one worker, sent once, in the customer's language."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import translation

from billing.collections.models import CollectionRun, CollectionStep, Notice
from billing.collections.services.policy import collection_policy_get
from billing.invoicing import pdf
from billing.invoicing.models import ZERO
from billing.invoicing.services import billing_recipients
from partner_portal import clock
from partner_portal.audit import audit_record

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5  # a notice that failed this often is left for a person to look at
SEND_CLAIM_STALE_AFTER = dt.timedelta(minutes=30)  # a claim older than this belonged to a dead worker


def _claim_notice(notice_id: int) -> bool:
    """Move the notice to `sending`; only the worker whose UPDATE changed the row sends it."""
    now = clock.now()
    claimable = (
        Q(status=Notice.Status.PENDING)
        | Q(status=Notice.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS)
        | Q(status=Notice.Status.SENDING, claimed_at__lt=now - SEND_CLAIM_STALE_AFTER)
    )
    return (
        Notice.objects.filter(claimable, pk=notice_id).update(
            status=Notice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


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
    }  # fmt: skip
    policy = collection_policy_get(partner=partner)
    context.update(suspend_scope=policy.suspend_scope, reactivate_automatically=policy.reactivate_automatically)
    with translation.override(customer.language):
        subject = " ".join(render_to_string("emails/collections_notice_subject.txt", context).split())
        body = render_to_string("emails/collections_notice.txt", context)
        html = render_to_string("emails/collections_notice.html", context)
        attachment = pdf.invoice_pdf(invoice=invoice)
        filename = pdf.invoice_pdf_filename(invoice)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, billing_recipients(customer))
    message.attach_alternative(html, "text/html")
    message.attach(filename, attachment, "application/pdf")
    return message


def collection_notice_send(*, notice_id: int) -> str:
    """Email one notice once. Returns its status afterwards.

    Claimed first with a conditional UPDATE (committed on its own), so two workers never both send
    it. A notice whose invoice was settled meanwhile is cancelled, not sent. A failure leaves the
    notice `failed` with the error, counted on its run; the next run tries again (up to
    MAX_SEND_ATTEMPTS). A worker that dies between the email and the last UPDATE leaves a claim that
    lapses after SEND_CLAIM_STALE_AFTER: only that narrow case can send a notice twice.
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
