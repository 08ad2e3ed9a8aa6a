"""Billing jobs. Thin: ids in, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def invoices_generate_task(*, period: str | None = None) -> dict[str, int]:
    """Generate every partner's invoices for `period` (default: each partner's previous month)."""
    from billing.invoicing.services import invoices_generate, previous_period
    from partner_portal import clock
    from partner_portal.models import Partner

    created = skipped = 0
    for partner in Partner.objects.order_by("pk"):
        result = invoices_generate(partner=partner, period=period or previous_period(clock.today(partner.time_zone)))
        created, skipped = created + len(result.created), skipped + result.skipped_existing
    return {"created": created, "skipped_existing": skipped}


@shared_task(acks_late=True)
def invoice_pdf_export_task(*, job_id: int) -> None:
    from billing.invoicing.services.exports import invoice_pdf_export_run

    invoice_pdf_export_run(job_id=job_id)


@shared_task(acks_late=True)
def reconciliation_import_run_task(*, import_id: int) -> str:
    """Import an uploaded Partner Center reconciliation file; safe to run twice or on two workers."""
    from billing.reconciliation.services import reconciliation_import_run

    return reconciliation_import_run(import_id=import_id).status


@shared_task(acks_late=True)
def collections_run_task(
    *, run_date: str | None = None, partner_id: int | None = None, triggered_by: str = "schedule",
    actor_id: int | None = None,
) -> list[str]:  # fmt: skip
    """The daily collections run. With `partner_id`, that partner's run; without, one task per partner.

    `run_date` (ISO) defaults to today in each partner's time zone. Safe to run twice or on two
    workers at once: the run takes a per-partner lock and each notice and change is made once.
    """
    import datetime as dt

    from billing.services import collections_run
    from partner_portal import clock
    from partner_portal.models import Partner, User

    if partner_id is None:
        for pk in Partner.objects.order_by("pk").values_list("pk", flat=True):
            collections_run_task.delay(run_date=run_date, partner_id=pk, triggered_by=triggered_by)
        return []
    partner = Partner.objects.get(pk=partner_id)
    day = dt.date.fromisoformat(run_date) if run_date else clock.today(partner.time_zone)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    run = collections_run(partner=partner, run_date=day, actor=actor, triggered_by=triggered_by)
    return [run.status]


@shared_task(acks_late=True)
def collection_notices_send_task(*, notice_ids: list[int]) -> dict[str, int]:
    """Email collections notices; each is claimed first, so a second delivery of the task sends nothing."""
    from billing.services import collection_notices_send

    return collection_notices_send(notice_ids=notice_ids)
