"""Enforce the second factor on pages (partner_portal.mfa holds the rule; the API applies it in access),
send the Content-Security-Policy on every answer, and give each request the id its log lines carry."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from partner_portal import audit, clock, logcontext, mfa
from partner_portal.tenancy import request_scope


class RequestIdMiddleware:
    """Each request's id: the caller's X-Request-ID when it is a sane token, else a new one. It is in
    every log line of the request (logcontext), travels with the tasks the request queues, and goes back
    in the response's X-Request-ID. Cleared when the response is finished (logcontext_request_finished),
    after Django has logged a 4xx or 5xx answer with it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = logcontext.request_id_from(request.headers.get(logcontext.REQUEST_ID_HEADER))
        logcontext.clear()
        logcontext.bind(request_id=request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        with audit.request_bound(request):  # who acts, for changes audited below the services
            response = self.get_response(request)
        response[logcontext.REQUEST_ID_HEADER] = request_id
        return response


def logcontext_request_finished(**kwargs: object) -> None:
    """The request's id and partner do not reach log lines written after it (request_finished)."""
    logcontext.clear()


# Paths a user without MFA may still reach: enrolment itself, sign-out, language, static files, health;
# the API refuses such users itself (access.HasMembership), with a 403 rather than a redirect.
_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz", "/api/")


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PORTAL_MFA_REQUIRED
            and request.user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            scope = request_scope(request)
            if scope is not None and mfa.enrolment_missing(request.user, scope.role):
                return redirect(reverse("mfa_activate_totp"))
            if mfa.session_second_factor_missing(request, request.user):
                return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


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


class ContentSecurityPolicyMiddleware:
    """Every answer carries `settings.CONTENT_SECURITY_POLICY`: scripts, styles, fonts and images from the
    portal itself only, no inline script, no plugin, no framing. A view that set its own keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class StaffSessionTimeoutMiddleware:
    """Partner staff hold money and suspensions: their browser session ends after
    `STAFF_SESSION_IDLE_MINUTES` without a request and `STAFF_SESSION_MAX_HOURS` after sign-in, whatever
    happens in between. Customer users keep the ordinary session. API tokens are not sessions."""

    STARTED, SEEN = "portal_session_started", "portal_session_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = request_scope(request) if request.user.is_authenticated else None
        if scope is not None and scope.is_staff and hasattr(request, "session"):
            now = clock.now().timestamp()
            started = request.session.get(self.STARTED) or request.session.setdefault(self.STARTED, now)
            seen = request.session.get(self.SEEN, now)
            idle = now - seen > settings.STAFF_SESSION_IDLE_MINUTES * 60
            if idle or now - started > settings.STAFF_SESSION_MAX_HOURS * 3600:
                logout(request)
                messages.info(
                    request,
                    _("Your session has ended, after a time without activity or a long day. Sign in again to go on."),
                )
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}")
            if now - seen >= 60 or self.SEEN not in request.session:  # a write a minute at most
                request.session[self.SEEN] = now
        return self.get_response(request)


def staff_session_started(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """`user_logged_in`: the session's clocks start at sign-in (so the first page writes nothing)."""
    if request is not None and hasattr(request, "session"):
        now = clock.now().timestamp()
        request.session[StaffSessionTimeoutMiddleware.STARTED] = now
        request.session[StaffSessionTimeoutMiddleware.SEEN] = now
