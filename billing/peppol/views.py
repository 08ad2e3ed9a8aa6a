"""Pages of Peppol sending: the partner's access-point settings (partner admins), the submissions with
their history and "send again" (partner admins and finance), a receiver check, and Storecove's webhook."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing.peppol import selectors, services
from billing.peppol.errors import PeppolError, WebhookRefused
from billing.peppol.forms import AccessPointForm, ReceiverCheckForm, SubmissionFilterForm
from billing.peppol.services.accounts import webhook_secret
from partner_portal.access import STAFF_MANAGERS, ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import Role

# Who sees and sends documents again: finance and partner admins; only admins connect the account.
SUBMISSION_READERS = frozenset({Role.PARTNER_ADMIN, Role.FINANCE})


class PeppolSettingsView(ScopedViewMixin, View):
    """The partner's Storecove account: connect (key, registration), its state, the webhook address."""

    allowed_roles = STAFF_MANAGERS
    template_name = "billing/peppol/settings.html"

    def _render(self, request: HttpRequest, form: AccessPointForm, status: int = 200) -> HttpResponse:
        account = selectors.access_point_account(scope=self.scope)
        webhook_url = ""
        if account is not None:
            path = reverse(
                "storecove_webhook", kwargs={"partner": self.scope.partner.slug, "token": webhook_secret(account)}
            )
            webhook_url = request.build_absolute_uri(path)
        context = {"form": form, "account": account, "partner": self.scope.partner, "webhook_url": webhook_url,
                   "check_form": ReceiverCheckForm()}  # fmt: skip
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, AccessPointForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AccessPointForm(request.POST)
        if form.is_valid():
            try:
                services.access_point_connect(
                    partner=self.scope.partner, actor=self.scope.user, api_key=form.cleaned_data["api_key"]
                )
            except PeppolError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, _("Registered at Storecove: issued documents now go over Peppol."))
                return redirect("peppol_settings")
        return self._render(request, form, status=400)


class PeppolPauseView(ScopedViewMixin, View):
    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest) -> HttpResponse:
        paused = request.POST.get("paused") == "1"
        try:
            services.access_point_pause(partner=self.scope.partner, actor=self.scope.user, paused=paused)
        except PeppolError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Sending paused.") if paused else _("Sending resumed."))
        return redirect("peppol_settings")


class ReceiverCheckView(ScopedViewMixin, View):
    """Ask Storecove whether a participant receives invoices over Peppol (discovery)."""

    allowed_roles = SUBMISSION_READERS
    template_name = "billing/peppol/receiver_check.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ReceiverCheckForm(request.GET or None)
        result: bool | None = None
        if form.is_valid():
            try:
                result = services.receiver_check(
                    partner=self.scope.partner, scheme=form.cleaned_data["scheme"],
                    identifier=form.cleaned_data["identifier"],
                )  # fmt: skip
            except PeppolError as exc:
                form.add_error(None, str(exc))
        return render(request, self.template_name, {"form": form, "result": result})


class SubmissionListView(KeysetListView):
    """Documents sent over Peppol, newest first, with search, filters, sorting and keyset pages."""

    allowed_roles = SUBMISSION_READERS
    template_name = "billing/peppol/list.html"
    filter_form_class = SubmissionFilterForm
    sorts = selectors.SUBMISSION_SORTS
    default_sort = "-created"
    pagination_label = gettext_lazy("Pages of Peppol submissions")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.SubmissionFilters()
        return selectors.submission_list(scope=self.scope, filters=filters), filters != selectors.SubmissionFilters()


class SubmissionDetailView(ScopedViewMixin, View):
    allowed_roles = SUBMISSION_READERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        submission = selectors.submission_get(scope=self.scope, pk=pk)
        context = {"submission": submission, "events": list(selectors.submission_events(submission=submission))}
        return render(request, "billing/peppol/detail.html", context)


class SubmissionRetryView(ScopedViewMixin, View):
    """Send a failed or rejected document again."""

    allowed_roles = SUBMISSION_READERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        submission = selectors.submission_get(scope=self.scope, pk=pk)
        try:
            services.submission_retry_now(submission=submission, actor=self.scope.user)
        except PeppolError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(number)s is being sent again.") % {"number": submission.number})
        return redirect("einvoice_submission_detail", pk=submission.pk)


class SubmissionEvidenceView(ScopedViewMixin, View):
    """Download the delivery evidence of a delivered document, as Storecove gives it (JSON)."""

    allowed_roles = SUBMISSION_READERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        submission = selectors.submission_get(scope=self.scope, pk=pk)
        try:
            content = services.submission_evidence(submission=submission, actor=self.scope.user)
        except PeppolError as exc:
            messages.error(request, str(exc))
            return redirect("einvoice_submission_detail", pk=submission.pk)
        response = HttpResponse(content, content_type="application/json")
        filename = f"peppol-evidence-{slugify(submission.number) or submission.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@method_decorator(csrf_exempt, name="dispatch")
class StorecoveWebhookView(View):
    """Storecove's webhook for one partner: 200 once applied (or already applied, or not ours to apply),
    403 without the partner's token."""

    def post(self, request: HttpRequest, partner: str, token: str) -> HttpResponse:
        try:
            services.webhook_receive(partner_ref=partner, token=token, body=request.body)
        except WebhookRefused:
            return HttpResponse("refused", status=403, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")
