"""API v1 of invoices (docs/architecture.md): drafts, issuing, voiding, sending, the documents.
Thin: validate, call, serialize. Payments and credit notes are in payments_api, bulk exports in exports_api."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from billing.invoicing import pdf as billing_pdf
from billing.invoicing import selectors, services
from billing.invoicing.downloads import (
    DRAFT_HAS_NO_EINVOICE,
    invoice_cii_response,
    invoice_facturx_response,
    invoice_ubl_response,
    pdf_response,
)
from billing.invoicing.idempotency import HEADER as IDEMPOTENCY_HEADER
from billing.invoicing.idempotency import idempotent
from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.vat import UnitCode, VatCategory, VatExemptionCode, vat_line_problems
from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apikit import ScopedCustomerField, query_params
from subscriptions import selectors as subscription_selectors

UBL_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.BINARY, description="The document as UBL 2.1 XML (Peppol BIS Billing 3.0)."
)
CII_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.BINARY, description="The document as UN/CEFACT CII D16B XML (EN 16931, Factur-X EN 16931)."
)
FACTURX_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.BINARY,
    description="The document's PDF as Factur-X: PDF/A-3b with the CII embedded as factur-x.xml.",
)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="A retry with the same key returns the first result and creates nothing.",
)


@extend_schema_field(OpenApiTypes.INT)
class ScopedInvoiceField(serializers.PrimaryKeyRelatedField):
    """An invoice of the caller's scope, by id; with `issued_only` a draft is "does not exist" too."""

    def __init__(self, *, issued_only: bool = False, **kwargs: Any) -> None:
        self.issued_only = issued_only
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        invoices = selectors.invoice_list(scope=self.context["view"].scope)
        return invoices.exclude(status=Invoice.Status.DRAFT) if self.issued_only else invoices


class InvoiceQuery(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Number, customer name or domain"
    )
    status = serializers.ChoiceField(choices=Invoice.Status.choices, required=False)
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")
    period = serializers.RegexField(selectors.PERIOD_PATTERN, required=False, help_text="YYYY-MM: issued in that month")
    overdue = serializers.BooleanField(required=False, help_text="Only invoices past their due date")


@extend_schema_field(OpenApiTypes.INT)
class ScopedSubscriptionField(serializers.PrimaryKeyRelatedField):
    """A subscription of the caller's scope, by id; the service checks it is the invoice's customer's."""

    def get_queryset(self) -> Any:
        return subscription_selectors.subscription_list(scope=self.context["view"].scope)


class InvoiceLineSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4)
    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, default=Decimal("0.00")
    )

    vat_category = serializers.ChoiceField(
        choices=VatCategory.choices,
        required=False,
        help_text="UNCL5305. Left out: decided from the partner's and customer's countries, the customer's VAT "
        "number and the rate (S above 0 %; at 0 % Z in one country, AE for an EU business with a VAT number, G "
        "outside the EU).",
    )
    vat_exemption_code = serializers.ChoiceField(choices=VatExemptionCode.choices, required=False, allow_blank=True)
    unit_code = serializers.ChoiceField(choices=UnitCode.choices, default=UnitCode.ONE, help_text="UN/ECE rec. 20")
    subscription = ScopedSubscriptionField(
        required=False,
        allow_null=True,
        help_text="id of one of the invoice's customer's subscriptions that the line bills; null: a line of its own.",
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "description", "quantity", "unit_price", "unit_code", "tax_rate", "vat_category", "vat_exemption_reason",
            "vat_exemption_code", "subscription", "amount", "tax_amount",
        ]  # fmt: skip
        read_only_fields = ["amount", "tax_amount"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "vat_category" in attrs:  # the rule of billing.invoicing.vat, per field, before the service
            problems = vat_line_problems(
                category=attrs["vat_category"],
                rate=attrs.get("tax_rate", Decimal("0.00")),
                exemption_reason=attrs.get("vat_exemption_reason", ""),
                exemption_code=attrs.get("vat_exemption_code", ""),
            )
            if problems:
                raise serializers.ValidationError(problems)
        return attrs


class InvoiceSerializer(serializers.ModelSerializer):
    customer = ScopedCustomerField()
    lines = InvoiceLineSerializer(many=True)

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "customer", "status", "currency", "period", "issue_date", "due_date", "lines",
            "subtotal", "tax_total", "total", "amount_paid", "amount_credited", "balance", "notes", "created_at",
            "tax_currency_rate",
        ]  # fmt: skip
        read_only_fields = [
            f for f in fields if f not in ("customer", "lines", "notes", "issue_date", "due_date", "tax_currency_rate")
        ]
        extra_kwargs = {
            "issue_date": {"help_text": "Of a draft: the date issuing gives it (within a year of today); null: the day "
                           "it is issued."},
            "due_date": {"help_text": "Of a draft: the date it falls due (not before the issue date); null: the "
                         "customer's credit days after the issue date."},
            "tax_currency_rate": {"help_text": "Units of the partner's accounting currency per unit of the invoice's, "
                                  "for its tax total in the accounting currency (EN 16931 BT-111); only on an "
                                  "invoice in another currency; null: none stated."},
        }  # fmt: skip

    def validate_lines(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError("An invoice needs at least one line.")
        return value


class InvoiceUpdateSerializer(serializers.Serializer):
    lines = InvoiceLineSerializer(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    issue_date = serializers.DateField(
        required=False, allow_null=True, help_text="Within a year of today; null: the day the draft is issued."
    )
    due_date = serializers.DateField(
        required=False, allow_null=True, help_text="Not before the issue date; null: after the customer's credit days."
    )
    tax_currency_rate = serializers.DecimalField(
        max_digits=18, decimal_places=8, min_value=Decimal("0.00000001"), required=False, allow_null=True,
        help_text="Units of the partner's accounting currency per unit of the invoice's; null: none stated.",
    )  # fmt: skip


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class IssueSerializer(serializers.Serializer):
    email = serializers.BooleanField(
        default=False, help_text="Also email the issued invoice with its PDF to the customer's billing address."
    )


class SentSerializer(serializers.Serializer):
    to = serializers.ListField(child=serializers.EmailField(), help_text="Where the email goes.")


def _lines(data: list[dict[str, Any]]) -> list[services.LineInput]:
    return [
        services.LineInput(
            description=d["description"],
            quantity=d["quantity"],
            unit_price=d["unit_price"],
            tax_rate=d["tax_rate"],
            vat_category=d.get("vat_category"),
            vat_exemption_reason=d.get("vat_exemption_reason", ""),
            vat_exemption_code=d.get("vat_exemption_code", ""),
            unit_code=d.get("unit_code", UnitCode.ONE),
            subscription=d.get("subscription"),
            kind=InvoiceLine.Kind.SUBSCRIPTION if d.get("subscription") else InvoiceLine.Kind.MANUAL,
        )
        for d in data
    ]


@extend_schema_view(list=extend_schema(parameters=[InvoiceQuery]))
class InvoiceViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices of the caller's partner; customer users see their own issued invoices. Drafts are
    created and changed by finance and partner admins; issued invoices never change."""

    queryset = Invoice.objects.none()
    serializer_class = InvoiceSerializer
    write_roles = CUSTOMER_WRITERS

    def get_queryset(self) -> Any:
        # Filters are read only for the list; an action on one invoice ignores the query string.
        filters = (
            selectors.InvoiceFilters(**query_params(InvoiceQuery, self.request)) if self.action == "list" else None
        )
        return selectors.invoice_list(scope=self.scope, filters=filters).prefetch_related("lines")

    def get_object(self) -> Invoice:
        return selectors.invoice_get(scope=self.scope, pk=self.kwargs["pk"])

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], request=InvoiceSerializer, responses={201: InvoiceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def make() -> Response:
            form = InvoiceSerializer(data=request.data, context=self.get_serializer_context())
            form.is_valid(raise_exception=True)
            invoice = services.invoice_draft_create(
                partner=self.scope.partner, customer=form.validated_data["customer"], actor=self.scope.user,
                lines=_lines(form.validated_data["lines"]), notes=form.validated_data.get("notes", ""),
                issue_date=form.validated_data.get("issue_date"), due_date=form.validated_data.get("due_date"),
                tax_currency_rate=form.validated_data.get("tax_currency_rate"),
            )  # fmt: skip
            return Response(self._out(invoice), status=status.HTTP_201_CREATED)

        return idempotent(request=request, scope=self.scope, endpoint="invoices", create=make)

    @extend_schema(request=InvoiceUpdateSerializer, responses={200: InvoiceSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invoice = self.get_object()
        form = InvoiceUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        lines = data.get("lines")
        invoice = services.invoice_draft_update(
            invoice=invoice, actor=self.scope.user, lines=_lines(lines) if lines is not None else None,
            notes=data.get("notes"), issue_date=data.get("issue_date", services.UNCHANGED),
            due_date=data.get("due_date", services.UNCHANGED),
            tax_currency_rate=data.get("tax_currency_rate", services.UNCHANGED),
        )  # fmt: skip
        return Response(self._out(invoice))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a draft; an issued invoice is refused with 409 (void it instead)."""
        services.invoice_draft_delete(invoice=self.get_object(), actor=self.scope.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=IssueSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Assign the next number of the partner's gapless series and freeze the invoice; with
        `email: true`, also email it to the customer (refused whole, 422, when there is nowhere to send)."""
        form = IssueSerializer(data=request.data or {})
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            invoice = services.invoice_issue(invoice=self.get_object(), actor=self.scope.user)
            if form.validated_data["email"]:
                services.invoice_send_request(invoice=invoice, actor=self.scope.user)
        return Response(self._out(invoice))

    @extend_schema(request=None, responses={202: SentSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Email an issued invoice (again) in the customer's language, with the files its e-invoice format
        asks for: the PDF (`pdf`), the Factur-X PDF (`facturx`), or the PDF and the UBL XML (`ubl`)."""
        to = services.invoice_send_request(invoice=self.get_object(), actor=self.scope.user, again=True)
        return Response({"to": to}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=VoidSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = VoidSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invoice = services.invoice_void(
            invoice=self.get_object(), actor=self.scope.user, reason=form.validated_data["reason"]
        )
        return Response(self._out(invoice))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The invoice as a PDF, in the customer's language."""
        invoice = self.get_object()
        return pdf_response(billing_pdf.invoice_pdf(invoice=invoice), billing_pdf.invoice_pdf_filename(invoice))

    @extend_schema(responses={(200, "application/xml"): UBL_RESPONSE})
    @action(detail=True, methods=["get"])
    def ubl(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The issued invoice as a Peppol BIS Billing 3.0 UBL 2.1 Invoice; a draft is not found."""
        invoice = self.get_object()
        if invoice.is_draft:
            raise NotFound(DRAFT_HAS_NO_EINVOICE)
        return invoice_ubl_response(invoice)

    @extend_schema(responses={(200, "application/xml"): CII_RESPONSE})
    @action(detail=True, methods=["get"])
    def cii(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The issued invoice as a UN/CEFACT CII (EN 16931), the XML its Factur-X PDF carries; a draft is
        not found."""
        invoice = self.get_object()
        if invoice.is_draft:
            raise NotFound(DRAFT_HAS_NO_EINVOICE)
        return invoice_cii_response(invoice)

    @extend_schema(responses={(200, "application/pdf"): FACTURX_RESPONSE})
    @action(detail=True, methods=["get"], url_path="factur-x")
    def facturx(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The issued invoice as a Factur-X PDF (EN 16931 profile); a draft is not found."""
        invoice = self.get_object()
        if invoice.is_draft:
            raise NotFound(DRAFT_HAS_NO_EINVOICE)
        return invoice_facturx_response(invoice)

    def _out(self, invoice: Invoice) -> Any:
        return InvoiceSerializer(
            selectors.invoice_get(scope=self.scope, pk=invoice.pk), context=self.get_serializer_context()
        ).data
