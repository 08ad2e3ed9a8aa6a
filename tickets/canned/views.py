"""Canned reply pages: the partner's list, the form, deleting one, and one filled in for a ticket (JSON
for the picker's script). Thin, like every page: a form validates, a service acts, a selector reads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from partner_portal.access import ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES, Role
from tickets import selectors as ticket_selectors
from tickets.canned import selectors, services
from tickets.canned.forms import CannedReplyFilterForm, CannedReplyForm
from tickets.canned.models import CannedReply
from tickets.errors import CannedReplyInvalid

# Who writes the canned replies: the support desk (partner admins and agents). Finance may use them in a
# reply like anyone who answers tickets, but does not manage them; customers never see them.
CANNED_REPLY_MANAGERS = frozenset({Role.PARTNER_ADMIN, Role.SUPPORT_AGENT})


class CannedReplyListView(KeysetListView):
    """The partner's canned replies, most used first, with search, sorting and keyset pages."""

    allowed_roles = CANNED_REPLY_MANAGERS
    template_name = "tickets/canned/list.html"
    filter_form_class = CannedReplyFilterForm
    sorts = selectors.CANNED_REPLY_SORTS
    default_sort = "-used"
    pagination_label = gettext_lazy("Pages of canned replies")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.CannedReplyFilters()
        return selectors.canned_reply_list(scope=self.scope, filters=filters), filters != selectors.CannedReplyFilters()


class CannedReplyFormView(ScopedViewMixin, View):
    """Create a canned reply (no pk) or change one (pk)."""

    allowed_roles = CANNED_REPLY_MANAGERS
    template_name = "tickets/canned/form.html"

    def _reply(self, pk: int | None) -> CannedReply | None:
        return selectors.canned_reply_get(scope=self.scope, pk=pk) if pk is not None else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        reply = self._reply(pk)
        return self._render(request, CannedReplyForm(reply=reply), reply)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        reply = self._reply(pk)
        form = CannedReplyForm(request.POST, reply=reply)
        if form.is_valid():
            try:
                saved = services.canned_reply_save(
                    partner=self.scope.partner, actor=self.scope.user, data=form.reply_input(), reply=reply
                )
            except CannedReplyInvalid as exc:
                form.add_service_errors(exc.fields)
                if not exc.fields:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, _("Canned reply %(title)s saved.") % {"title": saved.title})
                return redirect("canned_reply_list")
        return self._render(request, form, reply, status=400)

    def _render(
        self, request: HttpRequest, form: CannedReplyForm, reply: CannedReply | None, status: int = 200
    ) -> HttpResponse:
        variables = [(f"{{{name}}}", str(text)) for name, text in services.VARIABLES.items()]
        context = {"form": form, "reply": reply, "variables": variables}
        return render(request, self.template_name, context, status=status)


class CannedReplyDeleteView(ScopedViewMixin, View):
    """Ask, then delete. Replies already sent with it keep their text."""

    allowed_roles = CANNED_REPLY_MANAGERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        reply = selectors.canned_reply_get(scope=self.scope, pk=pk)
        return render(request, "tickets/canned/delete.html", {"reply": reply})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        reply = selectors.canned_reply_get(scope=self.scope, pk=pk)
        services.canned_reply_delete(partner=self.scope.partner, actor=self.scope.user, reply=reply)
        messages.success(request, _("Canned reply %(title)s deleted.") % {"title": reply.title})
        return redirect("canned_reply_list")


class TicketCannedReplyView(ScopedViewMixin, View):
    """A canned reply filled in for a ticket and the signed-in user, as JSON for the picker's script:
    {"id", "title", "body", "language"}. Reads only: the use counts when the reply is sent."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest, pk: int, reply_pk: int) -> JsonResponse:
        ticket = ticket_selectors.ticket_get(scope=self.scope, pk=pk)
        reply = selectors.canned_reply_get(scope=self.scope, pk=reply_pk)
        rendered = services.canned_reply_render(reply=reply, ticket=ticket, agent=self.scope.user)
        response = JsonResponse(
            {"id": reply.pk, "title": reply.title, "body": rendered.body, "language": rendered.language}
        )
        response["Cache-Control"] = "private, no-store"
        return response
