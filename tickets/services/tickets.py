"""Tickets: opening, changing, the status workflow with its SLA clock, assignment and messages.

Every write is here. Emails go out after commit (tickets.services.notifications through a task); internal
notes never reach customers: not in their pages, not in the API, not in an email.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.invoicing.models import Invoice
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import STAFF_ROLES, Customer, Membership, Partner, User
from subscriptions.models import Subscription
from tickets import sla
from tickets.canned.models import CannedReply
from tickets.canned.services import canned_reply_use
from tickets.errors import TicketInvalid, TransitionNotAllowed
from tickets.models import SupportOffering, Ticket, TicketMessage
from tickets.services.attachments import attachment_store, attachments_check
from tickets.services.offering import support_offering_get
from tickets.services.plans import customer_plan, sla_targets

S = Ticket.Status

# The workflow: which status may follow which, for partner staff.
STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING_CUSTOMER, S.ESCALATED, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.PENDING_CUSTOMER, S.ESCALATED, S.RESOLVED, S.CLOSED}),
    S.PENDING_CUSTOMER: frozenset({S.OPEN, S.ESCALATED, S.RESOLVED, S.CLOSED}),
    S.ESCALATED: frozenset({S.OPEN, S.PENDING_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}
# Customers close or reopen a resolved ticket; their reply reopens one waiting on them.
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_CUSTOMER: frozenset({S.OPEN}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
}


def _notify(event: str, ticket: Ticket, message: TicketMessage | None = None) -> None:
    from tickets.tasks import ticket_notify_task

    # The status as of this event: the email must say what happened, even if the ticket moved on since.
    ticket_id, message_id, status = ticket.pk, message.pk if message is not None else None, ticket.status
    transaction.on_commit(
        lambda: ticket_notify_task.delay(event=event, ticket_id=ticket_id, message_id=message_id, status=status)
    )


def _membership(user: User | None) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def is_customer_user(user: User | None) -> bool:
    membership = _membership(user)
    return membership is not None and membership.customer_id is not None


def is_staff_of(user: User | None, partner_id: int) -> bool:
    membership = _membership(user)
    return membership is not None and membership.customer_id is None and membership.partner_id == partner_id


def _offering(ticket: Ticket) -> SupportOffering:
    cached: SupportOffering | None = getattr(ticket, "_offering", None)
    if cached is None:
        cached = support_offering_get(ticket.partner)
        ticket._offering = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


def sla_due_times(
    *,
    offering: SupportOffering,
    severity: str,
    start: dt.datetime,
    customer: Customer | None = None,
    product_family: str = "",
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(first response due, resolution due) for a ticket of `severity` and `product_family` opened at
    `start`: the targets of the customer's plan where it has them, else the offering's."""
    plan = customer_plan(customer) if customer is not None else None
    first, resolution = sla_targets(offering=offering, plan=plan, severity=severity, product_family=product_family)
    try:
        return (
            sla.add_business_minutes(offering, start, first),
            sla.add_business_minutes(offering, start, resolution),
        )
    except sla.NoBusinessHours:
        return None, None


def _check_assignee(partner_id: int, assignee: User | None) -> None:
    if assignee is None:
        return
    membership = _membership(assignee)
    if membership is None or membership.partner_id != partner_id or membership.role not in STAFF_ROLES:
        raise TicketInvalid(_("Tickets can only be assigned to the partner's staff."))


def _check_links(
    customer: Customer, invoices: Sequence[Invoice] | None, subscriptions: Sequence[Subscription] | None
) -> None:
    if invoices and any(i.customer_id != customer.pk or i.status == Invoice.Status.DRAFT for i in invoices):
        raise TicketInvalid(_("A ticket can only refer to issued invoices of its own customer."))
    if subscriptions and any(s.customer_id != customer.pk for s in subscriptions):
        raise TicketInvalid(_("A ticket can only refer to subscriptions of its own customer."))


def _next_number(partner: Partner) -> int:
    last = Ticket.objects.filter(partner=partner).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


@transaction.atomic
def ticket_create(
    *,
    partner: Partner,
    customer: Customer,
    opened_by: User | None,
    subject: str,
    description: str,
    category: str = Ticket.Category.TECHNICAL,
    product_family: str = Ticket.ProductFamily.MICROSOFT_365,
    severity: str = Ticket.Severity.C,
    assignee: User | None = None,
    invoices: Sequence[Invoice] = (),
    subscriptions: Sequence[Subscription] = (),
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """Open a ticket with the next number of the partner's series and its SLA due times.

    The customer gets a confirmation with the support offering; the assignee (or the partner's
    agents) get the new ticket. Attachments are checked before anything is written.
    """
    if customer.partner_id != partner.pk:
        raise TicketInvalid(_("The customer belongs to another partner."))
    if not subject.strip() or not description.strip():
        raise TicketInvalid(_("A ticket needs a subject and a description."))
    _check_assignee(partner.pk, assignee)
    _check_links(customer, invoices, subscriptions)
    attachments_check(list(files))
    offering = support_offering_get(partner)
    now = clock.now()
    first_due, resolution_due = sla_due_times(
        offering=offering, severity=severity, start=now, customer=customer, product_family=product_family
    )
    for attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a concurrent open taking the same number retries
                ticket = Ticket.objects.create(
                    partner=partner, customer=customer, number=_next_number(partner), subject=subject.strip(),
                    description=description.strip(), category=category, product_family=product_family,
                    severity=severity, assignee=assignee, opened_by=opened_by, created_at=now, updated_at=now,
                    first_response_due=first_due, resolution_due=resolution_due,
                )  # fmt: skip
            break
        except IntegrityError:
            if attempt == 4:
                raise
    ticket._offering = offering  # type: ignore[attr-defined]
    if invoices:
        ticket.invoices.set(invoices)
    if subscriptions:
        ticket.subscriptions.set(subscriptions)
    for upload in files:
        attachment_store(ticket=ticket, message=None, upload=upload, uploaded_by=opened_by)
    audit_record(
        partner=partner, customer=customer, actor=opened_by, action="ticket.created", target=ticket,
        data={"severity": severity, "category": category, "by_customer": is_customer_user(opened_by)},
    )  # fmt: skip
    _notify("created", ticket)
    return ticket


STAFF_ONLY = gettext_lazy("Only the partner's staff can set this.")


class Unset(enum.Enum):
    """Marks a field a partial update leaves alone (None is a value: "nobody", "no due time")."""

    LEAVE = "leave"


UNSET = Unset.LEAVE


@dataclass(frozen=True)
class TicketChanges:
    """A partial update: only the fields given (not None, or not UNSET where None is a value) change."""

    subject: str | None = None
    description: str | None = None
    category: str | None = None
    product_family: str | None = None
    severity: str | None = None
    assignee: User | Unset | None = UNSET
    first_response_due: dt.datetime | Unset | None = UNSET
    resolution_due: dt.datetime | Unset | None = UNSET
    invoices: Sequence[Invoice] | None = None
    subscriptions: Sequence[Subscription] | None = None

    def given(self) -> list[str]:
        """The names of the fields this change sets."""
        return [
            f.name for f in fields(self) if getattr(self, f.name) is not None and getattr(self, f.name) is not UNSET
        ]


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: User | None, changes: TicketChanges) -> Ticket:
    """Change a ticket's fields (staff). A new severity or product family recomputes the due times from
    the opening time, unless due times are given explicitly. Audited with what changed."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=ticket.pk)
    changed: dict[str, Any] = {}
    for name in ("subject", "description", "category", "product_family"):
        value = getattr(changes, name)
        if value is not None and value != getattr(ticket, name):
            if name in ("subject", "description") and not str(value).strip():
                raise TicketInvalid(_("A ticket needs a subject and a description."))
            setattr(ticket, name, value)
            changed[name] = value
    if changes.severity is not None and changes.severity != ticket.severity:
        ticket.severity = changes.severity
        changed["severity"] = changes.severity
    if "severity" in changed or "product_family" in changed:  # the targets depend on both
        first_due, resolution_due = sla_due_times(
            offering=_offering(ticket), severity=ticket.severity, start=ticket.created_at,
            customer=ticket.customer, product_family=ticket.product_family,
        )  # fmt: skip
        if ticket.first_responded_at is None:
            ticket.first_response_due = first_due
        ticket.resolution_due = resolution_due
    if not isinstance(changes.assignee, Unset) and changes.assignee != ticket.assignee:
        _check_assignee(ticket.partner_id, changes.assignee)
        ticket.assignee = changes.assignee
        changed["assignee"] = changes.assignee.email if changes.assignee else None
    for name in ("first_response_due", "resolution_due"):
        value = getattr(changes, name)
        if not isinstance(value, Unset) and value != getattr(ticket, name):
            setattr(ticket, name, value)
            changed[name] = value.isoformat() if value else None
    if changes.invoices is not None or changes.subscriptions is not None:
        _check_links(ticket.customer, changes.invoices, changes.subscriptions)
    if changes.invoices is not None:
        ticket.invoices.set(changes.invoices)
        changed["invoices"] = sorted(i.pk for i in changes.invoices)
    if changes.subscriptions is not None:
        ticket.subscriptions.set(changes.subscriptions)
        changed["subscriptions"] = sorted(s.pk for s in changes.subscriptions)
    if not changed:
        return ticket
    ticket.updated_at = clock.now()
    ticket.save()
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=actor, action="ticket.updated", target=ticket,
        data=changed,
    )  # fmt: skip
    return ticket


@transaction.atomic
def tickets_assign(*, partner: Partner, ticket_ids: Sequence[int], assignee: User | None, actor: User) -> int:
    """Bulk assign the partner's tickets with these ids (others are ignored). Returns how many changed."""
    _check_assignee(partner.pk, assignee)
    tickets = list(
        Ticket.objects.for_partner(partner)
        .filter(pk__in=list(ticket_ids))
        .exclude(assignee=assignee)
        .select_for_update(of=("self",))
        .select_related("customer")
    )
    now = clock.now()
    for ticket in tickets:
        ticket.assignee, ticket.updated_at = assignee, now
    Ticket.objects.bulk_update(tickets, ["assignee", "updated_at"])
    for ticket in tickets:
        audit_record(
            partner=partner, customer=ticket.customer, actor=actor, action="ticket.assigned", target=ticket,
            data={"assignee": assignee.email if assignee else None},
        )  # fmt: skip
    return len(tickets)


def _pause(ticket: Ticket, at: dt.datetime) -> None:
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = at


def _resume(ticket: Ticket, at: dt.datetime) -> None:
    """Move the open due times by the business time the ticket waited on the customer.

    A due time already passed when the clock paused stays where it was: waiting does not undo a breach.
    """
    paused_at = ticket.sla_paused_at
    if paused_at is None:
        return
    offering = _offering(ticket)
    paused = sla.business_seconds_between(offering, paused_at, at)
    if paused:
        if ticket.first_responded_at is None and ticket.first_response_due and ticket.first_response_due > paused_at:
            ticket.first_response_due = sla.add_business_seconds(offering, ticket.first_response_due, paused)
        if ticket.resolution_due and ticket.resolution_due > paused_at:
            ticket.resolution_due = sla.add_business_seconds(offering, ticket.resolution_due, paused)
    ticket.sla_paused_at = None


def _apply_status(ticket: Ticket, status: str, at: dt.datetime) -> None:
    old = ticket.status
    if old == S.PENDING_CUSTOMER:
        _resume(ticket, at)
    if status == S.PENDING_CUSTOMER:
        _pause(ticket, at)
    if status == S.RESOLVED:
        ticket.resolved_at = at
    elif status == S.CLOSED:
        ticket.closed_at = at
    elif old in (S.RESOLVED, S.CLOSED):  # reopened
        ticket.resolved_at = ticket.closed_at = None
    ticket.status = status
    ticket.updated_at = at


@transaction.atomic
def ticket_status_change(
    *, ticket: Ticket, status: str, actor: User | None, note: str = "", by_rating: bool = False
) -> Ticket:
    """Move the ticket along the workflow (TransitionNotAllowed otherwise).

    Waiting on the customer pauses the SLA clock; leaving that status moves the due times by the
    business time paused. Sets resolved_at / closed_at, audits "ticket.status_changed" and emails the
    customer. Customers may only close or reopen a resolved ticket; a low rating (`by_rating`, from
    tickets.services.ratings) reopens a resolved or closed one. Setting the current status is a no-op.
    """
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=ticket.pk)
    if status not in S.values:
        raise TransitionNotAllowed(_("Unknown status."))
    if status == ticket.status:
        return ticket
    by_customer = is_customer_user(actor)
    allowed = (CUSTOMER_TRANSITIONS if by_customer else STAFF_TRANSITIONS).get(ticket.status, frozenset())
    if by_rating:
        by_customer = True
        allowed = frozenset({S.OPEN}) if ticket.status in (S.RESOLVED, S.CLOSED) else frozenset()
    if status not in allowed:
        raise TransitionNotAllowed(
            _("A ticket that is %(old)s cannot become %(new)s.")
            % {"old": S(ticket.status).label.lower(), "new": S(status).label.lower()}
        )
    old = ticket.status
    _apply_status(ticket, status, clock.now())
    ticket.save()
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=actor, action="ticket.status_changed", target=ticket,
        data={"from": old, "to": status, "note": note, "by_customer": by_customer},
    )  # fmt: skip
    _notify("status", ticket)
    return ticket


@transaction.atomic
def ticket_change(
    *,
    ticket: Ticket,
    actor: User | None,
    changes: TicketChanges | None = None,
    status: str | None = None,
    note: str = "",
    customer_id: int | None = None,
) -> Ticket:
    """One change of a ticket, as a page or the API asks it: its fields and its status together, or
    nothing at all (a refused status leaves the fields as they were).

    Only the partner's staff change fields; a customer user may only move the status (close or reopen).
    A ticket stays with its customer (`customer_id`, when the caller names one, must be its own).
    """
    if customer_id is not None and customer_id != ticket.customer_id:
        raise TicketInvalid(fields={"customer": [_("A ticket stays with its customer; open a new one instead.")]})
    given = changes.given() if changes is not None else []
    if given and not is_staff_of(actor, ticket.partner_id):
        raise TicketInvalid(fields={name: [str(STAFF_ONLY)] for name in given})
    if changes is not None and given:
        ticket = ticket_update(ticket=ticket, actor=actor, changes=changes)
    if status is not None:
        ticket = ticket_status_change(ticket=ticket, status=status, actor=actor, note=note)
    return ticket


@transaction.atomic
def ticket_message_add(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool,
    files: Sequence[UploadedFile] = (),
    canned_reply: CannedReply | None = None,
) -> TicketMessage:
    """Add a reply or an internal note, with attachments.

    Only the partner's staff write internal notes. The first public staff reply sets
    first_responded_at (and opens a new ticket); a customer's reply reopens a ticket waiting on the
    customer. Public staff replies are emailed to the customer, customer replies to the assignee or
    the partner's agents; internal notes are emailed to no one. A staff message that started from a
    canned reply of the partner counts one use of it, in the same transaction.
    """
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=ticket.pk)
    if not body.strip():
        raise TicketInvalid(_("Write a message."))
    staff = is_staff_of(author, ticket.partner_id)
    if not staff and not (is_customer_user(author) and author.membership.customer_id == ticket.customer_id):
        raise TicketInvalid(_("Only the partner's staff and the customer's users can write on this ticket."))
    if internal and not staff:
        raise TicketInvalid(_("Only the partner's staff can write internal notes."))
    if canned_reply is not None and not (staff and canned_reply.partner_id == ticket.partner_id):
        raise TicketInvalid(_("Only the partner's staff can use its canned replies."))
    if ticket.status == S.CLOSED and not staff:
        raise TransitionNotAllowed(_("This ticket is closed. Open a new ticket, or reopen it first."))
    attachments_check(list(files))
    now = clock.now()
    message = TicketMessage.objects.create(
        partner_id=ticket.partner_id, ticket=ticket, author=author, body=body.strip(), internal=internal,
        created_at=now,
    )  # fmt: skip
    for upload in files:
        attachment_store(ticket=ticket, message=message, upload=upload, uploaded_by=author)
    old = ticket.status
    if staff and not internal:
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        if ticket.status == S.NEW:
            _apply_status(ticket, S.OPEN, now)
    elif not staff and ticket.status == S.PENDING_CUSTOMER:
        _apply_status(ticket, S.OPEN, now)
    ticket.updated_at = now
    ticket.save()
    if canned_reply is not None:
        canned_reply_use(reply=canned_reply)
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=author,
        action="ticket.note_added" if internal else "ticket.replied", target=ticket,
        data={"message": message.pk, "attachments": len(files), "by_customer": not staff,
              **({"canned_reply": canned_reply.pk} if canned_reply is not None else {})},
    )  # fmt: skip
    if old != ticket.status:
        audit_record(
            partner=ticket.partner, customer=ticket.customer, actor=author, action="ticket.status_changed",
            target=ticket, data={"from": old, "to": ticket.status, "note": "", "by_customer": not staff},
        )  # fmt: skip
    if not internal:
        _notify("staff_reply" if staff else "customer_reply", ticket, message)
    return message
