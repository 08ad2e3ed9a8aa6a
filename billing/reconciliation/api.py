"""API v1: Partner Center reconciliation imports and the Microsoft payable they produce (docs/architecture.md).

`reconciliation-imports/`: GET the partner's imports, POST a file (multipart `file`, optional `period`
YYYY-MM). Partner admins and finance only. Thin: validate, call one service or selector, serialize.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.invoicing import selectors as invoicing_selectors
from billing.invoicing.errors import BillingError
from billing.reconciliation import selectors, services
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apiparsers import JSONParser

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # a 100,000-line new-commerce file is about 70 MB
PERIOD_PATTERN = invoicing_selectors.PERIOD_PATTERN


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row as a spreadsheet shows it: the header is row 1.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class MicrosoftPayableSerializer(serializers.ModelSerializer):
    class Meta:
        model = MicrosoftPayable
        fields = [
            "id", "period", "amount", "currency", "due_date", "due_date_manual", "source", "reconciliation_import",
            "manual_amount", "imported_amount", "notes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class UnmatchedCustomerSerializer(serializers.Serializer):
    ms_customer_id = serializers.CharField()
    customer_name = serializers.CharField()
    customer_domain = serializers.CharField()
    lines = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=16, decimal_places=2)
    first_line_id = serializers.IntegerField(help_text="Pass it to map/ to map all these lines to a customer.")


class ReconciliationImportSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField[Any](slug_field="email", read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="Progress, 0 to 100.")
    payable = serializers.SerializerMethodField()
    unmatched_customers = serializers.SerializerMethodField()

    class Meta:
        model = ReconciliationImport
        fields = [
            "id", "period", "kind", "file_name", "file_sha256", "status", "percent", "total_lines",
            "processed_lines", "matched_lines", "unmatched_lines", "errors", "total", "currency", "payable",
            "unmatched_customers", "created_by", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # Declared here, not as a class attribute: `errors` is also the name of Serializer.errors.
        fields["errors"] = RowErrorSerializer(source="shown_errors", many=True, read_only=True)
        return fields

    @extend_schema_field(MicrosoftPayableSerializer(allow_null=True))
    def get_payable(self, imp: ReconciliationImport) -> dict[str, Any] | None:
        """The payable of the import's period and currency (once the import is done)."""
        if imp.status != ReconciliationImport.Status.DONE:
            return None
        payables: dict[tuple[str, str], MicrosoftPayable] | None = self.context.get("payables")
        if payables is None:
            payables = selectors.microsoft_payables_for_imports(scope=self.context["view"].scope, imports=[imp])
        payable = payables.get((imp.period, imp.currency))
        return dict(MicrosoftPayableSerializer(payable).data) if payable is not None else None

    @extend_schema_field(UnmatchedCustomerSerializer(many=True, allow_null=True))
    def get_unmatched_customers(self, imp: ReconciliationImport) -> list[Any] | None:
        """The Microsoft customers no customer matched, on a single import (null in lists)."""
        if not self.context.get("detail"):
            return None
        rows = selectors.reconciliation_unmatched_customers(scope=self.context["view"].scope, reconciliation_import=imp)
        return list(UnmatchedCustomerSerializer(rows, many=True).data)


class ReconciliationUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The Partner Center reconciliation file: CSV (UTF-8 or UTF-16; comma, semicolon or tab) or .xlsx."
    )
    period = serializers.RegexField(
        PERIOD_PATTERN,
        required=False,
        allow_blank=True,
        help_text="YYYY-MM; by default the month most charge lines start in.",
        error_messages={"invalid": "Give the period as YYYY-MM, e.g. 2026-11."},
    )

    def validate_file(self, value: Any) -> Any:
        limit = getattr(settings, "RECONCILIATION_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES)
        if value.size > limit:
            raise serializers.ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
        if value.size == 0:
            raise serializers.ValidationError("The file is empty.")
        return value


@extend_schema_field(OpenApiTypes.INT)
class _ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id among the caller's customers (else "does not exist")."""

    def get_queryset(self) -> Any:
        return core_selectors.customer_list(scope=self.context["view"].scope)


class MapSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="An unmatched line of this import.")
    customer = _ScopedCustomerField()


class MapResultSerializer(serializers.Serializer):
    lines_mapped = serializers.IntegerField()


class BillUsageSerializer(serializers.Serializer):
    markup_percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("-99.99"), default=Decimal("0.00")
    )


class BilledInvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(source="customer_id")
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2)


class CustomerMarginSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    currency = serializers.CharField()
    cost = serializers.DecimalField(max_digits=16, decimal_places=2)
    billed = serializers.DecimalField(max_digits=16, decimal_places=2)
    margin = serializers.DecimalField(max_digits=16, decimal_places=2)


class SubscriptionMarginSerializer(CustomerMarginSerializer):
    subscription_id = serializers.IntegerField(allow_null=True)
    ms_subscription_id = serializers.CharField()
    product = serializers.CharField()


class MarginsSerializer(serializers.Serializer):
    customers = CustomerMarginSerializer(many=True)
    subscriptions = SubscriptionMarginSerializer(many=True)


class ReconciliationImportViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Partner Center reconciliation files and what they produced: matched lines, per-row errors of a
    refused file, the Microsoft payable of the period. The same file uploaded again is the same import."""

    queryset = ReconciliationImport.objects.none()
    serializer_class = ReconciliationImportSerializer
    read_roles = CUSTOMER_WRITERS
    write_roles = CUSTOMER_WRITERS
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    payables: dict[tuple[str, str], MicrosoftPayable] | None = None

    def get_queryset(self) -> Any:
        return selectors.reconciliation_import_list(scope=self.scope)

    def get_object(self) -> ReconciliationImport:
        return selectors.reconciliation_import_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "payables": self.payables, "detail": self.action != "list"}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = list(page) if page is not None else list(self.get_queryset())
        self.payables = selectors.microsoft_payables_for_imports(scope=self.scope, imports=rows)  # one query
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _out(self, imp: ReconciliationImport) -> Any:
        fresh = selectors.reconciliation_import_get(scope=self.scope, pk=imp.pk)
        return ReconciliationImportSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(
        request={"multipart/form-data": ReconciliationUploadSerializer},
        responses={
            201: ReconciliationImportSerializer,
            200: OpenApiResponse(ReconciliationImportSerializer, description="The file was imported before."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a reconciliation file. Small files are imported at once; larger ones by a worker —
        poll the import for its status and progress."""
        form = ReconciliationUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            submission = services.reconciliation_import_submit(
                partner=self.scope.partner, actor=self.scope.user, file_name=upload.name or "",
                content=b"".join(upload.chunks()), period=form.validated_data.get("period") or None,
            )  # fmt: skip
        except BillingError as exc:
            raise ValidationError({"period": [str(exc)]}) from exc
        return Response(
            self._out(submission.reconciliation_import),
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
        )

    @extend_schema(request=MapSerializer, responses={200: MapResultSerializer})
    @action(detail=True, methods=["post"])
    def map(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Map an unmatched line, and every unmatched line of the import with the same Microsoft
        customer ID, to one of the partner's customers."""
        imp = self.get_object()
        form = MapSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        line = (
            selectors.reconciliation_lines(scope=self.scope, reconciliation_import=imp)
            .filter(pk=form.validated_data["line"])
            .first()
        )
        if line is None:
            raise ValidationError({"line": ["No such line in this import."]})
        try:
            count = services.reconciliation_line_map(
                line=line, customer=form.validated_data["customer"], actor=self.scope.user
            )
        except BillingError as exc:
            raise ValidationError({"line": [str(exc)]}) from exc
        return Response({"lines_mapped": count})

    @extend_schema(request=BillUsageSerializer, responses={200: BilledInvoiceSerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="bill-usage")
    def bill_usage(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add the import's matched, unbilled usage to the customers' draft invoices, with a markup."""
        imp = self.get_object()
        form = BillUsageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            invoices = services.reconciliation_usage_bill(
                reconciliation_import=imp, actor=self.scope.user, markup_percent=form.validated_data["markup_percent"]
            )
        except BillingError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(BilledInvoiceSerializer(invoices, many=True).data)

    @extend_schema(responses={200: MarginsSerializer})
    @action(detail=True, methods=["get"])
    def margins(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Microsoft's cost against what the customers were invoiced, per customer and subscription."""
        imp = self.get_object()
        return Response(
            MarginsSerializer(
                {
                    "customers": selectors.reconciliation_margin_by_customer(
                        scope=self.scope, reconciliation_import=imp
                    ),
                    "subscriptions": selectors.reconciliation_margin_by_subscription(
                        scope=self.scope, reconciliation_import=imp
                    ),
                }
            ).data
        )
