"""Invoicing jobs. Thin: ids in, call one service. Registered under their former names (billing.tasks.*) so queued messages and the beat schedule keep working."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.invoices_generate_task", acks_late=True)
def invoices_generate_task(*, period: str | None = None) -> dict[str, int]:
    """Generate every partner's invoices for `period` (default: each partner's previous month)."""
    from billing.invoicing.services import invoices_generate_all

    results = [result for _partner, result in invoices_generate_all(period=period)]
    return {
        "created": sum(len(r.created) for r in results),
        "skipped_existing": sum(r.skipped_existing for r in results),
    }


@shared_task(name="billing.tasks.invoice_pdf_export_task", acks_late=True)
def invoice_pdf_export_task(*, job_id: int) -> None:
    from billing.invoicing.services.exports import invoice_pdf_export_run

    invoice_pdf_export_run(job_id=job_id)


@shared_task(name="billing.invoicing.tasks.invoice_pdf_export_part_task", acks_late=True)
def invoice_pdf_export_part_task(*, part_id: int) -> None:
    """One part of a large PDF export; the last part done merges the job's ZIP."""
    from billing.invoicing.services.exports import invoice_pdf_export_part_run

    invoice_pdf_export_part_run(part_id=part_id)


@shared_task(name="billing.tasks.invoice_send_task", acks_late=True)
def invoice_send_task(*, invoice_id: int, actor_id: int | None = None, again: bool = False) -> None:
    """Email one issued invoice with its PDF."""
    from billing.invoicing.services.sending import invoice_send

    invoice_send(invoice_id=invoice_id, actor_id=actor_id, again=again)
