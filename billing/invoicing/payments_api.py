"""API v1 of payments, refunds and credit notes. Thin: validate, call, serialize."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing.einvoicing import ubl
from billing.invoicing import selectors, services
from billing.invoicing.api import (
    CII_RESPONSE,
    FACTURX_RESPONSE,
    IDEMPOTENCY_PARAMETER,
    UBL_RESPONSE,
    ScopedInvoiceField,
    VoidSerializer,
)
from billing.invoicing.downloads import (
    credit_note_cii_response,
    credit_note_facturx_response,
    xml_response,
)
from billing.invoicing.idempotency import idempotent
from billing.invoicing.models import CreditNote, Payment, Refund
from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apikit import ScopedCustomerField, query_params


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
