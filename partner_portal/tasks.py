"""Core background jobs. Thin: ids in, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_send_task(*, invitation_id: int, accept_url: str) -> None:
    from partner_portal.services import invitation_send  # services import this module

    invitation_send(invitation_id=invitation_id, accept_url=accept_url)
