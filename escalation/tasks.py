"""Escalation jobs. Thin: ids in, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def escalation_checks_run_task(*, at: str | None = None) -> dict[str, int]:
    """Escalate overdue tickets and send due breach notices, for every partner. Idempotent."""
    import datetime as dt

    from escalation.services import CheckResult, escalation_checks_run  # services import this module

    result = CheckResult()
    for _partner, partial in escalation_checks_run(at=dt.datetime.fromisoformat(at) if at else None):
        result.merge(partial)
    return {
        "escalated": len(result.escalated),
        "not_entitled": len(result.not_entitled),
        "notices": len(result.notices),
    }


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def breach_notice_send_task(*, notice_id: int) -> int:
    from escalation.services import breach_notice_send

    return breach_notice_send(notice_id=notice_id)
