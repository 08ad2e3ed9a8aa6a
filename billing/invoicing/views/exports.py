"""Bulk PDF exports of invoices: start one from the invoice list's filters, follow its progress, download the ZIP."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from billing.invoicing import selectors, services
from billing.invoicing.forms import InvoiceExportForm
from billing.invoicing.models import ExportJob, Invoice
from billing.invoicing.progress import newest_first_context, progress_context, progress_response
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin

EXPORT_FILTER_FIELDS = ("q", "status", "customer", "period", "overdue")  # what the invoice list passes on


def export_filter_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """The invoice list's filters from its query string, as hidden fields of the export form."""
    return [(name, value) for name in EXPORT_FILTER_FIELDS for value in request.GET.getlist(name)]


class ExportListView(ScopedViewMixin, View):
    """GET: the partner's recent bulk exports and a form to start one. POST: start an export of the
    invoices the posted filters select (the invoice list posts its own), then show its progress."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/export_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, InvoiceExportForm(scope=self.scope))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InvoiceExportForm(request.POST, scope=self.scope)
        if not form.is_valid():
            return self._render(request, form, status=400)
        filters = form.filters()
        include_drafts = bool(form.cleaned_data.get("include_drafts"))
        include_xml = bool(form.cleaned_data.get("include_xml"))
        if not selectors.invoice_export_list(scope=self.scope, filters=filters, include_drafts=include_drafts).exists():
            messages.error(request, _("No invoice matches these filters: there is nothing to export."))
            return self._render(request, form, status=400)
        job = services.invoice_pdf_export_request(
            scope=self.scope, filters=filters, include_drafts=include_drafts, include_xml=include_xml
        )
        return redirect("export_detail", pk=job.pk)

    def _render(self, request: HttpRequest, form: InvoiceExportForm, status: int = 200) -> HttpResponse:
        context = {"form": form, **newest_first_context(request, selectors.export_job_list(scope=self.scope))}
        return render(request, self.template_name, context, status=status)


def _export_filters_summary(
    scope: Any, filters: dict[str, Any], include_drafts: bool, include_xml: bool = False
) -> list[tuple[str, str]]:
    """What an export selected, in words: [(label, value)]; empty for every invoice but drafts."""
    rows: list[tuple[str, str]] = []
    if filters.get("search"):
        rows.append((_("Search"), str(filters["search"])))
    if filters.get("status"):
        rows.append((_("Status"), str(dict(Invoice.Status.choices).get(filters["status"], filters["status"]))))
    if filters.get("customer_id"):
        customer = core_selectors.customer_list(scope=scope).filter(pk=filters["customer_id"]).first()
        rows.append((_("Customer"), customer.name if customer is not None else "—"))
    if filters.get("period"):
        rows.append((_("Period"), str(filters["period"])))
    if filters.get("overdue"):
        rows.append((_("Overdue only"), _("Yes")))
    if include_drafts:
        rows.append((_("Include drafts"), _("Yes")))
    if include_xml:
        rows.append((_("Include e-invoice XML"), _("Yes")))
    return rows


def _export_form_fields(
    filters: dict[str, Any], include_drafts: bool, include_xml: bool = False
) -> list[tuple[str, str]]:
    """An export's filters as the fields of the form that starts one: "Try again" posts them."""
    fields = [("q", filters.get("search") or ""), ("status", filters.get("status") or "")]
    fields += [("customer", str(filters.get("customer_id") or "")), ("period", filters.get("period") or "")]
    if filters.get("overdue"):
        fields.append(("overdue", "on"))
    if include_drafts:
        fields.append(("include_drafts", "on"))
    if include_xml:
        fields.append(("include_xml", "on"))
    return [(name, value) for name, value in fields if value]


class ExportDetailView(ScopedViewMixin, TemplateView):
    """One export: its progress while a worker builds it (the page polls `export_status`; without
    script it refreshes itself), then the download."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/export_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = selectors.export_job_get(scope=self.scope, pk=self.kwargs["pk"])
        return super().get_context_data(
            job=job,
            filters=_export_filters_summary(self.scope, job.filters or {}, job.include_drafts, job.include_xml),
            retry_fields=_export_form_fields(job.filters or {}, job.include_drafts, job.include_xml),
            download_url=_export_download_url(job),
            **progress_context(job),
            **kwargs,
        )


def _export_download_url(job: ExportJob) -> str | None:
    return reverse("export_download", args=[job.pk]) if job.status == ExportJob.Status.DONE and job.file else None


class ExportStatusView(ScopedViewMixin, View):
    """The progress of an export as JSON, for the page's progress bar."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.export_job_get(scope=self.scope, pk=pk)
        return progress_response(job, done=job.done, total=job.total, download_url=_export_download_url(job))


class ExportDownloadView(ScopedViewMixin, View):
    """The finished ZIP, streamed from storage. Another partner's export, or one not finished, is 404."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        job = selectors.export_job_get(scope=self.scope, pk=pk)
        if _export_download_url(job) is None:
            raise Http404
        try:
            handle = job.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"invoices-{job.created_at:%Y-%m-%d}-{job.pk}.zip",
            content_type="application/zip",
        )
        response["Cache-Control"] = "private, no-store"
        return response
