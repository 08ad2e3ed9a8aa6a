"""Invoicing jobs. Thin: ids in, call one service. Registered under their former names (billing.tasks.*) so queued messages and the beat schedule keep working."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.invoices_generate_task", acks_late=True)
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


@shared_task(name="billing.tasks.invoice_pdf_export_task", acks_late=True)
def invoice_pdf_export_task(*, job_id: int) -> None:
    from billing.invoicing.services.exports import invoice_pdf_export_run

    invoice_pdf_export_run(job_id=job_id)
