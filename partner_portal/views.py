"""Core pages: home routing, customers, team and invitations, language, health.

Thin: a form validates, a service acts, a selector reads. Scope comes from ScopedViewMixin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from partner_portal import clock, selectors, services
from partner_portal.access import AUDIT_READERS, CUSTOMER_WRITERS, STAFF_MANAGERS, ScopedViewMixin
from partner_portal.csvexport import csv_response
from partner_portal.errors import PortalError
from partner_portal.exports import audit_csv
from partner_portal.forms import (
    AuditFilterForm,
    CustomerFilterForm,
    CustomerForm,
    CustomerInvitationForm,
    InvitationAcceptForm,
    PartnerSettingsForm,
    StaffInvitationForm,
)
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES, Role, User
from partner_portal.tenancy import Scope, request_scope


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to their home: staff to the dashboard, customer users to self-service."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    scope = request_scope(request)
    if scope is None:
        return render(request, "portal/no_membership.html", status=403)
    return redirect("staff_dashboard" if scope.is_staff else "customer_home")


class CustomerListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "portal/customer_list.html"
    filter_form_class = CustomerFilterForm
    sorts = selectors.CUSTOMER_SORTS
    default_sort = "name"
    pagination_label = _lazy("Pages of customers")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        data = form.cleaned_data if form is not None else {}
        filters = selectors.CustomerFilters(
            search=data.get("q", ""),
            language=data.get("language", ""),
            currency=data.get("currency", ""),
            collections=data.get("collections", ""),
        )
        return selectors.customer_list(scope=self.scope, filters=filters), filters != selectors.CustomerFilters()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(can_create=self.scope.has_role(CUSTOMER_WRITERS), **kwargs)


class AuditLogView(KeysetListView):
    """Every recorded change of the partner: who did what to which object, when; filtered and exported."""

    allowed_roles = AUDIT_READERS
    template_name = "portal/audit_log.html"
    filter_form_class = AuditFilterForm
    filter_form_scoped = True
    sorts = selectors.AUDIT_SORTS
    default_sort = "-created"
    page_size = 50
    pagination_label = _lazy("Pages of the audit log")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.AuditFilters()
        return selectors.audit_log(scope=self.scope, filters=filters), filters != selectors.AuditFilters()


class AuditLogCsvView(ScopedViewMixin, View):
    """The audit log as CSV, with the page's filters: one row per event, its data as JSON."""

    allowed_roles = AUDIT_READERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        form = AuditFilterForm(request.GET or None, scope=self.scope)
        filters = form.filters() if form.is_bound and form.is_valid() else selectors.AuditFilters()
        events = selectors.audit_log(scope=self.scope, filters=filters)
        name = f"audit-log-{clock.today(self.scope.partner.time_zone)}.csv"
        return csv_response(audit_csv(events), name)


class CustomerCreateView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> HttpResponse:
        form = CustomerForm(
            initial={"currency": self.scope.partner.default_currency, "language": self.scope.partner.locale}
        )
        return render(request, "portal/customer_form.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CustomerForm(request.POST)
        if form.is_valid():
            try:
                customer = services.customer_create(
                    partner=self.scope.partner, actor=self.scope.user, data=form.cleaned_data
                )
            except services.DuplicateTenantId as exc:
                form.add_error("tenant_id", str(exc))
            else:
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
                return redirect("customer_detail", pk=customer.pk)
        return render(request, "portal/customer_form.html", {"form": form}, status=400)


class CustomerEditView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = selectors.customer_get(scope=self.scope, pk=pk)
        return render(
            request, "portal/customer_form.html", {"form": CustomerForm(instance=customer), "customer": customer}
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = selectors.customer_get(scope=self.scope, pk=pk)
        # A fresh unbound copy validates, so a refused edit leaves `customer` untouched.
        form = CustomerForm(request.POST, instance=selectors.customer_get(scope=self.scope, pk=pk))
        if form.is_valid():
            try:
                services.customer_update(customer=customer, actor=self.scope.user, changes=form.cleaned_data)
            except services.DuplicateTenantId as exc:
                form.add_error("tenant_id", str(exc))
            except services.CustomerCurrencyLocked as exc:
                form.add_error("currency", str(exc))
            else:
                messages.success(request, _("Changes saved."))
                return redirect("customer_detail", pk=customer.pk)
        return render(request, "portal/customer_form.html", {"form": form, "customer": customer}, status=400)


class CustomerDetailView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "portal/customer_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        customer = selectors.customer_get(scope=self.scope, pk=self.kwargs["pk"])
        return super().get_context_data(
            customer=customer,
            users=selectors.customer_users(scope=self.scope, customer=customer),
            activity=selectors.customer_audit(scope=self.scope, customer=customer),
            einvoice_gaps=selectors.einvoice_gaps(scope=self.scope, customer=customer),
            invite_form=CustomerInvitationForm(),
            can_edit=self.scope.has_role(CUSTOMER_WRITERS),
            can_invite=self.scope.has_role(STAFF_MANAGERS),
            **kwargs,
        )


class PartnerSettingsView(ScopedViewMixin, View):
    """The partner's details as its documents state them. Every staff member reads them; partner admins
    change them."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        partner = selectors.partner_get(scope=self.scope)
        return self._render(request, PartnerSettingsForm(instance=partner))

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.scope.has_role(STAFF_MANAGERS):
            raise PermissionDenied
        form = PartnerSettingsForm(request.POST, instance=selectors.partner_get(scope=self.scope))
        if form.is_valid():
            try:
                services.partner_update(partner=self.scope.partner, actor=self.scope.user, changes=form.cleaned_data)
            except services.FieldsInvalid as exc:
                for name, msgs in exc.fields.items():
                    for msg in msgs:
                        form.add_error(name if name in form.fields else None, msg)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("partner_settings")
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: PartnerSettingsForm, status: int = 200) -> HttpResponse:
        can_edit = self.scope.has_role(STAFF_MANAGERS)
        if not can_edit:
            for field in form.fields.values():
                field.disabled = True
        context = {"form": form, "can_edit": can_edit, "gaps": selectors.einvoice_gaps(scope=self.scope)}
        return render(request, "portal/partner_settings.html", context, status=status)


class CustomerInviteView(ScopedViewMixin, View):
    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = selectors.customer_get(scope=self.scope, pk=pk)
        form = CustomerInvitationForm(request.POST)
        if form.is_valid():
            invite = services.InvitationRequest(
                email=form.cleaned_data["email"], role=form.cleaned_data["role"], customer=customer
            )
            _invite(request, self.scope, invite)
        else:
            messages.error(request, _("Enter a valid email address and role."))
        return redirect("customer_detail", pk=customer.pk)


class TeamView(ScopedViewMixin, View):
    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, StaffInvitationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.scope.has_role(STAFF_MANAGERS):
            return render(request, "403.html", status=403)
        form = StaffInvitationForm(request.POST)
        if form.is_valid():
            invite = services.InvitationRequest(email=form.cleaned_data["email"], role=form.cleaned_data["role"])
            if _invite(request, self.scope, invite):
                return redirect("team")
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: StaffInvitationForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "members": selectors.staff_members(scope=self.scope),
            "invitations": selectors.invitations_open(scope=self.scope),
            "can_invite": self.scope.has_role(STAFF_MANAGERS),
            **self._tokens(),
            "staff_roles": [(value, label) for value, label in Role.choices if value in STAFF_ROLES],
            "now": clock.now(),
        }
        return render(request, "portal/team.html", context, status=status)

    def _tokens(self) -> dict[str, Any]:
        if not self.scope.has_role(STAFF_MANAGERS):
            return {"show_tokens": False}
        tokens = list(selectors.api_tokens_of_team(scope=self.scope)[: selectors.TEAM_TOKENS_SHOWN + 1])
        more = len(tokens) > selectors.TEAM_TOKENS_SHOWN
        return {"show_tokens": True, "tokens": tokens[: selectors.TEAM_TOKENS_SHOWN], "more_tokens": more}


class TeamApiTokenRevokeView(ScopedViewMixin, View):
    """A partner admin revokes an API token of a member of the partner (staff or customer user)."""

    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(selectors.api_tokens_of_team(scope=self.scope), pk=pk)
        services.api_token_revoke(token=token, actor=self.scope.user)
        messages.success(
            request, _("Token %(name)s of %(email)s revoked.") % {"name": token.name, "email": token.user.email}
        )
        return redirect(reverse("team") + "#api-tokens")


class ApiTokenRevokeView(ScopedViewMixin, View):
    """A user revokes one of their own API tokens, from their security page."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(selectors.api_tokens_own(scope=self.scope), pk=pk)
        services.api_token_revoke(token=token, actor=self.scope.user)
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
        return redirect(reverse("mfa_index") + "#api-tokens")


class TeamMemberView(ScopedViewMixin, View):
    """A partner admin changes a staff member's role, deactivates or reactivates the member."""

    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = get_object_or_404(selectors.staff_members(scope=self.scope), pk=pk)
        action = request.POST.get("action")
        email = membership.user.email
        try:
            if action == "role":
                services.membership_role_change(
                    membership=membership, actor=self.scope.user, role=request.POST.get("role", "")
                )
                done = _("%(email)s is now %(role)s.")
            elif action == "deactivate":
                services.membership_deactivate(membership=membership, actor=self.scope.user)
                done = _("%(email)s can no longer sign in.")
            elif action == "reactivate":
                services.membership_reactivate(membership=membership, actor=self.scope.user)
                done = _("%(email)s can sign in again.")
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except PortalError as exc:
            messages.error(request, str(exc))
        else:
            membership.refresh_from_db()
            messages.success(request, done % {"email": email, "role": membership.get_role_display()})
        return redirect("team")


class TeamInvitationView(ScopedViewMixin, View):
    """A partner admin sends an open invitation again (a new link) or revokes it."""

    allowed_roles = STAFF_MANAGERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invitation = get_object_or_404(selectors.invitations_open(scope=self.scope), pk=pk)
        action = request.POST.get("action")
        try:
            if action == "resend":
                services.invitation_resend(
                    invitation=invitation, actor=self.scope.user, base_url=request.build_absolute_uri("/")
                )
                done = _("Invitation sent again to %(email)s, with a new link.")
            elif action == "revoke":
                services.invitation_revoke(invitation=invitation, actor=self.scope.user)
                done = _("Invitation to %(email)s revoked: its link no longer works.")
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except PortalError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done % {"email": invitation.email})
        return redirect(reverse("team") + "#invitations")


def _invite(request: HttpRequest, scope: Scope, invite: services.InvitationRequest) -> bool:
    try:
        services.invitation_create(
            partner=scope.partner, actor=scope.user, request=invite, base_url=request.build_absolute_uri("/")
        )
    except PortalError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": invite.email})
    return True


class InvitationAcceptView(View):
    """Public: the link from the invitation email. Sets a password, creates the account, signs in."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = services.invitation_get_open(token=token)
        except PortalError as exc:
            return render(request, "portal/invitation_invalid.html", {"error": str(exc)}, status=404)
        form = InvitationAcceptForm(email=invitation.email)
        return render(request, "portal/invitation_accept.html", {"form": form, "invitation": invitation})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = services.invitation_get_open(token=token)
        except PortalError as exc:
            return render(request, "portal/invitation_invalid.html", {"error": str(exc)}, status=404)
        form = InvitationAcceptForm(request.POST, email=invitation.email)
        if form.is_valid():
            try:
                user = services.invitation_accept(
                    token=token, password=form.cleaned_data["password1"], full_name=form.cleaned_data["full_name"]
                )
            except PortalError as exc:
                return render(request, "portal/invitation_invalid.html", {"error": str(exc)}, status=404)
            login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("home")
        return render(request, "portal/invitation_accept.html", {"form": form, "invitation": invitation}, status=400)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, and the choice is remembered on the signed-in user's profile."""
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    lang = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and lang in ("en", "ru"):
        User.objects.filter(pk=request.user.pk).update(language=lang)
    return response
