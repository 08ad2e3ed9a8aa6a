"""Tickets jobs. Thin: ids in, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def ticket_notify_task(*, event: str, ticket_id: int, message_id: int | None = None, status: str | None = None) -> int:
    """Send the emails of one ticket event; returns how many were sent."""
    from tickets.notifications import ticket_notify  # services import this module

    return ticket_notify(event=event, ticket_id=ticket_id, message_id=message_id, status=status)


@shared_task(acks_late=True)
def support_charges_bill_task(*, period: str | None = None) -> dict[str, int]:
    """Bill every partner's support time and incidents of `period` (default: each partner's previous month)."""
    from billing.invoicing.services import previous_period
    from partner_portal import clock
    from partner_portal.models import Partner
    from tickets.services import support_charges_bill

    lines = invoices = 0
    for partner in Partner.objects.order_by("pk"):
        result = support_charges_bill(
            partner=partner, period=period or previous_period(clock.today(partner.time_zone)), actor=None
        )
        lines, invoices = lines + result.lines, invoices + len(result.invoices)
    return {"lines": lines, "invoices": invoices}
