"""Ticket pages: the agents' queue and ticket page, the support offering, the customers' support pages.

Thin: a form validates, a service acts, a selector reads. Every object comes from a selector given
the request's scope, so a ticket of another partner or another customer is a 404. Internal notes
and their files are dropped by the selectors for customer scopes, whatever a template does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from partner_portal import clock
from partner_portal.access import ALL_ROLES, STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES
from partner_portal.pagination import keyset_page, query_without
from tickets import selectors, services
from tickets.canned import selectors as canned_selectors
from tickets.canned import services as canned_services
from tickets.canned.views import CANNED_REPLY_MANAGERS
from tickets.errors import OfferingInvalid, TicketError
from tickets.forms import (
    BulkAssignForm,
    CustomerTicketForm,
    RatingForm,
    ReplyForm,
    SatisfactionFilterForm,
    StaffTicketForm,
    StatusForm,
    SupportOfferingForm,
    TicketEditForm,
    TicketFilterForm,
    TimeEntryForm,
)
from tickets.knowledge import services as knowledge_services
from tickets.models import Ticket
from tickets.presentation import offering_context, plan_context

PAGE_SIZE = 25


# ---- Staff: the queue -----------------------------------------------------------------------------


class TicketListView(KeysetListView):
    """The agents' queue: tabs (mine, unassigned, breaching soon, escalated), search, filters, sorting,
    keyset pages and bulk assignment, in a fixed number of queries."""

    allowed_roles = STAFF_ROLES
    template_name = "tickets/ticket_list.html"
    filter_form_class = TicketFilterForm
    filter_form_scoped = True
    sorts = selectors.TICKET_SORTS
    default_sort = "-created"
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of tickets")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        self.filters = form.filters() if form is not None else selectors.TicketFilters()
        return selectors.ticket_list(scope=self.scope, filters=self.filters), self.filters != selectors.TicketFilters()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        return {
            **context,
            "counts": selectors.ticket_queue_counts(scope=self.scope),
            "view": self.filters.view,
            "tab_query": query_without(self.request, "cursor", "view"),
            "assign_form": BulkAssignForm(scope=self.scope),
            "can_manage_canned": self.scope.has_role(CANNED_REPLY_MANAGERS),
            "now": clock.now(),
        }


class TicketBulkAssignView(ScopedViewMixin, View):
    allowed_roles = STAFF_ROLES

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BulkAssignForm(request.POST, scope=self.scope)
        back = request.POST.get("next") or reverse("ticket_list")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("ticket_list")
        if not form.is_valid():
            messages.error(request, _("Select tickets and whom to assign them to."))
            return redirect(back)
        try:
            changed = services.tickets_assign(
                partner=self.scope.partner, ticket_ids=[t.pk for t in form.cleaned_data["tickets"]],
                assignee=form.cleaned_data["assignee"], actor=self.scope.user,
            )  # fmt: skip
        except TicketError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        messages.success(
            request,
            ngettext("%(count)d ticket reassigned.", "%(count)d tickets reassigned.", changed) % {"count": changed},
        )
        return redirect(back)


class TicketCreateView(ScopedViewMixin, View):
    """Staff open a ticket on a customer's behalf."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"customer": request.GET["customer"]} if request.GET.get("customer", "").isdigit() else {}
        return self._render(request, StaffTicketForm(scope=self.scope, initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StaffTicketForm(request.POST, request.FILES, scope=self.scope)
        if form.is_valid():
            d = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    partner=self.scope.partner, customer=d["customer"], opened_by=self.scope.user,
                    subject=d["subject"], description=d["description"], category=d["category"],
                    product_family=d["product_family"], severity=d["severity"], assignee=d.get("assignee"),
                    invoices=list(d.get("invoices") or []), files=d["attachments"],
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Ticket %(reference)s opened.") % {"reference": ticket.reference})
                return redirect("ticket_detail", ticket.pk)
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: StaffTicketForm, status: int = 200) -> HttpResponse:
        return render(request, "tickets/ticket_form.html", {"form": form, "staff": True}, status=status)


class TicketDetailView(ScopedViewMixin, TemplateView):
    """The agent's ticket page: conversation with internal notes, reply, status, fields, time, escalation."""

    allowed_roles = STAFF_ROLES
    template_name = "tickets/ticket_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ticket = kwargs.pop("ticket", None) or selectors.ticket_get(scope=self.scope, pk=self.kwargs["pk"])
        return super().get_context_data(
            ticket=ticket,
            scope=self.scope,
            conversation=list(selectors.ticket_messages(scope=self.scope, ticket=ticket)),
            ticket_files=list(selectors.ticket_attachments(scope=self.scope, ticket=ticket)),
            time_entries=list(selectors.ticket_time_entries(scope=self.scope, ticket=ticket)),
            time_totals=selectors.ticket_time_totals(scope=self.scope, ticket=ticket),
            rating=selectors.ticket_rating(scope=self.scope, ticket=ticket),
            reply_form=kwargs.pop("reply_form", None) or self._reply_form(ticket),
            canned_replies=canned_selectors.canned_reply_picker(scope=self.scope),
            can_manage_canned=self.scope.has_role(CANNED_REPLY_MANAGERS),
            status_form=kwargs.pop("status_form", None)
            or StatusForm(allowed=sorted(services.STAFF_TRANSITIONS.get(ticket.status, ()))),
            edit_form=kwargs.pop("edit_form", None) or TicketEditForm(scope=self.scope, ticket=ticket),
            time_form=kwargs.pop("time_form", None)
            or TimeEntryForm(initial={"worked_on": clock.today(self.scope.partner.time_zone), "billable": True}),
            now=clock.now(),
            **kwargs,
        )

    def _reply_form(self, ticket: Ticket) -> ReplyForm:
        """The reply form; `?canned_reply=<id>` (the picker without its script) starts it from that canned
        reply filled in for this ticket."""
        reply = canned_selectors.canned_reply_find(scope=self.scope, pk=self.request.GET.get("canned_reply"))
        if reply is None:
            return ReplyForm(staff=True)
        rendered = canned_services.canned_reply_render(reply=reply, ticket=ticket, agent=self.scope.user)
        return ReplyForm(staff=True, initial={"body": rendered.body, "canned_reply": reply.pk})


class _StaffTicketAction(ScopedViewMixin, View):
    allowed_roles = STAFF_ROLES

    def ticket(self) -> Ticket:
        return selectors.ticket_get(scope=self.scope, pk=self.kwargs["pk"])

    def invalid(self, request: HttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
        view = TicketDetailView()
        view.setup(request, pk=ticket.pk)
        view.scope = self.scope
        context = view.get_context_data(ticket=ticket, **forms)
        return render(request, view.template_name, context, status=400)


class TicketReplyView(_StaffTicketAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = self.ticket()
        form = ReplyForm(request.POST, request.FILES, staff=True)
        if form.is_valid():
            try:
                services.ticket_message_add(
                    ticket=ticket, author=self.scope.user, body=form.cleaned_data["body"],
                    internal=form.cleaned_data["internal"], files=form.cleaned_data["attachments"],
                    canned_reply=canned_selectors.canned_reply_find(
                        scope=self.scope, pk=form.cleaned_data["canned_reply"]),
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Internal note added.") if form.cleaned_data["internal"] else _("Reply sent to the customer."),
                )
                return redirect("ticket_detail", ticket.pk)
        return self.invalid(request, ticket, reply_form=form)


class TicketStatusView(_StaffTicketAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = self.ticket()
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.ticket_change(
                    ticket=ticket, status=form.cleaned_data["status"], actor=self.scope.user,
                    note=form.cleaned_data["note"],
                )  # fmt: skip
            except TicketError as exc:
                form.add_error("status", str(exc))
            else:
                messages.success(request, _("Status is now: %(status)s.") % {"status": ticket.get_status_display()})
                return redirect("ticket_detail", ticket.pk)
        return self.invalid(request, ticket, status_form=form)


class TicketEditView(_StaffTicketAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = self.ticket()
        form = TicketEditForm(request.POST, scope=self.scope, ticket=ticket)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.ticket_change(
                    ticket=ticket, actor=self.scope.user,
                    changes=services.TicketChanges(
                        category=d["category"], product_family=d["product_family"], severity=d["severity"],
                        assignee=d.get("assignee"), invoices=list(d.get("invoices") or []),
                    ),
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Ticket updated."))
                return redirect("ticket_detail", ticket.pk)
        return self.invalid(request, ticket, edit_form=form)


class TicketTimeView(_StaffTicketAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = self.ticket()
        form = TimeEntryForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.time_entry_add(
                    ticket=ticket, agent=self.scope.user, minutes=d["minutes"], billable=d["billable"],
                    worked_on=d["worked_on"], note=d["note"],
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Time recorded."))
                return redirect("ticket_detail", ticket.pk)
        return self.invalid(request, ticket, time_form=form)


# ---- Staff: the support offering ------------------------------------------------------------------


class SupportOfferingView(ScopedViewMixin, View):
    """Every staff member reads the offering; partner admins change it."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        offering = selectors.support_offering_for(scope=self.scope)
        return self._render(request, SupportOfferingForm(offering=offering), offering)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.scope.has_role(STAFF_MANAGERS):
            raise Http404  # the page offers no form to others; a forged POST finds nothing
        offering = selectors.support_offering_for(scope=self.scope)
        form = SupportOfferingForm(request.POST, offering=offering)
        if form.is_valid():
            try:
                services.support_offering_update(
                    partner=self.scope.partner, actor=self.scope.user, data=form.offering_input()
                )
            except OfferingInvalid as exc:
                form.add_service_errors(exc.fields)
            else:
                messages.success(request, _("Support offering saved. Customers see it on their support page."))
                return redirect("support_offering")
        return self._render(request, form, offering, status=400)

    def _render(
        self, request: HttpRequest, form: SupportOfferingForm, offering: Any, status: int = 200
    ) -> HttpResponse:
        context = {
            "form": form, "can_edit": self.scope.has_role(STAFF_MANAGERS), **offering_context(offering),
        }  # fmt: skip
        return render(request, "tickets/support_offering.html", context, status=status)


# ---- Customers ------------------------------------------------------------------------------------


class CustomerSupportView(ScopedViewMixin, TemplateView):
    """The customer's support page: what support they get, and their tickets."""

    allowed_roles = CUSTOMER_ROLES
    template_name = "tickets/customer_support.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        status = self.request.GET.get("status", "")
        filters = selectors.TicketFilters(
            status=status if status in Ticket.Status.values else "", search=self.request.GET.get("q", "")[:100]
        )
        qs = selectors.ticket_list(scope=self.scope, filters=filters)
        page = keyset_page(
            qs, sort_field="created_at", descending=True, cursor=self.request.GET.get("cursor"), size=PAGE_SIZE
        )
        offering = selectors.support_offering_for(scope=self.scope)
        customer = self.scope.customer
        assert customer is not None  # noqa: S101 - customer roles only
        plan, _default = selectors.customer_plan_for(scope=self.scope, customer=customer)
        usage = services.plan_usage_this_month(customer=customer) if plan is not None else None
        return super().get_context_data(
            page=page, status=filters.status, search=filters.search, statuses=Ticket.Status.choices,
            query=query_without(self.request, "cursor"), filtered=filters != selectors.TicketFilters(),
            **offering_context(offering, plan), **(plan_context(offering, plan, usage) if plan else {}), **kwargs,
        )  # fmt: skip


class CustomerTicketCreateView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        # The form's key for the knowledge base suggestions: kept when the customer comes back from an
        # article opened from them, else a fresh one.
        flow = request.GET.get("flow", "")
        flow = flow if knowledge_services.is_flow(flow) else knowledge_services.new_flow()
        return self._render(request, CustomerTicketForm(scope=self.scope, initial={"flow": flow}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CustomerTicketForm(request.POST, request.FILES, scope=self.scope)
        if form.is_valid():
            d = form.cleaned_data
            assert self.scope.customer is not None  # noqa: S101 - customer roles only
            try:
                ticket = services.ticket_create(
                    partner=self.scope.partner, customer=self.scope.customer, opened_by=self.scope.user,
                    subject=d["subject"], description=d["description"], category=d["category"],
                    product_family=d["product_family"], severity=d["severity"],
                    invoices=list(d.get("invoices") or []), files=d["attachments"],
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                knowledge_services.article_suggestions_ticket_sent(user=self.scope.user, flow=d["flow"], ticket=ticket)
                messages.success(
                    request,
                    _("Your request %(reference)s was sent. We emailed you a confirmation.")
                    % {"reference": ticket.reference},
                )
                return redirect("customer_ticket_detail", ticket.pk)
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: CustomerTicketForm, status: int = 200) -> HttpResponse:
        offering = selectors.support_offering_for(scope=self.scope)
        context = {"form": form, "staff": False, **offering_context(offering)}
        return render(request, "tickets/ticket_form.html", context, status=status)


class CustomerTicketDetailView(ScopedViewMixin, View):
    """The customer's ticket page: public conversation only, reply, close or reopen a resolved ticket."""

    allowed_roles = CUSTOMER_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, selectors.ticket_get(scope=self.scope, pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.ticket_get(scope=self.scope, pk=pk)
        form = ReplyForm(request.POST, request.FILES, staff=False)
        if form.is_valid():
            try:
                services.ticket_message_add(
                    ticket=ticket, author=self.scope.user, body=form.cleaned_data["body"], internal=False,
                    files=form.cleaned_data["attachments"],
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("customer_ticket_detail", ticket.pk)
        return self._render(request, ticket, form, status=400)

    def _render(
        self,
        request: HttpRequest,
        ticket: Ticket,
        form: ReplyForm | None = None,
        status: int = 200,
        rating_form: RatingForm | None = None,
    ) -> HttpResponse:
        context = {
            "ticket": ticket,
            "conversation": list(selectors.ticket_messages(scope=self.scope, ticket=ticket)),
            "ticket_files": list(selectors.ticket_attachments(scope=self.scope, ticket=ticket)),
            "reply_form": form or ReplyForm(staff=False),
            # A resolved ticket is the customer's to close or reopen; a reply reopens one waiting on them.
            "can_close_or_reopen": ticket.status == Ticket.Status.RESOLVED,
            "rating": selectors.ticket_rating(scope=self.scope, ticket=ticket),
            "rating_form": rating_form or RatingForm(),
            "can_rate": ticket.status in services.RATEABLE_STATUSES,
        }
        return render(request, "tickets/customer_ticket_detail.html", context, status=status)


def _rated_message(request: HttpRequest, score: int) -> None:
    if score in services.LOW_SCORES:
        messages.warning(request, _("Sorry we fell short. We have reopened your request and will get back to you."))
    else:
        messages.success(request, _("Thank you for your rating."))


class CustomerTicketRateView(CustomerTicketDetailView):
    """Rate a resolved ticket from its page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("customer_ticket_detail", pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.ticket_get(scope=self.scope, pk=pk)
        form = RatingForm(request.POST)
        if form.is_valid():
            try:
                services.ticket_rate(
                    ticket=ticket, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                    actor=self.scope.user,
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                _rated_message(request, form.cleaned_data["score"])
                return redirect("customer_ticket_detail", ticket.pk)
        return self._render(request, ticket, rating_form=form, status=400)


class RatingLinkView(View):
    """The one-click rating link of the "resolved" email: no sign-in, the signed token names the ticket.
    The score clicked in the email is pre-selected; saving needs the POST. A forged or expired link shows
    nothing of the ticket."""

    def _ticket(self, request: HttpRequest, token: str) -> Ticket | HttpResponse:
        try:
            ticket_id, partner_id = services.rating_link_read(token)
        except TicketError as exc:
            return render(request, "tickets/rating_link_invalid.html", {"reason": str(exc)}, status=404)
        ticket = selectors.rating_link_ticket(ticket_id=ticket_id, partner_id=partner_id)
        if ticket is None:
            reason = _("This rating link is not valid.")
            return render(request, "tickets/rating_link_invalid.html", {"reason": reason}, status=404)
        return ticket

    def _render(
        self, request: HttpRequest, ticket: Ticket, token: str, form: RatingForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "ticket": ticket, "partner": ticket.partner, "token": token, "rating_form": form,
            "rating": selectors.rating_get(ticket=ticket),
            "can_rate": ticket.status in services.RATEABLE_STATUSES,
        }  # fmt: skip
        return render(request, "tickets/rating_link.html", context, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        ticket = self._ticket(request, token)
        if isinstance(ticket, HttpResponse):
            return ticket
        score = request.GET.get("score", "")
        initial = {"score": int(score)} if score in ("1", "2", "3", "4", "5") else {}
        return self._render(request, ticket, token, RatingForm(initial=initial))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        ticket = self._ticket(request, token)
        if isinstance(ticket, HttpResponse):
            return ticket
        form = RatingForm(request.POST)
        if form.is_valid():
            try:
                services.ticket_rate(
                    ticket=ticket, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                    actor=None, by_link=True,
                )  # fmt: skip
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                _rated_message(request, form.cleaned_data["score"])
                return redirect("ticket_rate_link", token=token)
        return self._render(request, ticket, token, form, status=400)


class CustomerTicketStatusView(ScopedViewMixin, View):
    """Close a resolved ticket, or reopen it."""

    allowed_roles = CUSTOMER_ROLES

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.ticket_get(scope=self.scope, pk=pk)
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.ticket_status_change(
                    ticket=ticket, status=form.cleaned_data["status"], actor=self.scope.user
                )
            except TicketError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Status is now: %(status)s.") % {"status": ticket.get_status_display()})
        return redirect("customer_ticket_detail", ticket.pk)


# ---- Customer satisfaction report ----------------------------------------------------------------


class SatisfactionReportView(ScopedViewMixin, TemplateView):
    """Ratings per agent, product family and month with the response rate, over a range of months."""

    allowed_roles = CANNED_REPLY_MANAGERS  # partner admins and support agents
    template_name = "tickets/satisfaction_report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        default = selectors.satisfaction_months_default(clock.today(self.scope.partner.time_zone))
        form = SatisfactionFilterForm(self.request.GET or None, default=default)
        first, last = form.months()
        report = selectors.satisfaction_report(scope=self.scope, first_month=first, last_month=last)
        return super().get_context_data(form=form, report=report, **kwargs)


# ---- Attachments: staff and customers -------------------------------------------------------------


class AttachmentDownloadView(ScopedViewMixin, View):
    """A ticket's file, for those who may see the ticket. Customers never get internal-note files.
    Always a download (Content-Disposition: attachment), never rendered in the portal's origin."""

    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = selectors.attachment_get(scope=self.scope, pk=pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Disposition"] = content_disposition_header(True, attachment.original_name) or "attachment"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
