"""Staff pages of support email: the partner's mailbox settings (partner admins) and the quarantine
(partner admins and support agents). Thin: a form validates, a service acts, a selector reads, and every
object comes from a selector given the request's scope, so another partner's email is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from partner_portal.access import STAFF_MANAGERS, SUPPORT_HANDLERS, ScopedViewMixin
from partner_portal.errors import PortalError
from partner_portal.listing import KeysetListView
from tickets.errors import MailboxInvalid, TicketError
from tickets.mailbox import selectors, services
from tickets.mailbox.forms import MailboxForm, QuarantineAcceptForm, QuarantineFilterForm
from tickets.mailbox.models import InboundEmail
from tickets.mailbox.parsing import email_parse


class SupportMailboxView(ScopedViewMixin, View):
    """The partner's support mailbox: where customers write, read over IMAP with TLS. The password is
    never shown back. "Test connection" signs in with the values entered, as the reader would, and
    saves nothing."""

    allowed_roles = STAFF_MANAGERS
    template_name = "tickets/mailbox/settings.html"

    def _render(self, request: HttpRequest, form: MailboxForm, status: int = 200, **extra: Any) -> HttpResponse:
        context = {
            "form": form,
            "mailbox": selectors.support_mailbox(scope=self.scope),
            "quarantined": selectors.quarantine_list(scope=self.scope).count(),
            **extra,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, MailboxForm(mailbox=selectors.support_mailbox(scope=self.scope)))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MailboxForm(request.POST, mailbox=selectors.support_mailbox(scope=self.scope))
        testing = request.POST.get("action") == "test"
        if form.is_valid():
            try:
                if testing:
                    check = services.support_mailbox_test(
                        partner=self.scope.partner, actor=self.scope.user, data=form.mailbox_input()
                    )
                    return self._render(request, form, check=check)
                services.support_mailbox_save(
                    partner=self.scope.partner, actor=self.scope.user, data=form.mailbox_input()
                )
            except MailboxInvalid as exc:
                form.add_service_errors(exc.fields)
            else:
                messages.success(request, _("Support mailbox saved. It is read every two minutes."))
                return redirect("support_mailbox")
        return self._render(request, form, status=400)


class QuarantineListView(KeysetListView):
    """Emails the portal could not place: from unknown senders, contacts of several customers, or
    someone else replying to a ticket. Staff open a ticket for a customer or drop them."""

    allowed_roles = SUPPORT_HANDLERS
    template_name = "tickets/mailbox/quarantine_list.html"
    filter_form_class = QuarantineFilterForm
    sorts = selectors.QUARANTINE_SORTS
    default_sort = "-received"
    page_size = 25
    pagination_label = gettext_lazy("Pages of quarantined emails")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        search = form.cleaned_data.get("q", "") if form is not None else ""
        return selectors.quarantine_list(scope=self.scope, search=search), bool(search)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(mailbox=selectors.support_mailbox(scope=self.scope), **kwargs)


# Why an email is in the quarantine, as `services._route` records it; other reasons are the ticket's refusal.
REASONS = {
    "unknown sender": gettext_lazy("The sender is no contact of any of your customers."),
    "contact of several customers": gettext_lazy("The sender is a contact of several customers."),
    "staff email without a ticket": gettext_lazy("A member of your staff wrote without naming a ticket."),
    "not a contact of the ticket's customer": gettext_lazy(
        "A reply to a ticket from someone who is no contact of the ticket's customer."
    ),
}


class _QuarantineEmail(ScopedViewMixin, View):
    allowed_roles = SUPPORT_HANDLERS
    template_name = "tickets/mailbox/quarantine_detail.html"

    def render_email(
        self, request: HttpRequest, email: InboundEmail, form: QuarantineAcceptForm | None = None, status: int = 200
    ) -> HttpResponse:
        parsed = email_parse(bytes(email.raw))
        context = {
            "email": email,
            "text": parsed.text.strip() or email.body,
            "files": [(a.name, len(a.content)) for a in parsed.attachments],
            "form": form or QuarantineAcceptForm(scope=self.scope),
            "quarantined": email.status == InboundEmail.Status.QUARANTINED,
            "reason": REASONS.get(email.reason, email.reason),
        }
        return render(request, self.template_name, context, status=status)


class QuarantineDetailView(_QuarantineEmail):
    """One email as text (never its HTML), its files, and the decision: a ticket for a customer, or drop."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_email(request, selectors.inbound_email_get(scope=self.scope, pk=pk))


class QuarantineAcceptView(_QuarantineEmail):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        email = selectors.inbound_email_get(scope=self.scope, pk=pk)
        form = QuarantineAcceptForm(request.POST, scope=self.scope)
        if form.is_valid():
            try:
                ticket = services.inbound_email_accept(
                    email=email, customer=form.cleaned_data["customer"], actor=self.scope.user
                )
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Ticket %(number)s opened for %(customer)s from the email.")
                    % {"number": ticket.reference, "customer": ticket.customer.name},
                )
                if form.cleaned_data.get("invite_sender"):
                    self._invite(request, email)
                return redirect("ticket_detail", ticket.pk)
        email = selectors.inbound_email_get(scope=self.scope, pk=pk)
        return self.render_email(request, email, form, status=400)

    def _invite(self, request: HttpRequest, email: InboundEmail) -> None:
        try:
            services.inbound_email_sender_invite(
                email=email, actor=self.scope.user, base_url=request.build_absolute_uri("/")
            )
        except PortalError as exc:
            messages.warning(request, _("The sender was not invited: %(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": email.from_address})


class QuarantineDropView(_QuarantineEmail):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        email = selectors.inbound_email_get(scope=self.scope, pk=pk)
        try:
            services.inbound_email_drop(email=email, actor=self.scope.user)
        except TicketError as exc:
            messages.error(request, str(exc))
            return redirect("quarantine_detail", email.pk)
        messages.success(request, _("Email from %(sender)s dropped.") % {"sender": email.from_address})
        return redirect("quarantine_list")
