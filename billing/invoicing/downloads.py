"""PDF and e-invoice downloads for staff and customer users: the PDF, Peppol BIS Billing 3.0 UBL, CII
(EN 16931) and the Factur-X PDF that carries the CII. Scoped like
every page: a customer user gets only its own issued invoices and credit notes; anything else is 404.
A draft has a PDF preview for staff but no e-invoice: it has no number yet."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from django.views import View

from billing.einvoicing import cii, facturx, ubl
from billing.invoicing import pdf, selectors
from billing.invoicing.models import CreditNote, Invoice
from partner_portal.access import ScopedViewMixin


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


DRAFT_HAS_NO_EINVOICE = gettext_lazy("A draft invoice has no e-invoice: issue it first.")


def xml_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def invoice_ubl_response(invoice: Invoice) -> HttpResponse:
    """The issued invoice as UBL; a draft is not found (it has no e-invoice)."""
    if invoice.is_draft:
        raise Http404(str(DRAFT_HAS_NO_EINVOICE))
    return xml_response(ubl.invoice_ubl(invoice=invoice), ubl.invoice_ubl_filename(invoice))


def invoice_cii_response(invoice: Invoice) -> HttpResponse:
    """The issued invoice as CII (EN 16931); a draft is not found."""
    if invoice.is_draft:
        raise Http404(str(DRAFT_HAS_NO_EINVOICE))
    return xml_response(cii.invoice_cii(invoice=invoice), cii.invoice_cii_filename(invoice))


def invoice_facturx_response(invoice: Invoice) -> HttpResponse:
    """The issued invoice as a Factur-X PDF (PDF/A-3b with its CII inside); a draft is not found."""
    if invoice.is_draft:
        raise Http404(str(DRAFT_HAS_NO_EINVOICE))
    return pdf_response(facturx.invoice_facturx_pdf(invoice=invoice), facturx.invoice_facturx_filename(invoice))


def credit_note_cii_response(note: CreditNote) -> HttpResponse:
    return xml_response(cii.credit_note_cii(credit_note=note), cii.credit_note_cii_filename(note))


def credit_note_facturx_response(note: CreditNote) -> HttpResponse:
    return pdf_response(facturx.credit_note_facturx_pdf(credit_note=note), facturx.credit_note_facturx_filename(note))


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


class InvoiceUblView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return invoice_ubl_response(selectors.invoice_get(scope=self.scope, pk=pk))


class CreditNoteUblView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = selectors.credit_note_get(scope=self.scope, pk=pk)
        return xml_response(ubl.credit_note_ubl(credit_note=note), ubl.credit_note_ubl_filename(note))


class InvoiceCiiView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return invoice_cii_response(selectors.invoice_get(scope=self.scope, pk=pk))


class CreditNoteCiiView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return credit_note_cii_response(selectors.credit_note_get(scope=self.scope, pk=pk))


class InvoiceFacturxView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return invoice_facturx_response(selectors.invoice_get(scope=self.scope, pk=pk))


class CreditNoteFacturxView(ScopedViewMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return credit_note_facturx_response(selectors.credit_note_get(scope=self.scope, pk=pk))
