"""Tickets jobs. Thin: ids in, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def ticket_notify_task(*, event: str, ticket_id: int, message_id: int | None = None, status: str | None = None) -> int:
    """Send the emails of one ticket event; returns how many were sent."""
    from tickets.services.notifications import ticket_notify  # services import this module

    return ticket_notify(event=event, ticket_id=ticket_id, message_id=message_id, status=status)


@shared_task(acks_late=True)
def support_charges_bill_task(*, period: str | None = None) -> dict[str, int]:
    """Bill every partner's support time and incidents of `period` (default: each partner's previous month)."""
    from tickets.services import support_charges_bill_all

    results = [result for _partner, result in support_charges_bill_all(period=period)]
    return {"lines": sum(r.lines for r in results), "invoices": sum(len(r.invoices) for r in results)}


@shared_task(acks_late=True)
def support_mailboxes_read_task() -> dict[str, int]:
    """Read every partner's support mailbox into tickets; returns messages read and mailboxes down."""
    from tickets.mailbox.services import support_mailboxes_read_all

    results = [result for _partner, result in support_mailboxes_read_all()]
    return {"read": sum(r.read for r in results), "unavailable": sum(1 for r in results if r.error)}
