"""API v1 of tickets: tickets, their messages, the support offering. Thin.

Customers see and open tickets of their own customer only, never set the assignee and never see or
write internal notes (the selectors drop them for customer scopes). Every write goes to a service.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.invoicing.api import ScopedInvoiceField
from partner_portal.access import ALL_ROLES, STAFF_MANAGERS, ScopedAPIMixin
from partner_portal.apikit import ScopedCustomerField, query_params
from partner_portal.apiparsers import JSONParser
from partner_portal.models import User
from tickets import selectors, services
from tickets.models import SupportOffering, Ticket, TicketAttachment, TicketMessage, TicketRating
from tickets.plan_api import TargetSerializer, targets_input


@extend_schema_field(OpenApiTypes.INT)
class AssigneeField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        scope = self.context["view"].scope
        return User.objects.filter(pk__in=selectors.ticket_assignees(scope=scope).values("user_id"))


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = ["id", "name", "size", "content_type", "url", "created_at"]

    def get_url(self, attachment: TicketAttachment) -> str:
        return reverse("ticket_attachment", args=[attachment.pk])


class RatingSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    rated_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = TicketRating
        fields = ["score", "comment", "rated_at"]


class TicketSerializer(serializers.ModelSerializer):
    customer = ScopedCustomerField(required=False)
    assignee = AssigneeField(required=False, allow_null=True)
    invoices = ScopedInvoiceField(issued_only=True, many=True, required=False)
    reference = serializers.CharField(read_only=True)
    breached = serializers.BooleanField(read_only=True, default=False)
    near_breach = serializers.BooleanField(read_only=True, default=False)
    rating = serializers.SerializerMethodField(help_text="The customer's rating of the resolved ticket, if given.")

    class Meta:
        model = Ticket
        fields = [
            "id", "reference", "number", "customer", "subject", "description", "category", "product_family",
            "severity", "status", "assignee", "invoices", "first_response_due", "resolution_due",
            "first_responded_at", "resolved_at", "closed_at", "breached", "near_breach", "rating", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "number", "status", "first_responded_at", "resolved_at", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(RatingSerializer(allow_null=True))
    def get_rating(self, ticket: Ticket) -> dict[str, Any] | None:
        rating = getattr(ticket, "rating", None)  # selected with the ticket (one-to-one)
        return RatingSerializer(rating).data if rating is not None else None

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if not self.context["view"].scope.is_staff:
            data.pop("assignee", None)  # who works a ticket is the partner's business
        return data


class TicketCreateSerializer(TicketSerializer):
    class Meta(TicketSerializer.Meta):
        read_only_fields = [*TicketSerializer.Meta.read_only_fields, "first_response_due", "resolution_due"]
        extra_kwargs = {"description": {"required": True}, "subject": {"required": True}}


class TicketUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    category = serializers.ChoiceField(choices=Ticket.Category.choices, required=False)
    product_family = serializers.ChoiceField(choices=Ticket.ProductFamily.choices, required=False)
    severity = serializers.ChoiceField(choices=Ticket.Severity.choices, required=False)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    assignee = AssigneeField(required=False, allow_null=True)
    invoices = ScopedInvoiceField(issued_only=True, many=True, required=False)
    first_response_due = serializers.DateTimeField(required=False, allow_null=True)
    resolution_due = serializers.DateTimeField(required=False, allow_null=True)
    customer = serializers.IntegerField(required=False)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "author", "body", "internal", "attachments", "created_at"]
        read_only_fields = ["id", "author", "attachments", "created_at"]

    def get_author(self, message: TicketMessage) -> str | None:
        return message.author.get_full_name() if message.author else None


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField()
    internal = serializers.BooleanField(default=False)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class TicketQuery(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="subject, reference or customer"
    )
    view = serializers.ChoiceField(choices=list(selectors.VIEWS), required=False)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    category = serializers.ChoiceField(choices=Ticket.Category.choices, required=False)
    severity = serializers.ChoiceField(choices=Ticket.Severity.choices, required=False)
    assignee = serializers.IntegerField(required=False, min_value=1, source="assignee_id")
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")


@extend_schema_view(list=extend_schema(parameters=[TicketQuery]))
class TicketViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Support tickets. Staff see the partner's, customer users their customer's. Customers open
    tickets for their own customer, reply, and close or reopen resolved ones; staff change the rest."""

    queryset = Ticket.objects.none()
    serializer_class = TicketSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        filters = selectors.TicketFilters(**query_params(TicketQuery, self.request)) if self.action == "list" else None
        return (
            selectors.ticket_list(scope=self.scope, filters=filters)
            .select_related("rating")
            .prefetch_related("invoices")
        )

    def get_object(self) -> Ticket:
        return selectors.ticket_get(scope=self.scope, pk=self.kwargs["pk"])

    def _out(self, ticket: Ticket) -> Any:
        return TicketSerializer(self.get_object_for(ticket), context=self.get_serializer_context()).data

    def get_object_for(self, ticket: Ticket) -> Ticket:
        return selectors.ticket_get(scope=self.scope, pk=ticket.pk)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        d = form.validated_data
        scope = self.scope
        if scope.customer is not None:
            if "assignee" in request.data:
                raise ValidationError({"assignee": [str(services.STAFF_ONLY)]})
            customer = scope.customer
        else:
            customer = d.get("customer")
            if customer is None:
                raise ValidationError({"customer": ["This field is required."]})
        ticket = services.ticket_create(
                partner=scope.partner, customer=customer, opened_by=scope.user, subject=d["subject"],
                description=d["description"], category=d.get("category", Ticket.Category.TECHNICAL),
                product_family=d.get("product_family", Ticket.ProductFamily.MICROSOFT_365),
                severity=d.get("severity", Ticket.Severity.C), assignee=d.get("assignee"),
                invoices=list(d.get("invoices", [])),
            )  # fmt: skip
        return Response(self._out(ticket), status=status.HTTP_201_CREATED)

    @extend_schema(request=TicketUpdateSerializer, responses={200: TicketSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        form = TicketUpdateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        d = dict(form.validated_data)
        customer_id, new_status = d.pop("customer", None), d.pop("status", None)
        changes = services.TicketChanges(
            subject=d.get("subject"), description=d.get("description"), category=d.get("category"),
            product_family=d.get("product_family"), severity=d.get("severity"),
            assignee=d.get("assignee", services.UNSET),
            first_response_due=d.get("first_response_due", services.UNSET),
            resolution_due=d.get("resolution_due", services.UNSET),
            invoices=list(d["invoices"]) if "invoices" in d else None,
        )  # fmt: skip
        ticket = services.ticket_change(
            ticket=ticket, actor=self.scope.user, changes=changes, status=new_status, customer_id=customer_id
        )
        return Response(self._out(ticket))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            return Response({"detail": "Use PATCH."}, status=status.HTTP_405_METHOD_NOT_ALLOWED)
        return super().update(request, *args, **kwargs)

    @extend_schema(
        methods=["GET"],
        responses={200: MessageSerializer(many=True)},
        description="Public replies (and, for staff, internal notes).",
    )
    @extend_schema(methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def messages(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        if request.method == "GET":
            qs = selectors.ticket_messages(scope=self.scope, ticket=ticket)
            page = self.paginate_queryset(qs)
            data = MessageSerializer(page if page is not None else qs, many=True).data
            return self.get_paginated_response(data) if page is not None else Response(data)
        form = MessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if form.validated_data["internal"] and not self.scope.is_staff:
            raise ValidationError({"internal": [str(services.STAFF_ONLY)]})
        message = services.ticket_message_add(
                ticket=ticket, author=self.scope.user, body=form.validated_data["body"],
                internal=form.validated_data["internal"], files=form.validated_data["files"],
            )  # fmt: skip
        out = selectors.ticket_message_get(scope=self.scope, ticket=ticket, pk=message.pk)
        return Response(MessageSerializer(out).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RatingSerializer, responses={201: RatingSerializer})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The customer rates a resolved ticket, once: a score 1 to 5 and a comment. A score of 1 or 2
        reopens the ticket with the comment as the customer's message. Staff cannot rate (409)."""
        ticket = self.get_object()
        form = RatingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rating = services.ticket_rate(
            ticket=ticket, score=form.validated_data["score"], comment=form.validated_data["comment"].strip(),
            actor=self.scope.user,
        )  # fmt: skip
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)

    def paginate_queryset(self, queryset: Any) -> Any:
        if self.action == "messages":
            self.paginator.ordering = "id"  # type: ignore[union-attr]  # a conversation reads oldest first
        return super().paginate_queryset(queryset)


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100)


class SupportOfferingSerializer(serializers.ModelSerializer):
    holidays = HolidaySerializer(many=True, required=False)
    sla_overrides = TargetSerializer(
        many=True, required=False, source="sla_targets",
        help_text="targets of one severity for one product family, over the severity's own; given, they replace "
        "the overrides",
    )  # fmt: skip
    hours = serializers.JSONField(
        help_text='{"mon": [["09:00", "18:00"]], ..., "sun": []}: periods of service per weekday, HH:MM.'
    )

    class Meta:
        model = SupportOffering
        fields = [
            "time_zone", "hours", "holidays", "contact_portal", "contact_email", "contact_phone", "contact_notes",
            "contact_notes_ru",
            "price_model", "price_amount", "currency", "first_response_minutes_a", "first_response_minutes_b",
            "first_response_minutes_c", "resolution_minutes_a", "resolution_minutes_b", "resolution_minutes_c",
            "sla_overrides", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["updated_at"]

    def to_representation(self, instance: SupportOffering) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["holidays"] = [{"date": h.date.isoformat(), "name": h.name} for h in instance.holidays.order_by("date")]
        return data


class SupportOfferingAPIView(ScopedAPIMixin, APIView):
    """The partner's support offering: hours, time zone, holidays, contacts, SLA targets (business
    minutes) and price model. Everyone in the partner reads it (customers too); partner admins PUT it."""

    read_roles = ALL_ROLES
    write_roles = STAFF_MANAGERS

    @extend_schema(responses={200: SupportOfferingSerializer})
    def get(self, request: Request) -> Response:
        return Response(SupportOfferingSerializer(selectors.support_offering_for(scope=self.scope)).data)

    @extend_schema(request=SupportOfferingSerializer, responses={200: SupportOfferingSerializer})
    def put(self, request: Request) -> Response:
        form = SupportOfferingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        holidays = d.get("holidays")
        data = services.OfferingInput(
            time_zone=d["time_zone"], hours=d["hours"], contact_portal=d.get("contact_portal", True),
            contact_email=d.get("contact_email", ""), contact_phone=d.get("contact_phone", ""),
            contact_notes=d.get("contact_notes", ""), contact_notes_ru=d.get("contact_notes_ru", ""),
            price_model=d.get("price_model", SupportOffering.PriceModel.INCLUDED),
            price_amount=d.get("price_amount"), currency=d.get("currency", self.scope.partner.default_currency),
            **{name: d.get(name, getattr(services.OfferingInput, name)) for name in _TARGETS},
            holidays=[services.HolidayInput(date=h["date"], name=h["name"]) for h in holidays]
            if holidays is not None
            else None,
            sla_overrides=targets_input(d["sla_targets"]) if "sla_targets" in d else None,
        )  # fmt: skip
        offering = services.support_offering_update(partner=self.scope.partner, actor=self.scope.user, data=data)
        return Response(SupportOfferingSerializer(offering).data)


_TARGETS = (
    "first_response_minutes_a",
    "first_response_minutes_b",
    "first_response_minutes_c",
    "resolution_minutes_a",
    "resolution_minutes_b",
    "resolution_minutes_c",
)

__all__ = ["SupportOfferingAPIView", "TicketViewSet"]
