"""API v1 of escalation: entitlements, escalations, escalating a ticket. Thin.

Staff only: customer users are refused (403) by role; another partner's rows are 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation import selectors, services
from escalation.access import ESCALATION_WRITERS
from escalation.models import Entitlement, EntitlementType, Escalation, SupportTier
from partner_portal.access import STAFF_MANAGERS, ScopedAPIMixin
from partner_portal.apikit import query_params
from partner_portal.models import STAFF_ROLES

# ---- Entitlements ---------------------------------------------------------------------------------


class EntitlementSerializer(serializers.ModelSerializer):
    kind = serializers.SlugField(
        source="kind_id", max_length=40, required=False, help_text="an entitlement type's code"
    )
    tier = serializers.CharField(source="tier_code", read_only=True)
    incidents_remaining = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Entitlement
        fields = [
            "id",
            "kind",
            "tier",
            "reference",
            "valid_from",
            "valid_until",
            "preference",
            "incidents_remaining",
            "state",
            "created_at",
        ]
        read_only_fields = ["id", "tier", "state", "created_at"]

    def get_state(self, entitlement: Entitlement) -> str:
        return selectors.entitlement_state(entitlement, self.context["today"])

    def to_internal_value(self, data: Any) -> Any:
        # "tier or competency": `tier` is accepted as another name for `kind` on input.
        if hasattr(data, "get") and "kind" not in data and "tier" in data:
            data = {**data, "kind": data["tier"]}
        return super().to_internal_value(data)

    def validate_kind(self, code: str) -> str:
        if not EntitlementType.objects.filter(code=code).exists():
            raise ValidationError(f"Unknown entitlement type {code!r}: see the support catalogue.")
        return code

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "kind_id" not in attrs:
            choosable = EntitlementType.objects.filter(retired=False).order_by("rank", "code")
            raise ValidationError({"kind": ["Choose one of: " + ", ".join(t.code for t in choosable) + "."]})
        return attrs


class EntitlementViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """The partner's Microsoft support contracts and competencies. Partner admins record them."""

    queryset = Entitlement.objects.none()
    serializer_class = EntitlementSerializer
    read_roles = STAFF_ROLES
    write_roles = STAFF_MANAGERS
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = None  # a handful of rows per partner

    def get_queryset(self) -> Any:
        return selectors.entitlement_list(scope=self.scope)

    def get_object(self) -> Entitlement:
        return selectors.entitlement_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_serializer_context(self) -> dict[str, Any]:
        from partner_portal import clock

        return {**super().get_serializer_context(), "today": clock.today(self.scope.partner.time_zone)}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        entitlement = services.entitlement_create(
            partner=self.scope.partner, actor=self.scope.user, data=_input(form.validated_data)
        )
        return Response(self.get_serializer(entitlement).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entitlement = self.get_object()
        form = self.get_serializer(entitlement, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        current = {
            "kind_id": entitlement.kind_id, "reference": entitlement.reference, "valid_from": entitlement.valid_from,
            "valid_until": entitlement.valid_until, "preference": entitlement.preference,
            "incidents_remaining": entitlement.incidents_remaining,
        }  # fmt: skip
        entitlement = services.entitlement_update(
            entitlement=entitlement, actor=self.scope.user, data=_input({**current, **form.validated_data})
        )
        return Response(self.get_serializer(entitlement).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)


def _input(data: dict[str, Any]) -> services.EntitlementInput:
    return services.EntitlementInput(
        kind=data["kind_id"], valid_from=data["valid_from"], valid_until=data.get("valid_until"),
        reference=data.get("reference", ""), preference=data.get("preference", 100),
        incidents=data.get("incidents_remaining"),
    )  # fmt: skip


# ---- Escalations ----------------------------------------------------------------------------------


class EscalationSerializer(serializers.ModelSerializer):
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    customer = serializers.IntegerField(source="ticket.customer_id", read_only=True)
    tier: serializers.SlugRelatedField[SupportTier] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    tier_name = serializers.CharField(source="tier.name", read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = Escalation
        fields = [
            "id", "ticket", "ticket_reference", "customer", "tier", "tier_name", "entitlement", "channel", "reason",
            "microsoft_case_number", "status", "automatic", "routed_on", "created_by", "created_at", "updated_at",
            "filed_at", "resolved_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class EscalationDetailSerializer(EscalationSerializer):
    summary = serializers.SerializerMethodField()

    class Meta(EscalationSerializer.Meta):
        fields = [*EscalationSerializer.Meta.fields, "summary"]
        read_only_fields = fields

    def get_summary(self, escalation: Escalation) -> str:
        return selectors.escalation_summary(escalation=escalation)


class EscalationUpdateSerializer(serializers.Serializer):
    microsoft_case_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Escalation.Status.choices, required=False)


class EscalationQuery(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    tier = serializers.SlugField(required=False, max_length=20, help_text="a support tier's code")

    def validate_tier(self, code: str) -> str:
        if not SupportTier.objects.filter(code=code).exists():
            raise ValidationError(f"Unknown support tier {code!r}.")
        return code

    status = serializers.ChoiceField(
        choices=[*Escalation.Status.choices, ("open", "open")], required=False, help_text="a status, or `open`"
    )
    ticket = serializers.IntegerField(required=False, min_value=1, source="ticket_id")


@extend_schema_view(list=extend_schema(parameters=[EscalationQuery]))
class EscalationViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Escalations of the partner's tickets to Microsoft. Agents and admins record the case number and status."""

    queryset = Escalation.objects.none()
    serializer_class = EscalationSerializer
    read_roles = STAFF_ROLES
    write_roles = ESCALATION_WRITERS
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        filters = (
            selectors.EscalationFilters(**query_params(EscalationQuery, self.request))
            if self.action == "list"
            else None
        )
        return selectors.escalation_list(scope=self.scope, filters=filters)

    def get_object(self) -> Escalation:
        return selectors.escalation_get(scope=self.scope, pk=self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(EscalationDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(request=EscalationUpdateSerializer, responses={200: EscalationDetailSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        escalation = self.get_object()
        form = EscalationUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        escalation = services.escalation_update(
            escalation=escalation, actor=self.scope.user,
            microsoft_case_number=form.validated_data.get("microsoft_case_number"),
            status=form.validated_data.get("status"),
        )  # fmt: skip
        return Response(EscalationDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class TicketEscalateAPIView(ScopedAPIMixin, APIView):
    """POST tickets/{id}/escalate/ {reason}: route the ticket to its Microsoft tier and open an escalation."""

    read_roles = ESCALATION_WRITERS
    write_roles = ESCALATION_WRITERS

    @extend_schema(
        request=EscalateSerializer,
        responses={201: EscalationDetailSerializer, 409: None, 422: None},
        description="Refused with 422 (no valid entitlement: the message says what the partner needs) or 409 "
        "(resolved, closed or already escalated); then nothing changes.",
    )
    def post(self, request: Request, pk: int) -> Response:
        ticket = selectors.escalation_ticket_get(scope=self.scope, pk=pk)
        form = EscalateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        escalation = services.ticket_escalate(
            ticket=ticket, reason=form.validated_data["reason"], actor=self.scope.user
        )
        escalation = selectors.escalation_get(scope=self.scope, pk=escalation.pk)
        return Response(EscalationDetailSerializer(escalation).data, status=status.HTTP_201_CREATED)
