"""Collections jobs. Thin: ids in, call one service. Registered under their former names (billing.tasks.*) so queued messages and the beat schedule keep working."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.collections_run_task", acks_late=True)
def collections_run_task(
    *, run_date: str | None = None, partner_id: int | None = None, triggered_by: str = "schedule",
    actor_id: int | None = None,
) -> list[str]:  # fmt: skip
    """The daily collections run. With `partner_id`, that partner's run; without, one task per partner.

    `run_date` (ISO) defaults to today in each partner's time zone. Safe to run twice or on two
    workers at once: the run takes a per-partner lock and each notice and change is made once.
    """
    import datetime as dt

    from billing.collections.services import collections_run
    from partner_portal import clock
    from partner_portal.jobs import partners_for_job
    from partner_portal.models import Partner, User

    if partner_id is None:
        # One task per partner, so the partners' runs spread over the workers.
        for pk in partners_for_job().values_list("pk", flat=True):
            collections_run_task.delay(run_date=run_date, partner_id=pk, triggered_by=triggered_by)
        return []
    partner = Partner.objects.get(pk=partner_id)
    day = dt.date.fromisoformat(run_date) if run_date else clock.today(partner.time_zone)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    run = collections_run(partner=partner, run_date=day, actor=actor, triggered_by=triggered_by)
    return [run.status]


@shared_task(name="billing.tasks.collection_notices_send_task", acks_late=True)
def collection_notices_send_task(*, notice_ids: list[int]) -> dict[str, int]:
    """Email collections notices; each is claimed first, so a second delivery of the task sends nothing."""
    from billing.collections.services import collection_notices_send

    return collection_notices_send(notice_ids=notice_ids)
