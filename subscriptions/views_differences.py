"""The staff page of differences between the portal and Microsoft, and its two actions per row.

Every staff role reads; partner admins and finance settle (take Microsoft's value, push the
portal's). Another partner's difference is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES
from subscriptions import selectors, services
from subscriptions.errors import SubscriptionError
from subscriptions.forms import DifferenceFilterForm

PAGE_SIZE = 25


class DifferenceListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "subscriptions/difference_list.html"
    filter_form_class = DifferenceFilterForm
    filter_form_scoped = True
    sorts = selectors.DIFFERENCE_SORTS
    default_sort = "-found"
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of differences")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.DifferenceFilters()
        rows = selectors.subscription_difference_list(scope=self.scope, filters=filters)
        return rows, filters != selectors.DifferenceFilters()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(can_write=self.scope.has_role(CUSTOMER_WRITERS), **kwargs)
        for difference in context["page"].items:
            difference.push_refusal = services.difference_push_refusal(difference)
        return context


class _DifferenceActionView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS

    def act(self, difference: Any) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        difference = selectors.subscription_difference_get(scope=self.scope, pk=pk)
        try:
            done = self.act(difference)
        except SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
        back = request.POST.get("next", "")
        return redirect(
            back if back.startswith("/staff/subscriptions/differences/") else "subscription_difference_list"
        )


class DifferenceTakeView(_DifferenceActionView):
    """ "Take Microsoft's value"."""

    def act(self, difference: Any) -> str:
        services.subscription_difference_take(difference=difference, actor=self.scope.user)
        return _("Microsoft's value taken.")


class DifferencePushView(_DifferenceActionView):
    """ "Push the portal's value"."""

    def act(self, difference: Any) -> str:
        services.subscription_difference_push(difference=difference, actor=self.scope.user)
        return _("The portal's value is being sent to Microsoft.")
