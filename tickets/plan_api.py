"""API v1 of support plans: the partner's plans (staff read, partner admins write) and a customer's plan
(`support-plan/`: customers read their own; staff name the customer, partner admins change it). Thin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partner_portal.access import ALL_ROLES, STAFF_MANAGERS, ScopedAPIMixin
from partner_portal.apikit import ScopedCustomerField, query_params
from partner_portal.models import STAFF_ROLES, Customer
from tickets import selectors, services
from tickets.models import SupportPlan, Ticket
from tickets.services.plans import sla_table

MAX_MINUTES = 10**6


class TargetSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Ticket.Severity.choices)
    product_family = serializers.ChoiceField(
        choices=Ticket.ProductFamily.choices, allow_blank=True, required=False, default="",
        help_text='empty: every product family',
    )  # fmt: skip
    first_response_minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES)
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES)


def targets_input(rows: list[dict[str, Any]]) -> list[services.TargetInput]:
    return [
        services.TargetInput(
            r["severity"], r.get("product_family", ""), r["first_response_minutes"], r["resolution_minutes"]
        )
        for r in rows
    ]


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True, **kwargs
    )


class SupportPlanSerializer(serializers.ModelSerializer):
    monthly_fee = _money()
    hourly_rate = _money(help_text="for billable hours beyond the included hours")
    incident_price = _money(help_text="for incidents beyond the included incidents")
    included_hours = serializers.IntegerField(min_value=0, max_value=10000, required=False, default=0)
    included_incidents = serializers.IntegerField(min_value=0, max_value=10000, required=False, default=0)
    targets = TargetSerializer(many=True, required=False, help_text="SLA targets; none keeps the offering's")

    class Meta:
        model = SupportPlan
        fields = [
            "id", "name", "name_ru", "description", "description_ru", "price_model", "currency", "monthly_fee",
            "hourly_rate", "incident_price", "included_hours", "included_incidents", "is_default", "targets",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: SupportPlan) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["targets"] = [
            {"severity": t.severity, "product_family": t.product_family,
             "first_response_minutes": t.first_response_minutes, "resolution_minutes": t.resolution_minutes}
            for t in instance.sla_targets.all()
        ]  # fmt: skip
        return data


class SupportPlanQuery(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=100, help_text="name, in English or Russian")
    price_model = serializers.ChoiceField(choices=SupportPlan.PriceModel.choices, required=False)


def _plan_input(d: dict[str, Any], partner_currency: str) -> services.PlanInput:
    return services.PlanInput(
        name=d["name"], name_ru=d.get("name_ru", ""), description=d.get("description", ""),
        description_ru=d.get("description_ru", ""),
        price_model=d.get("price_model", SupportPlan.PriceModel.INCLUDED), currency=d.get("currency", partner_currency),
        monthly_fee=d.get("monthly_fee"), hourly_rate=d.get("hourly_rate"), incident_price=d.get("incident_price"),
        included_hours=d.get("included_hours", 0), included_incidents=d.get("included_incidents", 0),
        is_default=d.get("is_default", False), targets=targets_input(d.get("targets", [])),
    )  # fmt: skip


@extend_schema_view(list=extend_schema(parameters=[SupportPlanQuery]))
class SupportPlanViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """The partner's support plans. Staff read them; partner admins create and change them (PUT replaces
    the plan, PATCH changes the fields given; `targets` given replace the plan's SLA targets)."""

    queryset = SupportPlan.objects.none()
    serializer_class = SupportPlanSerializer
    read_roles = STAFF_ROLES
    write_roles = STAFF_MANAGERS
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        q = query_params(SupportPlanQuery, self.request) if self.action == "list" else {}
        filters = selectors.PlanFilters(search=q.get("search", ""), price_model=q.get("price_model", ""))
        return selectors.support_plan_list(scope=self.scope, filters=filters)

    def get_object(self) -> SupportPlan:
        return selectors.support_plan_get(scope=self.scope, pk=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = SupportPlanSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        plan = services.support_plan_save(
            partner=self.scope.partner, actor=self.scope.user,
            data=_plan_input(form.validated_data, self.scope.partner.default_currency),
        )  # fmt: skip
        return Response(
            SupportPlanSerializer(selectors.support_plan_get(scope=self.scope, pk=plan.pk)).data, status=201
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        partial = kwargs.pop("partial", False)
        form = SupportPlanSerializer(plan, data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        current: dict[str, Any] = {}
        if partial:  # the fields not given keep their values
            current = {name: getattr(plan, name) for name in _PLAN_FIELDS}
            current["targets"] = [
                {"severity": t.severity, "product_family": t.product_family,
                 "first_response_minutes": t.first_response_minutes, "resolution_minutes": t.resolution_minutes}
                for t in plan.sla_targets.all()
            ]  # fmt: skip
        saved = services.support_plan_save(
            partner=self.scope.partner, actor=self.scope.user, plan=plan,
            data=_plan_input({**current, **form.validated_data}, self.scope.partner.default_currency),
        )  # fmt: skip
        return Response(SupportPlanSerializer(selectors.support_plan_get(scope=self.scope, pk=saved.pk)).data)


_PLAN_FIELDS = (
    "name", "name_ru", "description", "description_ru", "price_model", "currency", "monthly_fee", "hourly_rate",
    "incident_price", "included_hours", "included_incidents", "is_default",
)  # fmt: skip


class CustomerPlanQuery(serializers.Serializer):
    customer = ScopedCustomerField(required=False, help_text="staff: the customer whose plan to read")


class CustomerPlanInput(serializers.Serializer):
    customer = ScopedCustomerField()
    plan = serializers.IntegerField(
        allow_null=True, help_text="a plan's id; null puts the customer on the default plan"
    )


class CustomerPlanSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    plan = SupportPlanSerializer(allow_null=True)
    is_default = serializers.BooleanField(help_text="the customer is on the partner's default plan")
    used_this_month = serializers.DictField(help_text='{"hours": "1.50", "incidents": 2}')
    sla_targets = serializers.ListField(
        child=serializers.DictField(), help_text="per severity, for every family and where a family differs"
    )


class CustomerSupportPlanAPIView(ScopedAPIMixin, APIView):
    """A customer's support plan, what it used this month and its SLA targets. Customer users read their
    own; staff pass `?customer=<id>`. Partner admins PUT {customer, plan} to change it (audited)."""

    read_roles = ALL_ROLES
    write_roles = STAFF_MANAGERS

    def _answer(self, customer: Customer) -> dict[str, Any]:
        plan, is_default = selectors.customer_plan_for(scope=self.scope, customer=customer)
        usage = services.plan_usage_this_month(customer=customer)
        offering = selectors.support_offering_for(scope=self.scope)
        return {
            "customer": customer.pk, "plan": SupportPlanSerializer(plan).data if plan is not None else None,
            "is_default": is_default, "used_this_month": {"hours": str(usage.hours), "incidents": usage.incidents},
            "sla_targets": [
                {"severity": r["severity"], "first_response_minutes": r["first"], "resolution_minutes": r["resolution"],
                 "product_families": [{"product_family": f["family"], "first_response_minutes": f["first"],
                                       "resolution_minutes": f["resolution"]} for f in r["families"]]}
                for r in sla_table(offering=offering, plan=plan)
            ],
        }  # fmt: skip

    @extend_schema(parameters=[CustomerPlanQuery], responses={200: CustomerPlanSerializer})
    def get(self, request: Request) -> Response:
        form = CustomerPlanQuery(data=dict(request.query_params.items()), context={"view": self})
        # Read for every caller, so a malformed ?customer= is a 400 also for a customer user (who always
        # gets their own plan); a customer of another partner "does not exist".
        form.is_valid(raise_exception=True)
        if self.scope.customer is not None:
            return Response(self._answer(self.scope.customer))
        q = form.validated_data
        if "customer" not in q:
            raise serializers.ValidationError({"customer": ["Name the customer: ?customer=<id>."]})
        return Response(self._answer(q["customer"]))

    @extend_schema(request=CustomerPlanInput, responses={200: CustomerPlanSerializer})
    def put(self, request: Request) -> Response:
        form = CustomerPlanInput(data=request.data, context={"view": self})
        form.is_valid(raise_exception=True)
        plan_id = form.validated_data["plan"]
        plan = selectors.support_plan_list(scope=self.scope).filter(pk=plan_id).first() if plan_id else None
        if plan_id and plan is None:
            raise serializers.ValidationError({"plan": ["No such plan."]})
        customer = form.validated_data["customer"]
        services.customer_plan_assign(partner=self.scope.partner, customer=customer, plan=plan, actor=self.scope.user)
        return Response(self._answer(customer), status=status.HTTP_200_OK)


__all__ = ["CustomerSupportPlanAPIView", "SupportPlanViewSet"]
