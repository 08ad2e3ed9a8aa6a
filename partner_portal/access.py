"""Access for pages and API views: a signed-in user with a membership, and the role the view needs.

Both the page mixin and the DRF base resolve the scope through `tenancy.request_scope`, so there is
one way in. Querysets then go through selectors given that scope.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication

from partner_portal import mfa
from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES, Role
from partner_portal.tenancy import Scope, request_scope

ALL_ROLES = STAFF_ROLES | CUSTOMER_ROLES
CUSTOMER_WRITERS = frozenset({Role.PARTNER_ADMIN, Role.FINANCE})
STAFF_MANAGERS = frozenset({Role.PARTNER_ADMIN})
AUDIT_READERS = frozenset({Role.PARTNER_ADMIN, Role.FINANCE})  # the audit log holds every money change
SUPPORT_HANDLERS = frozenset({Role.PARTNER_ADMIN, Role.SUPPORT_AGENT})  # who decides what support email becomes


class ScopedViewMixin(LoginRequiredMixin):
    """Page views: require a membership whose role is in `allowed_roles`; sets `self.scope`."""

    allowed_roles: ClassVar[Collection[str]] = ALL_ROLES
    scope: Scope

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        scope = request_scope(request)
        if scope is None or not scope.has_role(self.allowed_roles):
            raise PermissionDenied
        self.scope = scope
        return super().dispatch(request, *args, **kwargs)


_MFA_ENROL = "Your role requires two-factor authentication: enrol TOTP in the portal first."
_MFA_SESSION = "This session has not completed two-factor authentication."


class HasMembership(permissions.BasePermission):
    """API default: an authenticated user with a membership. Read roles and write roles per view."""

    message = "Your account has no access to this portal."

    def has_permission(self, request: Any, view: Any) -> bool:
        scope = request_scope(request)
        if scope is None:
            return False
        if mfa.enrolment_missing(scope.user, scope.role):
            self.message = _MFA_ENROL
            return False
        session = isinstance(getattr(request, "successful_authenticator", None), SessionAuthentication)
        if session and mfa.session_second_factor_missing(request._request, scope.user):
            self.message = _MFA_SESSION
            return False
        roles = getattr(view, "read_roles", ALL_ROLES)
        if request.method not in permissions.SAFE_METHODS:
            roles = getattr(view, "write_roles", roles)
        return scope.has_role(roles)


class ApiDocsAccess(permissions.BasePermission):
    """The API schema and docs: anyone when settings.API_DOCS_PUBLIC, otherwise signed-in partner staff."""

    message = "The API documentation is available to signed-in partner staff."

    def has_permission(self, request: Any, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        scope = request_scope(request)
        return scope is not None and scope.is_staff


class ScopedAPIMixin:
    """DRF views: `self.scope` for the caller. Querysets come from selectors given this scope."""

    read_roles: ClassVar[Collection[str]] = ALL_ROLES
    write_roles: ClassVar[Collection[str]] = STAFF_ROLES
    request: Any

    @property
    def scope(self) -> Scope:
        scope = request_scope(self.request)
        if scope is None:  # HasMembership refuses such requests before any handler runs
            raise PermissionDenied
        return scope
