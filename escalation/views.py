"""Escalation pages for partner staff. Thin: a form validates, a service acts, a selector reads.

Every object comes from a selector given the request's scope, so another partner's escalation is a
404 and customer users (no role here) get 403. Every staff role reads; agents and admins escalate
and update cases; only partner admins manage entitlements.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from escalation import selectors, services
from escalation.access import ESCALATION_WRITERS
from escalation.errors import EscalationError
from escalation.forms import (
    EntitlementEndForm,
    EntitlementForm,
    EscalateForm,
    EscalationFilterForm,
    EscalationUpdateForm,
)
from escalation.models import Entitlement, Escalation, SupportTier
from partner_portal import clock
from partner_portal.access import STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES

PAGE_SIZE = 25


# ---- Tier catalogue and entitlements --------------------------------------------------------------


class SupportTierListView(ScopedViewMixin, TemplateView):
    """The catalogue of Microsoft support tiers: what each covers, requires, and where to file."""

    allowed_roles = STAFF_ROLES
    template_name = "escalation/tier_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cloud = self.scope.partner.cloud
        today = clock.today(self.scope.partner.time_zone)
        families = selectors.family_channels(cloud=cloud)
        tiers = [
            (tier, tier.channels.get(cloud, ""), tier.status_on(today), families.get(tier.pk, []))
            for tier in selectors.support_tier_list()
        ]
        types = [(kind, kind.status_on(today)) for kind in selectors.entitlement_type_list()]
        return super().get_context_data(tiers=tiers, types=types, partner=self.scope.partner, **kwargs)


class EntitlementListView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "escalation/entitlement_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = clock.today(self.scope.partner.time_zone)
        rows = [(e, selectors.entitlement_state(e, today)) for e in selectors.entitlement_list(scope=self.scope)]
        technical_route: services.Route | None
        try:
            technical_route = services.escalation_route(partner=self.scope.partner, category="technical", on=today)
            refusal = ""
        except EscalationError as exc:
            technical_route, refusal = None, str(exc)
        return super().get_context_data(
            rows=rows, today=today, technical_route=technical_route, refusal=refusal,
            can_manage=self.scope.has_role(STAFF_MANAGERS), **kwargs,
        )  # fmt: skip


class EntitlementFormView(ScopedViewMixin, View):
    """Record a new entitlement (no pk) or correct one (pk)."""

    allowed_roles = STAFF_MANAGERS
    template_name = "escalation/entitlement_form.html"

    def _entitlement(self, pk: int | None) -> Entitlement | None:
        return selectors.entitlement_get(scope=self.scope, pk=pk) if pk is not None else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        entitlement = self._entitlement(pk)
        if entitlement is None:
            form = EntitlementForm(initial={"valid_from": clock.today(self.scope.partner.time_zone)})
        else:
            form = EntitlementForm(
                current_kind=entitlement.kind_id,
                initial={
                    "kind": entitlement.kind_id, "reference": entitlement.reference,
                    "valid_from": entitlement.valid_from, "valid_until": entitlement.valid_until,
                    "preference": entitlement.preference, "incidents_remaining": entitlement.incidents_remaining,
                },
            )  # fmt: skip
        return render(request, self.template_name, {"form": form, "entitlement": entitlement})

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        entitlement = self._entitlement(pk)
        form = EntitlementForm(request.POST, current_kind=entitlement.kind_id if entitlement else None)
        if form.is_valid():
            try:
                if entitlement is None:
                    entitlement = services.entitlement_create(
                        partner=self.scope.partner, actor=self.scope.user, data=form.entitlement_input()
                    )
                    messages.success(request, _("%(name)s recorded.") % {"name": entitlement.get_kind_display()})
                else:
                    entitlement = services.entitlement_update(
                        entitlement=entitlement, actor=self.scope.user, data=form.entitlement_input()
                    )
                    messages.success(request, _("%(name)s updated.") % {"name": entitlement.get_kind_display()})
            except EscalationError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("entitlement_list")
        return render(request, self.template_name, {"form": form, "entitlement": entitlement}, status=400)


class EntitlementEndView(ScopedViewMixin, View):
    allowed_roles = STAFF_MANAGERS
    template_name = "escalation/entitlement_end.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        entitlement = selectors.entitlement_get(scope=self.scope, pk=pk)
        today = clock.today(self.scope.partner.time_zone)
        last_day = max(entitlement.valid_from, min(today, entitlement.valid_until or today))
        form = EntitlementEndForm(initial={"last_day": last_day})
        return render(request, self.template_name, {"form": form, "entitlement": entitlement})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entitlement = selectors.entitlement_get(scope=self.scope, pk=pk)
        form = EntitlementEndForm(request.POST)
        if form.is_valid():
            try:
                services.entitlement_end(
                    entitlement=entitlement, actor=self.scope.user, last_day=form.cleaned_data["last_day"]
                )
            except EscalationError as exc:
                form.add_error("last_day", str(exc))
            else:
                messages.success(
                    request,
                    _("%(name)s ends on %(day)s.")
                    % {"name": entitlement.get_kind_display(), "day": form.cleaned_data["last_day"].isoformat()},
                )
                return redirect("entitlement_list")
        return render(request, self.template_name, {"form": form, "entitlement": entitlement}, status=400)


# ---- Escalations ---------------------------------------------------------------------------------


class EscalationListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "escalation/escalation_list.html"
    filter_form_class = EscalationFilterForm
    sorts = selectors.ESCALATION_SORTS
    default_sort = "-created"
    page_size = PAGE_SIZE

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.EscalationFilters()
        return selectors.escalation_list(scope=self.scope, filters=filters), filters != selectors.EscalationFilters()


class EscalationDetailView(ScopedViewMixin, View):
    """The case: what went to Microsoft and the summary to file, with the case number and status to keep."""

    allowed_roles = STAFF_ROLES
    template_name = "escalation/escalation_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        escalation = selectors.escalation_get(scope=self.scope, pk=pk)
        form = EscalationUpdateForm(
            initial={"microsoft_case_number": escalation.microsoft_case_number, "status": escalation.status}
        )
        return self._render(request, escalation, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        escalation = selectors.escalation_get(scope=self.scope, pk=pk)
        if not self.scope.has_role(ESCALATION_WRITERS):
            messages.error(request, _("Only support agents and partner admins update escalations."))
            return redirect("escalation_detail", pk=escalation.pk)
        form = EscalationUpdateForm(request.POST)
        if form.is_valid():
            try:
                escalation = services.escalation_update(
                    escalation=escalation, actor=self.scope.user,
                    microsoft_case_number=form.cleaned_data["microsoft_case_number"],
                    status=form.cleaned_data["status"],
                )  # fmt: skip
            except EscalationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Escalation updated."))
                return redirect("escalation_detail", pk=escalation.pk)
        return self._render(request, escalation, form, status=400)

    def _render(self, request: HttpRequest, escalation: Escalation, form: Any, status: int = 200) -> HttpResponse:
        context = {
            "escalation": escalation,
            "ticket": escalation.ticket,
            "form": form,
            "summary": selectors.escalation_summary(escalation=escalation),
            "can_write": self.scope.has_role(ESCALATION_WRITERS) and escalation.status != Escalation.Status.CLOSED,
        }
        return render(request, self.template_name, context, status=status)


class TicketEscalateView(ScopedViewMixin, View):
    """Escalate a ticket by hand, with a reason; shows the tier it will go to, or why it cannot."""

    allowed_roles = ESCALATION_WRITERS
    template_name = "escalation/ticket_escalate.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.escalation_ticket_get(scope=self.scope, pk=pk)
        return self._render(request, ticket, EscalateForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.escalation_ticket_get(scope=self.scope, pk=pk)
        form = EscalateForm(request.POST)
        if form.is_valid():
            try:
                escalation = services.ticket_escalate(
                    ticket=ticket, reason=form.cleaned_data["reason"], actor=self.scope.user
                )
            except EscalationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(ticket)s escalated to %(tier)s. File the case with Microsoft and record its number.")
                    % {"ticket": ticket.reference, "tier": escalation.tier.display_name},
                )
                return redirect("escalation_detail", pk=escalation.pk)
        return self._render(request, ticket, form, status=400)

    def _render(self, request: HttpRequest, ticket: Any, form: EscalateForm, status: int = 200) -> HttpResponse:
        route: services.Route | None = None
        refusal = ""
        try:
            route = services.escalation_route(
                partner=self.scope.partner, category=ticket.category, on=clock.today(self.scope.partner.time_zone),
                product_family=ticket.product_family,
            )  # fmt: skip
        except EscalationError as exc:
            refusal = str(exc)
        open_escalation = next(
            (e for e in selectors.ticket_escalations(scope=self.scope, ticket=ticket) if e.is_open), None
        )
        context = {
            "ticket": ticket, "form": form, "route": route, "refusal": refusal, "open_escalation": open_escalation,
            "closed": ticket.status in ("resolved", "closed"), "business": SupportTier.Code.BUSINESS,
        }  # fmt: skip
        return render(request, self.template_name, context, status=status)
