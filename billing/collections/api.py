"""API v1: the collections policy, the notices sent and the daily runs (docs/architecture.md).

- `collections/policy/`: GET (staff), PUT (partner admins): ordered steps {offset_days, action},
  min_amount, grace_days, suspend_scope, reactivate_automatically. Errors are JSON per field.
- `notices/`: GET; customer users see their own notices only.
- `collection-runs/`: GET (staff).
Thin: validate, call one service or selector, serialize.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.collections import selectors, services
from billing.collections.errors import CollectionPolicyInvalid
from billing.collections.models import CollectionPolicy, CollectionRun, CollectionStep, Notice
from partner_portal.access import ALL_ROLES, STAFF_MANAGERS, ScopedAPIMixin
from partner_portal.models import STAFF_ROLES
from partner_portal.tenancy import get_scoped_or_404


class StepSerializer(serializers.Serializer):
    offset_days = serializers.IntegerField(help_text="Days after the due date; negative: before it.")
    action = serializers.ChoiceField(choices=CollectionStep.Action.choices)


class CollectionPolicySerializer(serializers.Serializer):
    steps = StepSerializer(many=True, help_text="In order of offset_days; suspension last.")
    min_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0,
        help_text="Overdue balance (customer's currency) below which no step after the due date is taken.",
    )  # fmt: skip
    min_amounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=16, decimal_places=2), required=False, default=dict,
        help_text='The minimum of each currency that has its own, e.g. {"RUB": "900.00"}; others use min_amount.',
    )  # fmt: skip
    grace_days = serializers.IntegerField(min_value=0, max_value=90, help_text="Added to steps after the due date.")
    suspend_scope = serializers.ChoiceField(choices=CollectionPolicy.SuspendScope.choices)
    reactivate_automatically = serializers.BooleanField()
    updated_at = serializers.DateTimeField(read_only=True)


class NoticeSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    step = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id", "invoice", "invoice_number", "customer", "step", "offset_days", "action", "status", "amount_due",
            "overdue_total", "days_overdue", "next_action", "next_action_date", "created_at", "sent_at", "run",
        ]  # fmt: skip
        read_only_fields = fields

    def get_step(self, notice: Notice) -> dict[str, Any]:
        return {"offset_days": notice.offset_days, "action": notice.action}


class CollectionRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionRun
        fields = [
            "id", "run_date", "status", "triggered_by", "started_at", "finished_at", "notices_sent",
            "suspensions_requested", "reactivations_requested", "errors_count", "details",
        ]  # fmt: skip
        read_only_fields = fields


def _policy_data(policy: CollectionPolicy) -> dict[str, Any]:
    steps = policy.steps.all()
    return dict(
        CollectionPolicySerializer(
            {
                "steps": [{"offset_days": s.offset_days, "action": s.action} for s in steps],
                "min_amount": policy.min_amount,
                "min_amounts": {c: Decimal(v) for c, v in (policy.min_amounts or {}).items()},
                "grace_days": policy.grace_days,
                "suspend_scope": policy.suspend_scope,
                "reactivate_automatically": policy.reactivate_automatically,
                "updated_at": policy.updated_at,
            }
        ).data
    )


class CollectionPolicyAPIView(ScopedAPIMixin, APIView):
    """The partner's collections policy. GET: staff; PUT (the whole policy): partner admins."""

    read_roles = STAFF_ROLES
    write_roles = STAFF_MANAGERS

    @extend_schema(responses=CollectionPolicySerializer)
    def get(self, request: Request) -> Response:
        return Response(_policy_data(services.collection_policy_get(partner=self.scope.partner)))

    @extend_schema(request=CollectionPolicySerializer, responses=CollectionPolicySerializer)
    def put(self, request: Request) -> Response:
        serializer = CollectionPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            policy = services.collection_policy_update(
                partner=self.scope.partner, actor=self.scope.user, min_amount=data["min_amount"],
                grace_days=data["grace_days"], suspend_scope=data["suspend_scope"],
                reactivate_automatically=data["reactivate_automatically"],
                steps=[services.StepInput(offset_days=s["offset_days"], action=s["action"]) for s in data["steps"]],
                min_amounts=data.get("min_amounts") or {},
            )  # fmt: skip
        except CollectionPolicyInvalid as exc:
            raise ValidationError(exc.errors) from exc
        return Response(_policy_data(policy))


class NoticeViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Collections notices: one per invoice and step. Customer users see their own."""

    queryset = Notice.objects.none()
    serializer_class = NoticeSerializer
    read_roles = ALL_ROLES

    def get_queryset(self) -> Any:
        qs = selectors.notice_list(scope=self.scope)
        invoice = self.request.query_params.get("invoice", "")
        return qs.filter(invoice_id=int(invoice)) if invoice.isdigit() else qs

    def get_object(self) -> Notice:
        return get_scoped_or_404(selectors.notice_list(scope=self.scope), self.scope, pk=self.kwargs["pk"])


class CollectionRunViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """What each collections run did (staff)."""

    queryset = CollectionRun.objects.none()
    serializer_class = CollectionRunSerializer
    read_roles = STAFF_ROLES

    def get_queryset(self) -> Any:
        return selectors.collection_run_list(scope=self.scope)

    def get_object(self) -> CollectionRun:
        return selectors.collection_run_get(scope=self.scope, pk=self.kwargs["pk"])
