"""Ticket emails, both ways, as text and HTML. Sent after commit by `ticket_notify_task`.

Customers get the confirmation of a new ticket (with the support offering), the staff's public
replies and status changes, in the customer's language. The assignee (or, while unassigned, the
partner's support agents and admins) get new tickets and customer replies in their own language.
Internal notes are never emailed. Every email threads with the ticket's others and asks for replies at
the partner's support mailbox when it has one (tickets.mailbox.threading), so answers return to the ticket.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from partner_portal.models import Membership, Role, User
from tickets.mailbox.threading import message_id_new, reply_address, thread_headers, ticket_emails_record
from tickets.models import Ticket, TicketMessage, TicketRating
from tickets.presentation import duration_label, offering_context
from tickets.services.offering import support_offering_get
from tickets.services.plans import customer_plan, sla_targets
from tickets.services.ratings import rating_link_url

CUSTOMER_EVENTS = ("created", "staff_reply", "status")
STAFF_EVENTS = ("created", "customer_reply")


def _base_url() -> str:
    return str(settings.PORTAL_BASE_URL).rstrip("/")


def customer_recipients(ticket: Ticket) -> list[str]:
    """Who hears about a ticket on the customer's side: the customer user who opened it, else the
    customer's billing contact, else its customer admins."""
    opener = ticket.opened_by
    if opener is not None and opener.is_active:
        membership = Membership.objects.filter(user=opener, customer_id=ticket.customer_id).first()
        if membership is not None:
            return [opener.email]
    if ticket.customer.billing_email:
        return [ticket.customer.billing_email]
    return list(
        Membership.objects.filter(customer_id=ticket.customer_id, role=Role.CUSTOMER_ADMIN, user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def staff_recipients(ticket: Ticket) -> list[User]:
    if ticket.assignee is not None and ticket.assignee.is_active:
        return [ticket.assignee]
    return list(
        User.objects.filter(
            membership__partner_id=ticket.partner_id,
            membership__customer__isnull=True,
            membership__role__in=[Role.SUPPORT_AGENT, Role.PARTNER_ADMIN],
            is_active=True,
        ).order_by("email")
    )


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    return render_to_string(f"emails/{name}.txt", context), render_to_string(f"emails/{name}.html", context)


def _customer_subject(event: str, ticket: Ticket) -> str:
    values = {"reference": ticket.reference, "subject": ticket.subject}
    if event == "created":
        return _("We received your request %(reference)s: %(subject)s") % values
    if event == "staff_reply":
        return _("New reply on %(reference)s: %(subject)s") % values
    return _("%(reference)s is now %(status)s: %(subject)s") % {
        **values, "status": ticket.get_status_display().lower(),
    }  # fmt: skip


def _staff_subject(event: str, ticket: Ticket) -> str:
    values = {"reference": ticket.reference, "subject": ticket.subject, "customer": ticket.customer.name}
    if event == "created":
        return _("New ticket %(reference)s from %(customer)s: %(subject)s") % values
    return _("Customer replied on %(reference)s (%(customer)s): %(subject)s") % values


def _rating_urls(event: str, ticket: Ticket) -> list[tuple[int, str]]:
    """The one-click rating links (score, link) of the "resolved" email; none once the ticket is rated."""
    if (
        event != "status"
        or ticket.status != Ticket.Status.RESOLVED
        or TicketRating.objects.filter(ticket=ticket).exists()
    ):
        return []
    return [(score, rating_link_url(ticket, score)) for score in range(1, 6)]


def ticket_notify(*, event: str, ticket_id: int, message_id: int | None = None, status: str | None = None) -> int:
    """Send the emails of one event; returns how many were sent. `status` is the ticket's status as of
    the event (the ticket may have moved on by the time the email goes out)."""
    ticket = Ticket.objects.select_related("partner", "customer", "assignee", "opened_by").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    if status in Ticket.Status.values:
        ticket.status = status  # shown as of the event; never saved
    message = None
    if message_id is not None:
        message = TicketMessage.objects.filter(pk=message_id, ticket=ticket).select_related("author").first()
        if message is None or message.internal:
            return 0  # internal notes are never emailed, whatever asks
    emails: list[EmailMultiAlternatives] = []
    offering = support_offering_get(ticket.partner)
    base = _base_url()
    mailbox = reply_address(ticket.partner_id)
    headers = thread_headers(ticket)
    if event in CUSTOMER_EVENTS:
        recipients = customer_recipients(ticket)
        if recipients:
            plan = customer_plan(ticket.customer)
            first, resolution = sla_targets(
                offering=offering, plan=plan, severity=ticket.severity,
                product_family=ticket.product_family,
            )  # fmt: skip
            with translation.override(ticket.customer.language):
                context = {
                    "event": event, "ticket": ticket, "message": message, "partner": ticket.partner,
                    "url": base + reverse("customer_ticket_detail", args=[ticket.pk]),
                    "rating_urls": _rating_urls(event, ticket),
                    "first_response_target": duration_label(first),
                    "resolution_target": duration_label(resolution),
                    **offering_context(offering, plan=plan),
                }  # fmt: skip
                body, html = _render("ticket_customer", context)
                emails.append(
                    _email(
                        _customer_subject(event, ticket), body, html, recipients,
                        mailbox or offering.contact_email, headers,
                    )
                )  # fmt: skip
    if event in STAFF_EVENTS:
        for user in staff_recipients(ticket):
            with translation.override(user.language):
                context = {
                    "event": event, "ticket": ticket, "message": message, "partner": ticket.partner,
                    "url": base + reverse("ticket_detail", args=[ticket.pk]),
                }  # fmt: skip
                body, html = _render("ticket_staff", context)
                emails.append(_email(_staff_subject(event, ticket), body, html, [user.email], mailbox, headers))
    if not emails:
        return 0
    ticket_emails_record(ticket=ticket, event=event, sent=[(e.extra_headers["Message-ID"], e.to) for e in emails])
    return get_connection().send_messages(emails) or 0


def _email(
    subject: str, body: str, html: str, to: list[str], reply_to: str, headers: dict[str, str]
) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:250], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to,
        reply_to=[reply_to] if reply_to else None, headers={**headers, "Message-ID": message_id_new()},
    )  # fmt: skip
    email.attach_alternative(html, "text/html")
    return email
