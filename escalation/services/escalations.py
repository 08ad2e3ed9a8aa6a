"""Escalating a ticket to Microsoft and keeping the case up to date. Every change is audited."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from escalation.errors import EscalationInvalid, EscalationNotAllowed
from escalation.models import Entitlement, Escalation
from escalation.services.routing import escalation_route
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import User
from tickets.models import Ticket
from tickets.services import ticket_status_change

# Microsoft case numbers are digits (e.g. 2611280010001234); some channels add letters or dashes.
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")

# Where an escalation may go next. Closed is final; a resolved case can still be reopened at Microsoft.
TRANSITIONS: dict[str, frozenset[str]] = {
    Escalation.Status.TO_FILE: frozenset({"filed", "in_progress", "resolved", "closed"}),
    Escalation.Status.FILED: frozenset({"in_progress", "resolved", "closed"}),
    Escalation.Status.IN_PROGRESS: frozenset({"filed", "resolved", "closed"}),
    Escalation.Status.RESOLVED: frozenset({"in_progress", "closed"}),
    Escalation.Status.CLOSED: frozenset(),
}
NEEDS_CASE_NUMBER = frozenset({Escalation.Status.FILED, Escalation.Status.IN_PROGRESS, Escalation.Status.RESOLVED})


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, reason: str, actor: User | None, automatic: bool = False) -> Escalation:
    """Route the ticket to the Microsoft tier it needs, open an escalation and mark the ticket escalated.

    Refused with EscalationNotEntitled (technical ticket, no valid entitlement) or EscalationNotAllowed
    (resolved or closed, already with Microsoft; for `automatic`, escalated at any time before):
    then nothing changes. The ticket row is locked, so two escalations of one ticket queue and the
    second is refused. The customer is told the status by the tickets app; the case stays internal.
    """
    reason = reason.strip()
    if not reason:
        raise EscalationInvalid(_("Say why the ticket needs Microsoft: the reason goes into the case."))
    # Only the ticket's row (here and in the tickets app): with its partner locked too, concurrent runs
    # deadlocked against each other's inserts, which take key-share locks on the partner.
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=ticket.pk)
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise EscalationNotAllowed(
            _("%(ticket)s is %(status)s: reopen it before escalating it.")
            % {"ticket": ticket.reference, "status": ticket.get_status_display().lower()}
        )
    earlier = Escalation.objects.filter(ticket=ticket)
    if earlier.open().exists():
        raise EscalationNotAllowed(
            _("%(ticket)s is already escalated to Microsoft; update that escalation instead.")
            % {"ticket": ticket.reference}
        )
    if automatic and earlier.exists():
        # An escalation once made, even closed since, is not repeated by the scheduled job.
        raise EscalationNotAllowed(_("%(ticket)s was escalated before.") % {"ticket": ticket.reference})
    partner = ticket.partner
    routed_on = clock.today(partner.time_zone)
    route = escalation_route(
        partner=partner, category=ticket.category, on=routed_on, product_family=ticket.product_family
    )
    while route.entitlement is not None and route.entitlement.incidents_remaining is not None:
        # Take one incident only if one is left (set-based: two escalations at once cannot both take the last).
        taken = Entitlement.objects.filter(pk=route.entitlement.pk, incidents_remaining__gt=0).update(
            incidents_remaining=F("incidents_remaining") - 1
        )
        if taken:
            break
        # used up meanwhile
        route = escalation_route(
            partner=partner, category=ticket.category, on=routed_on, product_family=ticket.product_family
        )
    escalation = Escalation.objects.create(
        partner=partner, ticket=ticket, tier=route.tier, entitlement=route.entitlement, channel=route.channel,
        reason=reason, automatic=automatic, routed_on=routed_on, created_by=actor,
    )  # fmt: skip
    if ticket.status != Ticket.Status.ESCALATED:
        ticket_status_change(
            ticket=ticket, status=Ticket.Status.ESCALATED, actor=actor,
            note=_("Escalated to Microsoft: %(tier)s") % {"tier": route.tier.display_name},
        )  # fmt: skip
    audit_record(
        partner=partner, customer=ticket.customer, actor=actor, action="escalation.created", target=escalation,
        data={
            "ticket": ticket.reference, "tier": route.tier.code, "automatic": automatic, "reason": reason,
            "entitlement": route.entitlement.pk if route.entitlement else None,
        },
    )  # fmt: skip
    return escalation


@transaction.atomic
def escalation_update(
    *,
    escalation: Escalation,
    actor: User | None,
    microsoft_case_number: str | None = None,
    status: str | None = None,
) -> Escalation:
    """Record the Microsoft case number and where the case stands. None leaves a field as it is.

    Entering a case number on an escalation still to file marks it filed. Filed, in progress and
    resolved need a case number (one never filed can be closed without); closed is final. Audited with
    what changed. When the case ends (resolved or closed) an escalated ticket goes back to open.
    """
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("ticket__customer", "tier", "partner")
        .get(pk=escalation.pk)
    )
    changes: dict[str, list[str]] = {}
    if microsoft_case_number is not None:
        number = microsoft_case_number.strip()
        if number and not CASE_NUMBER.match(number):
            raise EscalationInvalid(
                _("A Microsoft case number is 3 to 40 letters, digits or dashes, e.g. 2611280010001234.")
            )
        if number != escalation.microsoft_case_number:
            if escalation.status == Escalation.Status.CLOSED:
                raise EscalationInvalid(_("This escalation is closed and can no longer change."))
            changes["microsoft_case_number"] = [escalation.microsoft_case_number, number]
            escalation.microsoft_case_number = number
            if (
                number
                and escalation.status == Escalation.Status.TO_FILE
                and status in (None, Escalation.Status.TO_FILE)
            ):
                status = Escalation.Status.FILED  # a case number means it was filed
    if status is not None and status != escalation.status:
        if status not in Escalation.Status.values:
            raise EscalationInvalid(_("Unknown status %(status)s.") % {"status": status})
        if status not in TRANSITIONS[escalation.status]:
            raise EscalationInvalid(
                _("An escalation that is %(current)s cannot become %(new)s.")
                % {
                    "current": escalation.get_status_display().lower(),
                    "new": Escalation.Status(status).label.lower(),
                }
            )
        reopened = escalation.status == Escalation.Status.RESOLVED
        if (
            reopened
            and Escalation.objects.filter(ticket_id=escalation.ticket_id)
            .exclude(pk=escalation.pk)
            .exclude(status__in=[Escalation.Status.RESOLVED, Escalation.Status.CLOSED])
            .exists()
        ):
            raise EscalationInvalid(_("The ticket has another open escalation; continue there."))
        changes["status"] = [escalation.status, status]
        escalation.status = status
    if escalation.status in NEEDS_CASE_NUMBER and not escalation.microsoft_case_number:
        raise EscalationInvalid(_("Enter the Microsoft case number first: it is how Microsoft finds the case."))
    if not changes:
        return escalation
    now = clock.now()
    if escalation.status in NEEDS_CASE_NUMBER and escalation.filed_at is None:
        escalation.filed_at = now
    if escalation.status == Escalation.Status.RESOLVED:
        escalation.resolved_at = now
    elif escalation.status != Escalation.Status.CLOSED:
        escalation.resolved_at = None  # reopened at Microsoft
    if escalation.status == Escalation.Status.CLOSED:
        escalation.closed_at = now
    escalation.updated_at = now
    escalation.save(
        update_fields=["microsoft_case_number", "status", "filed_at", "resolved_at", "closed_at", "updated_at"]
    )
    audit_record(
        partner=escalation.partner, customer=escalation.ticket.customer, actor=actor, action="escalation.updated",
        target=escalation, data={"ticket": escalation.ticket.reference, "changes": changes},
    )  # fmt: skip
    ended = escalation.status in (Escalation.Status.RESOLVED, Escalation.Status.CLOSED)
    if not ended and changes.get("status", [""])[0] == Escalation.Status.RESOLVED:
        ticket = escalation.ticket
        if ticket.status in (Ticket.Status.OPEN, Ticket.Status.NEW):  # the case is back with Microsoft
            ticket_status_change(
                ticket=ticket, status=Ticket.Status.ESCALATED, actor=actor, note=_("Escalation to Microsoft reopened")
            )
    if ended and escalation.ticket.status == Ticket.Status.ESCALATED:
        # Back with the partner's agents, who confirm the fix with the customer and resolve the ticket.
        ticket_status_change(
            ticket=escalation.ticket, status=Ticket.Status.OPEN, actor=actor,
            note=_("Escalation to Microsoft %(status)s") % {"status": escalation.get_status_display().lower()},
        )  # fmt: skip
    return escalation
