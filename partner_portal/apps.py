from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnerPortalConfig(AppConfig):
    name = "partner_portal"
    verbose_name = _("Partner portal")

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from allauth.mfa import signals
        from django.contrib.auth.signals import user_logged_in as session_opened
        from django.contrib.auth.signals import user_login_failed
        from django.core.signals import request_finished

        from partner_portal import checks  # noqa: F401 - registers the deploy checks
        from partner_portal.mfa import record_enrolment
        from partner_portal.middleware import logcontext_request_finished, staff_session_started
        from partner_portal.signin_audit import record_sign_in, record_sign_in_failed

        signals.authenticator_added.connect(record_enrolment, dispatch_uid="portal-mfa-enrolment")
        user_logged_in.connect(record_sign_in, dispatch_uid="portal-audit-sign-in")
        user_login_failed.connect(record_sign_in_failed, dispatch_uid="portal-audit-sign-in-failed")
        session_opened.connect(staff_session_started, dispatch_uid="portal-session-started")
        request_finished.connect(logcontext_request_finished, dispatch_uid="portal-log-context-cleared")
