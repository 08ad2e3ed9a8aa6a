"""API v1 of billing (docs/architecture.md): invoices, payments, credit notes. Thin: validate, call, serialize."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
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

from billing.einvoicing import ubl
from billing.invoicing import pdf as billing_pdf
from billing.invoicing import selectors, services
from billing.invoicing.downloads import (
    DRAFT_HAS_NO_EINVOICE,
    credit_note_cii_response,
    credit_note_facturx_response,
    invoice_cii_response,
    invoice_facturx_response,
    invoice_ubl_response,
    pdf_response,
    xml_response,
)
from billing.invoicing.idempotency import HEADER as IDEMPOTENCY_HEADER
from billing.invoicing.idempotency import idempotent
from billing.invoicing.models import CreditNote, ExportJob, Invoice, InvoiceLine, Payment, Refund
from billing.invoicing.vat import UnitCode, VatCategory, VatExemptionCode, vat_line_problems
from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apikit import ScopedCustomerField, query_params
from partner_portal.apiparsers import JSONParser
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


class AllocationSerializer(serializers.Serializer):
    invoice = ScopedInvoiceField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class AllocationOutput(serializers.Serializer):
    invoice = serializers.CharField()
    number = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    reversed_at = serializers.DateTimeField(allow_null=True)


class RefundSourceInput(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, help_text="An invoice this payment pays.")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class RefundInput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    refunded_on = serializers.DateField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=500)
    sources = RefundSourceInput(
        many=True, required=False, default=list,
        help_text="How much comes off each invoice the payment pays; the rest comes from the payment's credit.",
    )  # fmt: skip
    credit_invoices = serializers.BooleanField(
        required=False, default=False, help_text="Credit each named invoice for its part (a credit note each)."
    )


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "payment", "amount", "currency", "refunded_on", "reference", "reason", "from_invoices",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    customer = ScopedCustomerField()
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "received_on",
            "method",
            "provider",
            "reference",
            "unallocated",
            "allocations",
            "created_at",
            "voided_at",
            "void_reason",
            "refunds",
        ]
        read_only_fields = [
            "id", "currency", "provider", "unallocated", "created_at", "voided_at", "void_reason", "refunds",
        ]  # fmt: skip
        extra_kwargs = {
            "provider": {"help_text": "The online payment provider that took a card payment; blank otherwise."}
        }

    refunds = RefundSerializer(many=True, read_only=True)

    @extend_schema_field(AllocationOutput(many=True))
    def get_allocations(self, payment: Payment) -> list[dict[str, Any]]:
        """Every allocation, with `reversed_at` set on those a void or refund took back (history)."""
        return [
            {
                "invoice": str(a.invoice_id), "number": a.invoice.number, "amount": str(a.amount),
                "reversed_at": a.reversed_at.isoformat() if a.reversed_at else None,
            }
            for a in payment.allocations.all()
        ]  # fmt: skip


class PaymentCreateSerializer(PaymentSerializer):
    allocations = AllocationSerializer(many=True, required=False)  # type: ignore[assignment]

    class Meta(PaymentSerializer.Meta):
        pass


class PaymentQuery(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")
    method = serializers.ChoiceField(choices=Payment.Method.choices, required=False)


@extend_schema_view(list=extend_schema(parameters=[PaymentQuery]))
class PaymentViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments received from customers. Without allocations, the oldest open invoices are paid first;
    what is left over is the customer's credit."""

    queryset = Payment.objects.none()
    serializer_class = PaymentSerializer
    write_roles = CUSTOMER_WRITERS

    def get_queryset(self) -> Any:
        qs = selectors.payment_list(scope=self.scope)
        return qs.filter(**query_params(PaymentQuery, self.request)) if self.action == "list" else qs

    def get_object(self) -> Payment:
        return selectors.payment_get(scope=self.scope, pk=self.kwargs["pk"])

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=PaymentCreateSerializer, responses={201: PaymentSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def make() -> Response:
            form = PaymentCreateSerializer(data=request.data, context=self.get_serializer_context())
            form.is_valid(raise_exception=True)
            data = form.validated_data
            allocations = data.get("allocations")
            payment = services.payment_record(
                partner=self.scope.partner, customer=data["customer"], actor=self.scope.user, amount=data["amount"],
                received_on=data["received_on"], method=data.get("method", Payment.Method.BANK_TRANSFER),
                reference=data.get("reference", ""),
                allocations=[services.AllocationInput(invoice=a["invoice"], amount=a["amount"]) for a in allocations]
                if allocations is not None else None,
            )  # fmt: skip
            return Response(
                PaymentSerializer(self.get_queryset().get(pk=payment.pk), context=self.get_serializer_context()).data,
                status=201,
            )

        return idempotent(request=request, scope=self.scope, endpoint="payments", create=make)

    @extend_schema(request=VoidSerializer, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Void a payment recorded in error, with a `reason` (required): its allocations are reversed and
        kept as history, the invoices it paid are open again (balance and status recomputed), its credit
        is gone, and collections look at the customer again. Voiding a voided payment changes nothing."""
        form = VoidSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        payment = services.payment_void(
            payment=self.get_object(), actor=self.scope.user, reason=form.validated_data["reason"]
        )
        return Response(
            PaymentSerializer(self.get_queryset().get(pk=payment.pk), context=self.get_serializer_context()).data
        )

    @extend_schema(request=RefundInput, responses={201: RefundSerializer})
    @action(detail=True, methods=["post"])
    def refunds(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Refund money of the payment to the customer: at most what is left of it, dated between the
        payment's date and today. It comes off the invoices named in `sources` (which owe it again, or
        are credited with `credit_invoices`), and the rest from the payment's credit; allocated money
        is never refunded without naming its invoice (400 with the message under `sources`)."""
        payment = self.get_object()
        form = RefundInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        active = {a.invoice_id: a for a in payment.allocations.all() if not a.is_reversed}
        unknown = [s["invoice"] for s in data["sources"] if s["invoice"] not in active]
        if unknown:
            message = _("This payment does not pay invoice %(id)s.") % {"id": unknown[0]}
            raise serializers.ValidationError({"sources": [message]})
        refund = services.refund_record(
            payment=payment, actor=self.scope.user, amount=data["amount"], refunded_on=data["refunded_on"],
            reason=data["reason"], reference=data["reference"], credit_invoices=data["credit_invoices"],
            sources=[services.RefundSource(allocation=active[s["invoice"]], amount=s["amount"]) for s in data["sources"]],
        )  # fmt: skip
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class CreditLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="id of a line of the credited invoice")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0.0001"))


class VatBandSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="UNCL5305 VAT category")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    net = serializers.DecimalField(max_digits=16, decimal_places=2)
    tax = serializers.DecimalField(max_digits=16, decimal_places=2)
    exemption = serializers.CharField()


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice = ScopedInvoiceField()
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False,
        help_text="VAT included, split across the invoice's VAT bands in proportion. Or give lines.",
    )  # fmt: skip
    lines = CreditLineSerializer(
        many=True, required=False, write_only=True, help_text="Lines of the invoice and the quantities to credit."
    )
    vat_breakdown = VatBandSerializer(many=True, read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id", "number", "invoice", "invoice_number", "invoice_issue_date", "customer", "amount", "net_amount",
            "tax_amount", "vat_breakdown", "lines", "currency", "reason", "issue_date", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "number", "invoice_number", "invoice_issue_date", "customer", "net_amount", "tax_amount",
            "currency", "issue_date", "created_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("amount" in attrs) == ("lines" in attrs):
            raise serializers.ValidationError({"amount": ["Give either an amount or lines to credit."]})
        return attrs


class CreditNoteQuery(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")
    invoice = serializers.IntegerField(required=False, min_value=1, source="invoice_id")


@extend_schema_view(list=extend_schema(parameters=[CreditNoteQuery]))
class CreditNoteViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Credit notes: the only correction of an issued invoice; each reduces that invoice's balance."""

    queryset = CreditNote.objects.none()
    serializer_class = CreditNoteSerializer
    write_roles = CUSTOMER_WRITERS

    def get_queryset(self) -> Any:
        qs = selectors.credit_note_list(scope=self.scope)
        return qs.filter(**query_params(CreditNoteQuery, self.request)) if self.action == "list" else qs

    def get_object(self) -> CreditNote:
        return selectors.credit_note_get(scope=self.scope, pk=self.kwargs["pk"])

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=CreditNoteSerializer, responses={201: CreditNoteSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def make() -> Response:
            form = CreditNoteSerializer(data=request.data, context=self.get_serializer_context())
            form.is_valid(raise_exception=True)
            data = form.validated_data
            lines = data.get("lines")
            note = services.credit_note_issue(
                invoice=data["invoice"], actor=self.scope.user, reason=data["reason"], amount=data.get("amount"),
                lines=[services.CreditLineInput(line_id=x["line"], quantity=x["quantity"]) for x in lines]
                if lines is not None
                else None,
            )  # fmt: skip
            return Response(CreditNoteSerializer(note, context=self.get_serializer_context()).data, status=201)

        return idempotent(request=request, scope=self.scope, endpoint="credit-notes", create=make)

    @extend_schema(responses={(200, "application/xml"): UBL_RESPONSE})
    @action(detail=True, methods=["get"])
    def ubl(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The credit note as a Peppol BIS Billing 3.0 UBL 2.1 CreditNote."""
        note = self.get_object()
        return xml_response(ubl.credit_note_ubl(credit_note=note), ubl.credit_note_ubl_filename(note))

    @extend_schema(responses={(200, "application/xml"): CII_RESPONSE})
    @action(detail=True, methods=["get"])
    def cii(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The credit note as a UN/CEFACT CII of type 381 (EN 16931)."""
        return credit_note_cii_response(self.get_object())

    @extend_schema(responses={(200, "application/pdf"): FACTURX_RESPONSE})
    @action(detail=True, methods=["get"], url_path="factur-x")
    def facturx(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The credit note's PDF as Factur-X (EN 16931 profile)."""
        return credit_note_facturx_response(self.get_object())


# ---- Bulk exports ---------------------------------------------------------------------------------


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
