from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnerPortalConfig(AppConfig):
    name = "partner_portal"
    verbose_name = _("Partner portal")

    def ready(self) -> None:
        from allauth.mfa import signals

        from partner_portal import checks  # noqa: F401 - registers the deploy checks
        from partner_portal.mfa import record_enrolment

        signals.authenticator_added.connect(record_enrolment, dispatch_uid="portal-mfa-enrolment")
