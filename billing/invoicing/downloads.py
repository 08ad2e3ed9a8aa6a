"""PDF downloads for staff and customer users. Scoped like every page: a customer user gets only its
own issued invoices and credit notes; anything else is 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import View

from billing.invoicing import pdf, selectors
from partner_portal.access import ScopedViewMixin


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class InvoicePdfView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        return pdf_response(
            pdf.invoice_pdf(invoice=invoice), pdf.invoice_pdf_filename(invoice), inline="inline" in request.GET
        )


class CreditNotePdfView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = selectors.credit_note_get(scope=self.scope, pk=pk)
        return pdf_response(
            pdf.credit_note_pdf(credit_note=note), pdf.credit_note_pdf_filename(note), inline="inline" in request.GET
        )
