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
from django.views import View
from django.views.generic import TemplateView

from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.models import STAFF_ROLES
from partner_portal.pagination import keyset_page, query_without
from subscriptions import selectors, services
from subscriptions.errors import SubscriptionError
from subscriptions.forms import DifferenceFilterForm

PAGE_SIZE = 25


class DifferenceListView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "subscriptions/difference_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = DifferenceFilterForm(self.request.GET or None, scope=self.scope)
        valid = form.is_valid()
        filters = form.filters() if valid else selectors.DifferenceFilters()
        sort = (form.cleaned_data.get("sort") if valid else "") or "-found"
        sort_field, descending = selectors.DIFFERENCE_SORTS[sort]
        qs = selectors.subscription_difference_list(scope=self.scope, filters=filters)
        page = keyset_page(
            qs, sort_field=sort_field, descending=descending, cursor=self.request.GET.get("cursor"), size=PAGE_SIZE
        )
        for difference in page.items:
            difference.push_refusal = services.difference_push_refusal(difference)  # type: ignore[attr-defined]
        return super().get_context_data(
            form=form,
            page=page,
            total=qs.count(),
            sort=sort,
            filtered=valid and filters != selectors.DifferenceFilters(),
            query=query_without(self.request, "cursor"),
            sort_query=query_without(self.request, "cursor", "sort"),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


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
