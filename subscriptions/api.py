"""API v1 of subscriptions (docs/architecture.md): subscriptions, suspend, reactivate and cancel. Thin:
validate, call, serialize.

Status is read-only: it moves only through `suspend/`, `reactivate/` and `cancel/`, which ask Microsoft and
answer 202 with the subscription in "suspension pending" / "reactivation pending" (or already
confirmed, with the record-only backend). Customer users read their own customer's subscriptions,
without Microsoft's cost; partner admins and finance write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from partner_portal.access import CUSTOMER_WRITERS, ScopedAPIMixin
from partner_portal.apikit import INT_MAX, ScopedCustomerField, query_params
from partner_portal.models import STAFF_ROLES
from subscriptions import selectors, services
from subscriptions.errors import SubscriptionStatusNotAllowed
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionDifference, SubscriptionStatusEvent


class ChangeSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = SubscriptionChange
        fields = [
            "id", "wanted_status", "state", "source", "reason", "actor", "request_id", "attempts", "next_attempt_at",
            "last_error", "microsoft_response", "created_at", "confirmed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actor(self, change: SubscriptionChange) -> str | None:
        return change.actor.email if change.actor else None


class StatusEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = SubscriptionStatusEvent
        fields = ["from_status", "to_status", "reason", "source", "actor", "change", "microsoft_response", "created_at"]
        read_only_fields = fields

    def get_actor(self, event: SubscriptionStatusEvent) -> str | None:
        return event.actor.email if event.actor else None


class SubscriptionSerializer(serializers.ModelSerializer):
    customer = ScopedCustomerField()
    quantity = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=1)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0)
    unit_cost = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0, required=False)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)
    is_azure_plan = serializers.BooleanField(read_only=True)
    is_new_commerce = serializers.BooleanField(read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id", "customer", "product", "product_family", "offer_id", "microsoft_subscription_id", "quantity",
            "billing_cycle", "term", "unit_price", "unit_cost", "tax_rate", "status", "suspension_source",
            "is_azure_plan", "start_date", "end_date", "created_at",
            "microsoft_status", "is_new_commerce", "term_start_date", "commitment_end_date", "auto_renew_enabled",
            "suspended_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "status", "suspension_source", "is_azure_plan", "created_at", "microsoft_status",
            "term_start_date", "commitment_end_date", "auto_renew_enabled", "suspended_at",
        ]  # fmt: skip

    def to_representation(self, instance: Subscription) -> dict[str, Any]:
        data = super().to_representation(instance)
        view = self.context.get("view")
        if view is not None and not view.scope.is_staff:
            data.pop("unit_cost", None)  # Microsoft's price to the partner is not the customer's business
        return data


class SubscriptionDetailSerializer(SubscriptionSerializer):
    history = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "history", "changes"]

    @extend_schema_field(StatusEventSerializer(many=True))
    def get_history(self, sub: Subscription) -> list[dict[str, Any]]:
        scope = self.context["view"].scope
        rows = StatusEventSerializer(selectors.subscription_history(scope=scope, subscription=sub), many=True).data
        if not scope.is_staff:
            for row in rows:
                row.pop("actor", None), row.pop("microsoft_response", None)
        return list(rows)

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, sub: Subscription) -> list[dict[str, Any]]:
        scope = self.context["view"].scope
        if not scope.is_staff:
            return []
        return list(ChangeSerializer(selectors.subscription_changes(scope=scope, subscription=sub), many=True).data)


class SubscriptionUpdateSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0, required=False)
    unit_cost = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0, required=False)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)

    class Meta:
        model = Subscription
        fields = [*services.EDITABLE_FIELDS, "quantity"]
        extra_kwargs = {name: {"required": False} for name in services.EDITABLE_FIELDS}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class SubscriptionQuery(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Product, subscription ID, customer"
    )
    status = serializers.ChoiceField(choices=Subscription.Status.choices, required=False)
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")
    product_family = serializers.ChoiceField(choices=Subscription.ProductFamily.choices, required=False)
    changes = serializers.ChoiceField(
        choices=selectors.PENDING_FILTERS, required=False, help_text="pending, failed, manual or any"
    )


@extend_schema_view(list=extend_schema(parameters=[SubscriptionQuery]))
class SubscriptionViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Subscriptions of the caller's partner; a customer user sees only its own customer's. Partner
    admins and finance create and edit them and suspend or reactivate them (audited)."""

    queryset = Subscription.objects.none()
    serializer_class = SubscriptionSerializer
    write_roles = CUSTOMER_WRITERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        filters = selectors.SubscriptionFilters(**query_params(SubscriptionQuery, self.request))
        return selectors.subscription_list(scope=self.scope, filters=filters)

    def get_object(self) -> Subscription:
        return selectors.subscription_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_serializer_class(self) -> Any:
        return SubscriptionDetailSerializer if self.action != "list" else SubscriptionSerializer

    def _out(self, sub: Subscription, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.subscription_get(scope=self.scope, pk=sub.pk)
        return Response(SubscriptionDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=SubscriptionSerializer, responses={201: SubscriptionDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = SubscriptionSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        for read_only in ("status", "suspension_source"):
            data.pop(read_only, None)
        sub = services.subscription_create(
            partner=self.scope.partner, actor=self.scope.user, data=services.SubscriptionInput(**data)
        )
        return self._out(sub, status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionUpdateSerializer, responses={200: SubscriptionDetailSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sub = self.get_object()
        if isinstance(request.data, Mapping) and "status" in request.data:
            raise ValidationError({"status": ["Status is read-only: use suspend/ or reactivate/."]})
        form = SubscriptionUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        sub = services.subscription_update(subscription=sub, actor=self.scope.user, changes=dict(form.validated_data))
        return self._out(sub)

    def _status_change(self, request: Request, wanted: str) -> Response:
        sub = self.get_object()
        form = ReasonSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if refusal := services.subscription_status_refusal(subscription=sub, wanted=wanted):
            raise SubscriptionStatusNotAllowed(refusal)
        act = {
            "suspended": services.subscription_suspend, "active": services.subscription_reactivate,
            "deleted": services.subscription_cancel,
        }[wanted]  # fmt: skip
        change = act(subscription=sub, reason=form.validated_data["reason"], actor=self.scope.user)
        if change is None:  # someone else moved it between the check and the lock
            refusal = services.subscription_status_refusal(subscription=sub, wanted=wanted)
            raise SubscriptionStatusNotAllowed(refusal or "Not possible now.")
        return self._out(sub, status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReasonSerializer, responses={202: SubscriptionDetailSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ask Microsoft to suspend the subscription, with a reason (audited). 409 when its status does
        not allow it (cancelled, suspended or pending already, a change in flight)."""
        return self._status_change(request, "suspended")

    @extend_schema(request=ReasonSerializer, responses={202: SubscriptionDetailSerializer})
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ask Microsoft to reactivate the subscription, with a reason (audited); undoes any suspension."""
        return self._status_change(request, "active")

    @extend_schema(request=ReasonSerializer, responses={202: SubscriptionDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ask Microsoft to cancel a new-commerce subscription (status "deleted"), with a reason (audited).
        409 with the reason outside the 7-day window after its purchase or renewal, or for legacy offers."""
        return self._status_change(request, "deleted")


class DifferenceSerializer(serializers.ModelSerializer):
    subscription_product = serializers.CharField(source="subscription.product", read_only=True)
    customer = serializers.IntegerField(source="subscription.customer_id", read_only=True)

    class Meta:
        model = SubscriptionDifference
        fields = [
            "id", "subscription", "subscription_product", "customer", "field", "portal_value", "microsoft_value",
            "state", "error", "sync", "found_at", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields


class DifferenceQuery(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    field = serializers.ChoiceField(choices=SubscriptionDifference.Field.choices, required=False)
    state = serializers.ChoiceField(
        choices=["open", "settled", "all"], required=False, default="open", help_text="open (default), settled or all"
    )
    customer = serializers.IntegerField(required=False, min_value=1, source="customer_id")


@extend_schema_view(list=extend_schema(parameters=[DifferenceQuery]))
class DifferenceViewSet(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Differences between the portal and Microsoft found by syncs (staff only; settled on the page)."""

    queryset = SubscriptionDifference.objects.none()
    serializer_class = DifferenceSerializer
    read_roles = STAFF_ROLES

    def get_queryset(self) -> Any:
        query = query_params(DifferenceQuery, self.request)
        state = query.pop("state", "open")
        filters = selectors.DifferenceFilters(**query, state="" if state == "all" else state)
        return selectors.subscription_difference_list(scope=self.scope, filters=filters)
