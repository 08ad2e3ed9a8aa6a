"""django-allauth adapter: sign-up is by invitation only; after login each role lands on its home."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from partner_portal.tenancy import request_scope


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by accepting an invitation from a partner admin, never by open sign-up.
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        scope = request_scope(request)
        if scope is not None and not scope.is_staff:
            return reverse("customer_home")
        return reverse("staff_dashboard")

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from partner_portal.signin_audit import record_lockout

            record_lockout(request, str(credentials.get("email") or credentials.get("username") or ""))
            raise
