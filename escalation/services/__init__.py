"""Every write of escalation. Import from here: `from escalation.services import ticket_escalate`."""

from escalation.services.checks import (
    CheckResult,
    breach_notice_recipients,
    breach_notice_send,
    escalation_checks_run,
    escalation_checks_run_partner,
)
from escalation.services.entitlements import (
    EntitlementInput,
    entitlement_create,
    entitlement_end,
    entitlement_update,
)
from escalation.services.escalations import escalation_update, ticket_escalate
from escalation.services.routing import BUSINESS_CATEGORIES, TECHNICAL_CATEGORY, Route, escalation_route

__all__ = [
    "BUSINESS_CATEGORIES",
    "TECHNICAL_CATEGORY",
    "CheckResult",
    "EntitlementInput",
    "Route",
    "breach_notice_recipients",
    "breach_notice_send",
    "entitlement_create",
    "entitlement_end",
    "entitlement_update",
    "escalation_checks_run",
    "escalation_checks_run_partner",
    "escalation_route",
    "escalation_update",
    "ticket_escalate",
]
