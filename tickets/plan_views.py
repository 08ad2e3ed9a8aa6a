"""Support plan pages: the partner's plans, a plan's form, a customer's plan. Thin, like every page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from partner_portal import selectors as core_selectors
from partner_portal.access import STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES
from tickets import selectors, services
from tickets.errors import PlanInvalid
from tickets.models import SupportPlan
from tickets.plan_forms import CustomerPlanForm, PlanFilterForm, PlanForm
from tickets.presentation import plan_context, plan_included, plan_price


class SupportPlanListView(KeysetListView):
    """The partner's support plans, with search, a price model filter, sorting and keyset pages."""

    allowed_roles = STAFF_ROLES
    template_name = "tickets/plan_list.html"
    filter_form_class = PlanFilterForm
    sorts = selectors.PLAN_SORTS
    default_sort = "name"
    pagination_label = _lazy("Pages of support plans")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.PlanFilters()
        return selectors.support_plan_list(scope=self.scope, filters=filters), filters != selectors.PlanFilters()

    def count_rows(self, rows: Any) -> int:
        return int(rows.order_by().values("pk").count())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = [(p, plan_price(p), plan_included(p)) for p in context["page"].items]
        return {**context, "rows": rows, "can_edit": self.scope.has_role(STAFF_MANAGERS)}


class SupportPlanFormView(ScopedViewMixin, View):
    """Create a plan (no pk) or change one (pk). Partner admins."""

    allowed_roles = STAFF_MANAGERS
    template_name = "tickets/plan_form.html"

    def _plan(self, pk: int | None) -> SupportPlan | None:
        return selectors.support_plan_get(scope=self.scope, pk=pk) if pk is not None else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        plan = self._plan(pk)
        form = PlanForm(plan=plan, currency=self.scope.partner.default_currency)
        return render(request, self.template_name, {"form": form, "plan": plan})

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        plan = self._plan(pk)
        form = PlanForm(request.POST, plan=plan)
        if form.is_valid():
            try:
                saved = services.support_plan_save(
                    partner=self.scope.partner, actor=self.scope.user, data=form.plan_input(), plan=plan
                )
            except PlanInvalid as exc:
                form.add_service_errors(exc.fields)
            else:
                messages.success(request, _("Support plan %(name)s saved.") % {"name": saved.name})
                return redirect("support_plan_list")
        return render(request, self.template_name, {"form": form, "plan": plan}, status=400)


class CustomerPlanView(ScopedViewMixin, View):
    """A customer's support plan: what it is, used this month, SLA targets; partner admins change it."""

    allowed_roles = STAFF_ROLES
    template_name = "tickets/customer_plan.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = core_selectors.customer_get(scope=self.scope, pk=pk)
        plan, _default = selectors.customer_plan_for(scope=self.scope, customer=customer)
        form = CustomerPlanForm(scope=self.scope, initial={"plan": None if _default else plan})
        return self._render(request, customer, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = core_selectors.customer_get(scope=self.scope, pk=pk)
        if not self.scope.has_role(STAFF_MANAGERS):
            return self._render(request, customer, CustomerPlanForm(scope=self.scope), status=403)
        form = CustomerPlanForm(request.POST, scope=self.scope)
        if form.is_valid():
            try:
                services.customer_plan_assign(
                    partner=self.scope.partner, customer=customer, plan=form.cleaned_data["plan"],
                    actor=self.scope.user,
                )  # fmt: skip
            except PlanInvalid as exc:
                form.add_error("plan", str(exc))
            else:
                messages.success(request, _("Support plan of %(customer)s saved.") % {"customer": customer.name})
                return redirect("customer_support_plan", pk=customer.pk)
        return self._render(request, customer, form, status=400)

    def _render(self, request: HttpRequest, customer: Any, form: CustomerPlanForm, status: int = 200) -> HttpResponse:
        plan, is_default = selectors.customer_plan_for(scope=self.scope, customer=customer)
        offering = selectors.support_offering_for(scope=self.scope)
        usage = services.plan_usage_this_month(customer=customer)
        context = {
            "customer": customer, "form": form, "is_default": is_default,
            "can_edit": self.scope.has_role(STAFF_MANAGERS), **plan_context(offering, plan, usage),
        }  # fmt: skip
        return render(request, self.template_name, context, status=status)


__all__ = ["CustomerPlanView", "SupportPlanFormView", "SupportPlanListView"]
