"""The scheduled escalation checks: automatic escalation past the resolution target, and breach notices.

Safe to run twice, concurrently or after a crash:
- a ticket is escalated automatically once, ever: the ticket row is locked while it is escalated and
  a partial unique constraint allows one automatic escalation per ticket;
- a breach notice goes out once per ticket and kind: the (ticket, kind) unique constraint decides
  which run sends it (get_or_create), and the email is sent after that row commits.
Notices are sent only within the offering's business hours: a breach at night or at a weekend is
notified by the first run after the desk opens.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from escalation.errors import EscalationNotAllowed, EscalationNotEntitled
from escalation.models import BreachNotice, Escalation
from escalation.services.escalations import ticket_escalate
from escalation.services.routing import TECHNICAL_CATEGORY, escalation_route
from partner_portal import clock
from partner_portal.jobs import for_each_partner
from partner_portal.models import Membership, Partner, Role, User
from tickets.models import Ticket
from tickets.services import support_offering_get
from tickets.sla import NoBusinessHours, is_business_time

logger = logging.getLogger(__name__)

BATCH = 200  # tickets per step and run; the next run (minutes later) takes the rest
NOTIFIED_ROLES = (Role.SUPPORT_AGENT, Role.PARTNER_ADMIN)
WORKING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)  # not paused, not already with Microsoft


@dataclass
class CheckResult:
    escalated: list[int] = field(default_factory=list)  # escalation ids
    not_entitled: list[int] = field(default_factory=list)  # ticket ids past due that could not be escalated
    notices: list[int] = field(default_factory=list)  # breach notice ids sent

    def merge(self, other: CheckResult) -> None:
        self.escalated += other.escalated
        self.not_entitled += other.not_entitled
        self.notices += other.notices


def _has_escalation() -> Exists:
    return Exists(Escalation.objects.filter(ticket_id=OuterRef("pk")))


def _has_notice(kind: str) -> Exists:
    return Exists(BreachNotice.objects.filter(ticket_id=OuterRef("pk"), kind=kind))


def _overdue(partner: Partner, at: dt.datetime) -> QuerySet[Ticket]:
    """Tickets of the partner past their resolution target and still being worked (the clock running)."""
    return Ticket.objects.for_partner(partner).filter(
        status__in=WORKING_STATUSES, resolution_due__lte=at, sla_paused_at__isnull=True
    )


def escalation_checks_run(
    *, at: dt.datetime | None = None, partner_slug: str | None = None
) -> list[tuple[Partner, CheckResult]]:
    """Run the checks of every partner (or the one named), each on its own; the task and the command call this."""
    moment = at or clock.now()
    return for_each_partner(lambda p: escalation_checks_run_partner(partner=p, at=moment), slug=partner_slug)


def escalation_checks_run_partner(*, partner: Partner, at: dt.datetime) -> CheckResult:
    result = CheckResult()
    with clock.frozen(at):
        result.escalated = _escalate_overdue(partner=partner, at=at, refused=result.not_entitled)
        offering = support_offering_get(partner)
        try:
            open_now = is_business_time(offering, at)
        except NoBusinessHours:
            open_now = False
        if open_now:
            result.notices = _send_notices(partner=partner, at=at, not_entitled=result.not_entitled)
    return result


def _escalate_overdue(*, partner: Partner, at: dt.datetime, refused: list[int]) -> list[int]:
    """Escalate the overdue tickets; `refused` gets those the partner has no entitlement for.

    Routing does not depend on the ticket beyond its category, so it is tried once per run: with no
    technical entitlement, technical tickets are not attempted (and do not crowd out the batch).
    """
    escalated: list[int] = []
    try:
        escalation_route(partner=partner, category=TECHNICAL_CATEGORY, on=clock.today(partner.time_zone))
        technical_ok = True
    except EscalationNotEntitled:
        technical_ok = False
    overdue = _overdue(partner, at).filter(~_has_escalation()).order_by("resolution_due", "pk")
    if not technical_ok:
        refused += list(
            overdue.filter(category=TECHNICAL_CATEGORY)
            .filter(~_has_notice(BreachNotice.Kind.NOT_ENTITLED))
            .values_list("pk", flat=True)[:BATCH]
        )
        overdue = overdue.exclude(category=TECHNICAL_CATEGORY)
    for ticket in list(overdue[:BATCH]):
        reason = _("Not resolved by its resolution target (%(due)s): escalated automatically.") % {
            "due": ticket.resolution_due.isoformat() if ticket.resolution_due else ""
        }
        try:
            escalation = ticket_escalate(ticket=ticket, reason=reason, actor=None, automatic=True)
        except EscalationNotEntitled:
            refused.append(ticket.pk)  # an entitlement ended between the check above and now
        except (EscalationNotAllowed, IntegrityError):
            continue  # another run escalated it (or it was resolved) in the meantime
        else:
            escalated.append(escalation.pk)
            logger.info("ticket %s escalated automatically to %s", ticket.reference, escalation.tier.code)
    return escalated


def _send_notices(*, partner: Partner, at: dt.datetime, not_entitled: list[int]) -> list[int]:
    base = Ticket.objects.for_partner(partner).filter(status__in=Ticket.ACTIVE_STATUSES, sla_paused_at__isnull=True)
    first_response = base.filter(first_responded_at__isnull=True, first_response_due__lte=at).filter(
        ~_has_notice(BreachNotice.Kind.FIRST_RESPONSE)
    )
    resolution = base.filter(resolution_due__lte=at).filter(~_has_notice(BreachNotice.Kind.RESOLUTION))
    refused = (
        _overdue(partner, at)
        .filter(~_has_escalation())
        .filter(~_has_notice(BreachNotice.Kind.NOT_ENTITLED), pk__in=not_entitled)
    )
    sent: list[int] = []
    for kind, qs in (
        (BreachNotice.Kind.FIRST_RESPONSE, first_response),
        (BreachNotice.Kind.RESOLUTION, resolution),
        (BreachNotice.Kind.NOT_ENTITLED, refused),
    ):
        for ticket in qs.select_related("assignee").order_by("pk")[:BATCH]:
            notice = _notice_record(ticket=ticket, kind=kind)
            if notice is not None:
                sent.append(notice.pk)
    return sent


def _detail(ticket: Ticket, kind: str) -> str:
    if kind != BreachNotice.Kind.NOT_ENTITLED:
        return ""
    try:
        escalation_route(partner=ticket.partner, category=ticket.category, on=clock.today(ticket.partner.time_zone))
    except EscalationNotEntitled as exc:
        return str(exc)
    return ""


@transaction.atomic
def _notice_record(*, ticket: Ticket, kind: str) -> BreachNotice | None:
    """Record the notice; the run that inserts the row sends it, after commit. None if sent before."""
    recipients = breach_notice_recipients(ticket=ticket)
    notice, created = BreachNotice.objects.get_or_create(
        ticket=ticket,
        kind=kind,
        defaults={
            "partner_id": ticket.partner_id, "detail": _detail(ticket, kind), "sent_at": clock.now(),
            "recipients": [u.email for u in recipients],
        },
    )  # fmt: skip
    if not created:
        return None
    from escalation.tasks import breach_notice_send_task  # tasks import the services

    transaction.on_commit(lambda: breach_notice_send_task.delay(notice_id=notice.pk))
    return notice


def breach_notice_recipients(*, ticket: Ticket) -> list[User]:
    """The ticket's assignee, or with none the partner's support agents and admins (active users)."""
    assignee = ticket.assignee
    if assignee is not None and assignee.is_active:
        return [assignee]
    members = (
        Membership.objects.for_partner(ticket.partner)
        .filter(customer__isnull=True, role__in=NOTIFIED_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    return [m.user for m in members]


def breach_notice_send(*, notice_id: int) -> int:
    """Email the notice to each recipient in that person's language. Returns the number of emails sent."""
    notice = (
        BreachNotice.objects.select_related("ticket__customer", "ticket__partner", "ticket__assignee")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        return 0
    ticket = notice.ticket
    escalation = Escalation.objects.filter(ticket=ticket).select_related("tier").order_by("-created_at").first()
    users = {u.email: u for u in breach_notice_recipients(ticket=ticket)}
    # Links in emails need the portal's public address (settings.PORTAL_BASE_URL).
    base_url = str(settings.PORTAL_BASE_URL).rstrip("/")
    sent = 0
    for email in notice.recipients:
        user = users.get(email)
        language = user.language if user is not None else ticket.partner.locale
        context = {
            "notice": notice, "ticket": ticket, "partner": ticket.partner, "escalation": escalation,
            "ticket_url": base_url + reverse("ticket_detail", args=[ticket.pk]),
        }  # fmt: skip
        with translation.override(language):
            subject = render_to_string("emails/escalation_breach_subject.txt", context).strip()
            body = render_to_string("emails/escalation_breach.txt", context)
            html = render_to_string("emails/escalation_breach.html", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], html_message=html)
        sent += 1
    return sent


__all__ = [
    "CheckResult",
    "breach_notice_recipients",
    "breach_notice_send",
    "escalation_checks_run",
    "escalation_checks_run_partner",
]
