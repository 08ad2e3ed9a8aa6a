"""Collections pages for partner staff: who is overdue and what happens next, the policy, the runs,
and holding a customer out of collections. Thin: a form validates, a service acts, a selector reads.

Every staff role reads; partner admins change the policy; admins and finance start a run and hold
a customer. Another partner's run or customer is a 404 (selectors given the request's scope).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from billing.collections import selectors, services, wording
from billing.collections.errors import CollectionPolicyInvalid, NoticeNotUncertain
from billing.collections.forms import (
    CollectionHoldForm,
    CollectionPolicyForm,
    CollectionsFilterForm,
    CollectionStepFormSet,
    minimums_text,
)
from billing.collections.models import CollectionRun, Notice
from billing.invoicing.errors import BillingError
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES
from partner_portal.pagination import keyset_page, query_without

PAGE_SIZE = 25
STEPS_PREFIX = "steps"
RUN_NOTICES = 200  # notices listed on a run's page
UNCERTAIN_NOTICES = 50  # uncertain notices listed on the overview (the count says how many in all)


class CollectionsOverviewView(KeysetListView):
    """Who is overdue, by how much and how long, what was sent last and what happens next."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/collections/overview.html"
    filter_form_class = CollectionsFilterForm
    sorts = selectors.OVERVIEW_SORTS
    default_sort = "-days"  # whoever has owed longest first: an order that holds across currencies
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of customers in collections")

    def get_filter_form(self) -> Any:
        # Amounts are compared within one currency: sorted by the amount overdue with no currency
        # chosen, the list keeps to the partner's default currency (shown in the filter, changeable).
        query: Any = self.request.GET
        if query.get("sort") in selectors.OVERVIEW_MONEY_SORTS and not query.get("currency"):
            query = query.copy()
            query["currency"] = self.scope.partner.default_currency
        return self.filter_form_class(query or None)

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.OverviewFilters()
        self.policy = selectors.collection_policy_read(partner=self.scope.partner)
        rows = selectors.collections_overview(scope=self.scope, filters=filters)
        self.filtered = filters != selectors.OverviewFilters()
        return rows, self.filtered

    def count_rows(self, rows: Any) -> int:
        if self.filtered:
            return super().count_rows(rows)
        # Unfiltered, the list is the partner's summary rows: counted on their index alone.
        return selectors.collections_overview_count(scope=self.scope, limit=self.count_limit + 1)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        uncertain = selectors.notice_uncertain_list(scope=self.scope)
        # One query in the usual case: the count is asked for only when there are more than are listed.
        shown = list(uncertain[: UNCERTAIN_NOTICES + 1])
        uncertain_count = len(shown) if len(shown) <= UNCERTAIN_NOTICES else uncertain.count()
        return {
            **context,
            "rows": selectors.collections_overview_rows(
                scope=self.scope, customers=context["page"].items, policy=self.policy
            ),
            "query_sort": context["sort_query"],
            "last_run": selectors.collection_run_list(scope=self.scope).first(),
            "today": clock.today(self.scope.partner.time_zone),
            "can_run": self.scope.has_role(CUSTOMER_WRITERS),
            "uncertain_notices": shown[:UNCERTAIN_NOTICES],
            "uncertain_count": uncertain_count,
        }


def _typed_steps(formset: Any) -> list[tuple[int, str]]:
    steps: list[tuple[int, str]] = formset.steps()
    return steps


class CollectionPolicyView(ScopedViewMixin, View):
    """The partner's policy. Every staff role reads it; partner admins change it."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/collections/policy.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        view = selectors.collection_policy_read(partner=self.scope.partner)
        policy = view.policy
        form = CollectionPolicyForm(
            initial={
                "min_amount": policy.min_amount,
                "min_amounts": minimums_text(policy.min_amounts or {}),
                "grace_days": policy.grace_days,
                "suspend_scope": policy.suspend_scope,
                "reactivate_automatically": policy.reactivate_automatically,
            }
        )
        steps = [{"offset_days": s.offset_days, "action": s.action} for s in view.steps]
        formset = CollectionStepFormSet(prefix=STEPS_PREFIX, initial=steps)
        return self._render(request, form, formset, view)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.scope.has_role(STAFF_MANAGERS):
            raise PermissionDenied
        form = CollectionPolicyForm(request.POST)
        formset = CollectionStepFormSet(request.POST, prefix=STEPS_PREFIX)
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if valid:
            data = form.cleaned_data
            try:
                services.collection_policy_update(
                    partner=self.scope.partner,
                    actor=self.scope.user,
                    min_amount=data["min_amount"],
                    grace_days=data["grace_days"],
                    suspend_scope=data["suspend_scope"],
                    reactivate_automatically=data["reactivate_automatically"],
                    steps=[services.StepInput(offset_days=o, action=a) for o, a in _typed_steps(formset)],
                    min_amounts=data["min_amounts"],
                )
            except CollectionPolicyInvalid as exc:
                self._show_errors(form, formset, exc.errors)
            else:
                messages.success(request, _("Collections policy saved. The next run applies it."))
                return redirect("collection_policy_edit")
        view = selectors.collection_policy_read(partner=self.scope.partner)
        return self._render(request, form, formset, view, status=400)

    @staticmethod
    def _show_errors(form: CollectionPolicyForm, formset: Any, errors: dict[str, list[str]]) -> None:
        """The service's messages next to the fields they are about; the steps' above the steps."""
        step_errors: list[str] = []
        for name, messages_ in errors.items():
            if name in form.fields:
                for message in messages_:
                    form.add_error(name, message)
            else:
                step_errors.extend(messages_)
        formset.step_errors = step_errors

    def _render(
        self, request: HttpRequest, form: CollectionPolicyForm, formset: Any, view: Any, status: int = 200
    ) -> HttpResponse:
        can_edit = self.scope.has_role(STAFF_MANAGERS)
        if not can_edit:
            for f in [form, *formset.forms]:
                for bound in f.fields.values():
                    bound.disabled = True
        partner = self.scope.partner
        context = {
            "form": form,
            "formset": formset,
            "step_errors": getattr(formset, "step_errors", []),
            "policy": view.policy,
            "can_edit": can_edit,
            "sentences": wording.policy_in_words(
                policy=view.policy, steps=view.steps, credit_days=None, currency=partner.default_currency
            ),
            "currency": partner.default_currency,
        }
        return render(request, self.template_name, context, status=status)


class CollectionRunListView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/collections/run_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        runs = selectors.collection_run_list(scope=self.scope)
        page = keyset_page(
            runs, sort_field="started_at", descending=True, cursor=self.request.GET.get("cursor"), size=PAGE_SIZE
        )
        return super().get_context_data(
            page=page,
            query=query_without(self.request, "cursor"),
            today=clock.today(self.scope.partner.time_zone),
            can_run=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


def _outcome(entry: dict[str, Any]) -> dict[str, Any]:
    """A customer's line of a run's details, with its overdue total as money again."""
    try:
        overdue = Decimal(str(entry.get("overdue_total") or "0"))
    except InvalidOperation:
        overdue = Decimal(0)
    return {**entry, "overdue": overdue, "currency": str(entry.get("currency") or "")}


class CollectionRunDetailView(ScopedViewMixin, TemplateView):
    """What one run did: its counts, the outcome per customer, its errors and the notices it made."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/collections/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run = selectors.collection_run_get(scope=self.scope, pk=self.kwargs["pk"])
        details = run.details if isinstance(run.details, dict) else {}
        notices = selectors.notice_list(scope=self.scope, run_id=run.pk)
        return super().get_context_data(
            run=run,
            outcomes=[_outcome(o) for o in details.get("customers", []) if isinstance(o, dict)],
            errors=[str(e) if not isinstance(e, dict) else e for e in details.get("errors", [])],
            notices=list(notices[:RUN_NOTICES]),
            notice_count=notices.count(),
            can_run=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


class CollectionRunStartView(ScopedViewMixin, View):
    """POST: run collections now, for today in the partner's time zone, and show what it did."""

    allowed_roles = CUSTOMER_WRITERS
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        today = clock.today(self.scope.partner.time_zone)
        run = services.collections_run(
            partner=self.scope.partner, run_date=today, actor=self.scope.user, triggered_by=CollectionRun.Trigger.PAGE
        )
        if run.status == CollectionRun.Status.SKIPPED:
            messages.info(request, _("Another collections run is in progress; this one was skipped."))
        elif run.status == CollectionRun.Status.FAILED:
            messages.error(request, _("The collections run failed. Its errors are listed below."))
        else:
            made = int((run.details or {}).get("notices_queued", run.notices_sent))
            messages.success(
                request,
                _("Collections run for %(date)s done: %(notices)s, %(suspensions)s, %(reactivations)s.")
                % {
                    "date": formats.date_format(today, "DATE_FORMAT"),
                    "notices": ngettext("%(count)s notice", "%(count)s notices", made) % {"count": made},
                    "suspensions": ngettext("%(count)s suspension", "%(count)s suspensions", run.suspensions_requested)
                    % {"count": run.suspensions_requested},
                    "reactivations": ngettext(
                        "%(count)s reactivation", "%(count)s reactivations", run.reactivations_requested
                    )
                    % {"count": run.reactivations_requested},
                },
            )
        return redirect("collection_run_detail", pk=run.pk)


class NoticeDecideView(ScopedViewMixin, View):
    """POST on an uncertain notice: "mark as sent" (found in the mail log) or "send again" (new
    Message-ID). Admins and finance, as for a run; another partner's notice is a 404."""

    allowed_roles = CUSTOMER_WRITERS
    http_method_names = ["post"]
    send_again = False

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        notice = selectors.notice_uncertain_get(scope=self.scope, pk=pk)
        partner_id, actor = self.scope.partner.pk, self.scope.user
        try:
            if self.send_again:
                status = services.collection_notice_send_again(partner_id=partner_id, notice_id=notice.pk, actor=actor)
                if status == Notice.Status.SENT:
                    messages.success(request, _("Notice %(notice)s sent again.") % {"notice": notice})
                elif status == Notice.Status.CANCELLED:
                    messages.info(
                        request, _("Notice %(notice)s not sent: its invoice was settled.") % {"notice": notice}
                    )
                else:
                    messages.error(request, _("Notice %(notice)s could not be sent again.") % {"notice": notice})
            else:
                services.collection_notice_mark_sent(partner_id=partner_id, notice_id=notice.pk, actor=actor)
                messages.success(request, _("Notice %(notice)s marked as sent.") % {"notice": notice})
        except NoticeNotUncertain as exc:
            messages.info(request, _("Nothing done: the notice is now “%(status)s”.") % {"status": exc})
        return redirect("collections_overview")


class CustomerCollectionsHoldView(ScopedViewMixin, View):
    """Hold a customer out of collections until a day (a promise to pay), with a reason; audited."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/collections/hold.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = core_selectors.customer_get(scope=self.scope, pk=pk)
        today = clock.today(self.scope.partner.time_zone)
        initial = {"until": customer.promise_to_pay_until} if customer.promise_to_pay_until else {}
        return self._render(request, customer, CollectionHoldForm(initial=initial, today=today))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = core_selectors.customer_get(scope=self.scope, pk=pk)
        today = clock.today(self.scope.partner.time_zone)
        form = CollectionHoldForm(request.POST, today=today)
        if form.is_valid():
            try:
                services.customer_collections_hold(
                    customer=customer,
                    actor=self.scope.user,
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"].strip(),
                )
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(customer)s is held out of collections until %(date)s.")
                    % {
                        "customer": customer.name,
                        "date": formats.date_format(form.cleaned_data["until"], "DATE_FORMAT"),
                    },
                )
                if request.POST.get("next") == "billing":
                    return redirect("customer_billing", pk=customer.pk)
                return redirect("collections_overview")
        return self._render(request, customer, form, status=400)

    def _render(self, request: HttpRequest, customer: Any, form: CollectionHoldForm, status: int = 200) -> HttpResponse:
        context = {
            "customer": customer,
            "form": form,
            "next": request.GET.get("next") or request.POST.get("next", ""),
            "today": clock.today(self.scope.partner.time_zone),
        }
        return render(request, self.template_name, context, status=status)
