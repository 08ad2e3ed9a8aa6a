"""Subscription pages for partner staff. Thin: a form validates, a service acts, a selector reads.

Every staff role reads; partner admins and finance suspend, reactivate, retry a failed change and
record an Azure plan's manual step; partner admins set the Partner Center account. Another
partner's subscription is a 404 (selectors take the request's scope).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from partner_portal import clock
from partner_portal.access import CUSTOMER_WRITERS, STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES
from subscriptions import lifecycle, selectors, services
from subscriptions.errors import SubscriptionError
from subscriptions.forms import ManualStepForm, PartnerCenterAccountForm, StatusChangeForm, SubscriptionFilterForm
from subscriptions.models import Subscription, SubscriptionChange

PAGE_SIZE = 25


class SubscriptionListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "subscriptions/subscription_list.html"
    filter_form_class = SubscriptionFilterForm
    filter_form_scoped = True
    sorts = selectors.SUBSCRIPTION_SORTS
    default_sort = "product"
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of subscriptions")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        self.filters = form.filters() if form is not None else selectors.SubscriptionFilters()
        rows = selectors.subscription_list_with_open_change(scope=self.scope, filters=self.filters)
        return rows, self.filters != selectors.SubscriptionFilters()

    def count_rows(self, rows: Any) -> int:
        return super().count_rows(selectors.subscription_list(scope=self.scope, filters=self.filters))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            attention=selectors.subscription_changes_needing_attention(scope=self.scope).count(),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            can_manage=self.scope.has_role(STAFF_MANAGERS),
            **kwargs,
        )


class SubscriptionDetailView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "subscriptions/subscription_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        sub = selectors.subscription_get(scope=self.scope, pk=self.kwargs["pk"])
        changes = list(selectors.subscription_changes(scope=self.scope, subscription=sub))
        open_change = next((c for c in changes if c.is_open), None)
        can_write = self.scope.has_role(CUSTOMER_WRITERS)
        return super().get_context_data(
            subscription=sub,
            history=list(selectors.subscription_history(scope=self.scope, subscription=sub)),
            changes=changes,
            open_change=open_change,
            can_write=can_write,
            can_suspend=can_write
            and services.subscription_status_refusal(subscription=sub, wanted="suspended") is None,
            can_reactivate=can_write
            and services.subscription_status_refusal(subscription=sub, wanted="active") is None,
            can_cancel=can_write and services.subscription_status_refusal(subscription=sub, wanted="deleted") is None,
            cancel_refusal=services.subscription_status_refusal(subscription=sub, wanted="deleted")
            if sub.is_new_commerce and not sub.is_azure_plan
            else None,
            manual_form=ManualStepForm(),
            record_backend=settings.PARTNER_CENTER_BACKEND != "http",
            lifecycle=_lifecycle(sub, self.scope.partner.time_zone),
            **kwargs,
        )


def _lifecycle(sub: Subscription, time_zone: str) -> dict[str, Any]:
    """Where the subscription stands at Microsoft, for the page (subscriptions.lifecycle)."""
    now, today = clock.now(), clock.today(time_zone)
    suspended_new_commerce = sub.status == Subscription.Status.SUSPENDED and sub.is_new_commerce
    return {
        "term_days_left": lifecycle.term_days_left(sub, today) if suspended_new_commerce else None,
        "days_suspended": lifecycle.days_suspended(sub, now),
        "legacy_data_deleted_on": lifecycle.legacy_data_deleted_on(sub)
        if lifecycle.legacy_warning_due(sub, now)
        else None,
        "cancellation_window_end": lifecycle.cancellation_window_end(sub),
        "can_cancel_now": lifecycle.can_cancel(sub, today),
    }


class _StatusChangeView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "subscriptions/subscription_status_change.html"
    wanted: str

    def _context(self, sub: Subscription, form: StatusChangeForm) -> dict[str, Any]:
        return {"subscription": sub, "form": form, "wanted": self.wanted}

    def _refused(self, request: HttpRequest, sub: Subscription) -> HttpResponse | None:
        refusal = services.subscription_status_refusal(subscription=sub, wanted=self.wanted)
        if refusal is None:
            return None
        messages.error(request, refusal)
        return redirect("subscription_detail", pk=sub.pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        sub = selectors.subscription_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, sub):
            return refused
        return render(request, self.template_name, self._context(sub, StatusChangeForm()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        sub = selectors.subscription_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, sub):
            return refused
        form = StatusChangeForm(request.POST)
        if form.is_valid():
            act = {
                "suspended": services.subscription_suspend, "active": services.subscription_reactivate,
                "deleted": services.subscription_cancel,
            }[self.wanted]  # fmt: skip
            try:
                change = act(subscription=sub, reason=form.cleaned_data["reason"], actor=self.scope.user)
            except SubscriptionError as exc:
                form.add_error("reason", str(exc))
            else:
                if change is None:
                    messages.error(request, _("Someone changed this subscription meanwhile; nothing was sent."))
                elif change.state == SubscriptionChange.State.NEEDS_MANUAL_STEP:
                    messages.warning(request, change.last_error)
                elif self.wanted == "suspended":
                    messages.success(request, _("Suspension requested: Microsoft is being asked to suspend it."))
                elif self.wanted == "deleted":
                    messages.success(request, _("Cancellation requested: Microsoft is being asked to cancel it."))
                else:
                    messages.success(request, _("Reactivation requested: Microsoft is being asked to reactivate it."))
                return redirect("subscription_detail", pk=sub.pk)
        return render(request, self.template_name, self._context(sub, form), status=400)


class SubscriptionSuspendView(_StatusChangeView):
    wanted = "suspended"


class SubscriptionReactivateView(_StatusChangeView):
    wanted = "active"


class SubscriptionCancelView(_StatusChangeView):
    """Cancel at Microsoft, only within the 7-day window after a purchase or renewal (the service's rule)."""

    wanted = "deleted"


class SubscriptionChangeRetryView(ScopedViewMixin, View):
    """Staff's "retry now" on a failed change."""

    allowed_roles = CUSTOMER_WRITERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        change = selectors.subscription_change_get(scope=self.scope, pk=pk)
        try:
            services.subscription_change_retry(change=change, actor=self.scope.user)
        except SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The change is being sent to Microsoft again."))
        return redirect("subscription_detail", pk=change.subscription_id)


class SubscriptionChangeDoneView(ScopedViewMixin, View):
    """Staff record that an Azure plan's step was done in Azure Resource Manager."""

    allowed_roles = CUSTOMER_WRITERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        change = selectors.subscription_change_get(scope=self.scope, pk=pk)
        form = ManualStepForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            done = services.subscription_change_complete_manually(change=change, actor=self.scope.user, note=note)
        except SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            if done.state == SubscriptionChange.State.PENDING:
                messages.success(
                    request,
                    _(
                        "Recorded as done in Azure Resource Manager; the Azure plan's suspension is being sent to Microsoft."
                    ),
                )
            else:
                messages.success(request, _("Recorded as done in Azure Resource Manager."))
        return redirect("subscription_detail", pk=change.subscription_id)


class PartnerCenterAccountView(ScopedViewMixin, View):
    """The partner's Partner Center app registration. The secret is never shown back."""

    allowed_roles = STAFF_MANAGERS
    template_name = "subscriptions/partner_center_account.html"

    def _render(self, request: HttpRequest, form: PartnerCenterAccountForm, status: int = 200) -> HttpResponse:
        account = selectors.partner_center_account(scope=self.scope)
        sync = selectors.partner_center_sync_latest(scope=self.scope)
        context = {
            "form": form,
            "account": account,
            "backend": settings.PARTNER_CENTER_BACKEND,
            "partner": self.scope.partner,
            "sync": sync,
            "sync_running": sync is not None and sync.is_open,
            "can_sync": settings.PARTNER_CENTER_BACKEND == "http" and account is not None,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        account = selectors.partner_center_account(scope=self.scope)
        initial = {"aad_tenant_id": account.aad_tenant_id, "application_id": account.application_id} if account else {}
        return self._render(request, PartnerCenterAccountForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PartnerCenterAccountForm(request.POST)
        if form.is_valid():
            try:
                services.partner_center_account_set(
                    partner=self.scope.partner, actor=self.scope.user, aad_tenant_id=form.cleaned_data["aad_tenant_id"],
                    application_id=form.cleaned_data["application_id"], secret=form.cleaned_data["secret"],
                )  # fmt: skip
            except SubscriptionError as exc:
                form.add_error("secret", str(exc))
            else:
                messages.success(request, _("Partner Center account saved."))
                return redirect("partner_center_account")
        return self._render(request, form, status=400)


class PartnerCenterSyncView(ScopedViewMixin, View):
    """ "Sync from Partner Center now": queue a sync (or find the one running) and show its progress."""

    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            sync = services.partner_center_sync_request(partner=self.scope.partner, actor=self.scope.user)
        except SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            if sync.requested_by_id == self.scope.user.pk and sync.status == sync.Status.PENDING:
                messages.success(request, _("Sync queued: the page follows it as it reads each customer."))
            elif sync.is_open:
                messages.info(request, _("A sync is already running; the page follows it."))
        return redirect("partner_center_account")


class PartnerCenterSyncStatusView(ScopedViewMixin, View):
    """The progress of a sync as JSON, for the page's progress bar (polled, so never cached)."""

    allowed_roles = STAFF_MANAGERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        sync = selectors.partner_center_sync_get(scope=self.scope, pk=pk)
        response = JsonResponse(
            {
                "status": sync.status,
                "status_label": str(sync.get_status_display()),
                "done": sync.done,
                "total": sync.total,
                "percent": sync.percent,
            }
        )
        response["Cache-Control"] = "no-store"
        return response
