"""Customer satisfaction: a customer rates a resolved ticket once, from its page or a signed email link.

A low score (1 or 2) reopens the ticket through the status workflow, so its SLA clock and history stay
right, and the comment joins the conversation as the customer's message for the agent to act on.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import User
from tickets.errors import TicketInvalid, TransitionNotAllowed
from tickets.models import Ticket, TicketMessage, TicketRating
from tickets.services.tickets import _membership, _notify, ticket_status_change

S = Ticket.Status
RATEABLE_STATUSES = (S.RESOLVED, S.CLOSED)
LOW_SCORES = (1, 2)
LINK_SALT = "tickets.rating"
LINK_MAX_AGE = 30 * 24 * 3600  # seconds: a rating link works for 30 days


def rating_link_token(ticket: Ticket) -> str:
    """The signed token of a one-click rating link: this ticket of this partner only, for 30 days."""
    return signing.dumps({"t": ticket.pk, "p": ticket.partner_id}, salt=LINK_SALT, compress=True)


def rating_link_url(ticket: Ticket, score: int | None = None) -> str:
    """The absolute rating link of a ticket, with a score pre-selected when given."""
    path = reverse("ticket_rate_link", kwargs={"token": rating_link_token(ticket)})
    return str(settings.PORTAL_BASE_URL).rstrip("/") + path + (f"?score={score}" if score else "")


def rating_link_read(token: str) -> tuple[int, int]:
    """(ticket id, partner id) of a rating link; TicketInvalid when it is tampered with or expired."""
    try:
        value = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise TicketInvalid(_("This rating link has expired. Sign in to rate the ticket from its page.")) from exc
    except signing.BadSignature as exc:
        raise TicketInvalid(_("This rating link is not valid.")) from exc
    if not isinstance(value, dict) or not isinstance(value.get("t"), int) or not isinstance(value.get("p"), int):
        raise TicketInvalid(_("This rating link is not valid."))
    return value["t"], value["p"]


def _comment_author(ticket: Ticket, actor: User | None) -> tuple[User | None, str]:
    """Who the comment of a low rating is from: the signed-in user; by link, the customer user who
    opened the ticket (the link went to them), else the customer's billing contact by name."""
    if actor is not None:
        return actor, ""
    opener = ticket.opened_by
    membership = _membership(opener)
    if opener is not None and membership is not None and membership.customer_id == ticket.customer_id:
        return opener, ""
    return None, ticket.customer.billing_email or ticket.customer.name


@transaction.atomic
def ticket_rate(*, ticket: Ticket, score: int, comment: str, actor: User | None, by_link: bool = False) -> TicketRating:
    """Record the customer's rating of a resolved (or closed) ticket, once.

    `actor` is the customer's signed-in user; a signed rating link (`by_link`) stands for the customer
    without one. The partner's staff never rate. A score of 1 or 2 reopens the ticket, adds the comment as
    the customer's message and tells the customer by email (the status change's). Audited "ticket.rated".
    """
    ticket = Ticket.objects.select_for_update().select_related("partner", "customer").get(pk=ticket.pk)
    membership = _membership(actor)
    if actor is not None and (membership is None or membership.customer_id != ticket.customer_id):
        raise TicketInvalid(_("Only the customer's users can rate this ticket."))
    if actor is None and not by_link:
        raise TicketInvalid(_("Only the customer's users can rate this ticket."))
    if ticket.status not in RATEABLE_STATUSES:
        raise TransitionNotAllowed(_("Only a resolved ticket can be rated."))
    if TicketRating.objects.filter(ticket=ticket).exists():
        raise TransitionNotAllowed(_("This ticket has been rated already."))
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise TicketInvalid(fields={"score": [_("Choose a score from 1 to 5.")]})
    comment = comment.strip()
    now = clock.now()
    rating = TicketRating.objects.create(
        partner_id=ticket.partner_id, ticket=ticket, score=score, comment=comment, rated_by=actor,
        agent_id=ticket.assignee_id, product_family=ticket.product_family, created_at=now,
    )  # fmt: skip
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=actor, action="ticket.rated", target=ticket,
        data={"score": score, "comment": bool(comment), "by_link": by_link},
    )  # fmt: skip
    if score in LOW_SCORES:
        ticket_status_change(
            ticket=ticket, status=S.OPEN, actor=actor, note=_("Reopened after a low rating."), by_rating=True
        )
        if comment:
            author, email_from = _comment_author(ticket, actor)
            message = TicketMessage.objects.create(
                partner_id=ticket.partner_id, ticket=ticket, author=author, email_from=email_from, body=comment,
                internal=False, created_at=now,
            )  # fmt: skip
            _notify("customer_reply", ticket, message)
    return rating
