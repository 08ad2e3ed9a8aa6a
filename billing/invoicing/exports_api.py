"""API v1 of bulk invoice exports (a ZIP of PDFs, and XML when asked). Thin: validate, call, serialize."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from billing.invoicing import selectors, services
from billing.invoicing.api import InvoiceQuery
from billing.invoicing.models import ExportJob
from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apiparsers import JSONParser


class InvoiceExportInput(InvoiceQuery):
    """The invoices an export takes (the invoice list's filters) and what goes into the ZIP."""

    include_drafts = serializers.BooleanField(
        default=False, help_text="Drafts go in too (they also do when `status` is draft)"
    )
    include_xml = serializers.BooleanField(
        default=False,
        help_text="Each issued invoice's Peppol BIS Billing 3.0 UBL as <number>.xml beside its PDF; drafts have none",
    )


class ExportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id", "status", "filters", "include_drafts", "include_xml", "total", "done", "percent", "error",
            "created_at", "started_at", "finished_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        """Where the finished ZIP downloads from; null until the export is done."""
        if job.status != ExportJob.Status.DONE or not job.file:
            return None
        return reverse("v1:invoice-export-download", args=[job.pk])


class InvoiceExportViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk exports of invoice PDFs as one ZIP, built by a worker: start one, poll it for its progress,
    download the ZIP. Partner admins and finance; the partner's exports only."""

    queryset = ExportJob.objects.none()
    serializer_class = ExportJobSerializer
    # JSON only: a form field sent blank counts as left out, so a blank "period" would be taken as
    # "any period" instead of refused.
    parser_classes = [JSONParser]
    read_roles = CUSTOMER_WRITERS
    write_roles = CUSTOMER_WRITERS

    def get_queryset(self) -> Any:
        return selectors.export_job_list(scope=self.scope)

    def get_object(self) -> ExportJob:
        return selectors.export_job_get(scope=self.scope, pk=self.kwargs["pk"])

    @extend_schema(request=InvoiceExportInput, responses={202: ExportJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start an export of the invoices the filters select; poll the export until `status` is done."""
        form = InvoiceExportInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        include_drafts, include_xml = data.pop("include_drafts"), data.pop("include_xml")
        job = services.invoice_pdf_export_request(
            scope=self.scope, filters=selectors.InvoiceFilters(**data), include_drafts=include_drafts,
            include_xml=include_xml,
        )  # fmt: skip
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """The finished ZIP; an export that is not done is not found."""
        job = self.get_object()
        if job.status != ExportJob.Status.DONE or not job.file:
            raise NotFound(_("This export is not finished."))
        try:
            handle = job.file.open("rb")
        except FileNotFoundError as exc:
            raise NotFound from exc
        response = FileResponse(
            handle, as_attachment=True, filename=f"invoices-{job.created_at:%Y-%m-%d}-{job.pk}.zip",
            content_type="application/zip",
        )  # fmt: skip
        response["Cache-Control"] = "private, no-store"
        return response
