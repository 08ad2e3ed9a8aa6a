"""Enforce TOTP for the roles that handle money and users, when PORTAL_MFA_REQUIRED is on."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from partner_portal.tenancy import request_scope

# Paths a user without MFA may still reach: enrolment itself, sign-out, language, static files, health.
_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz", "/api/")


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.PORTAL_MFA_REQUIRED and self._needs_enrolment(request):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _needs_enrolment(request: HttpRequest) -> bool:
        if not request.user.is_authenticated or request.path.startswith(_OPEN_PREFIXES):
            return False
        scope = request_scope(request)
        if scope is None or scope.role not in settings.PORTAL_MFA_REQUIRED_ROLES:
            return False
        return not Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()


class UserLanguageMiddleware:
    """A signed-in user's saved language applies wherever they sign in, unless this browser chose one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
