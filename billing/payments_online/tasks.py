"""Online payments' jobs. Thin: call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.autopay_run_task", acks_late=True)
def autopay_run_task() -> int:
    """The daily autopay run: charge each invoice due today (each partner's own date) with its
    customer's saved card. Safe to run twice: every charge is claimed first and keyed for the provider."""
    from billing.payments_online.services import autopay_run

    return autopay_run()


@shared_task(name="billing.tasks.autopay_failure_notify_task", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=60, max_retries=5)  # fmt: skip
def autopay_failure_notify_task(*, attempt_id: int) -> None:
    """Email the customer that an autopay charge was refused (once per attempt)."""
    from billing.payments_online.services.autopay import autopay_failure_notify

    autopay_failure_notify(attempt_id=attempt_id)
