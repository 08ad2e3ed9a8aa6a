"""Who does what in escalation, beyond the core roles."""

from partner_portal.models import Role

# Who takes tickets to Microsoft and keeps the case up to date (finance reads only).
ESCALATION_WRITERS = frozenset({Role.PARTNER_ADMIN, Role.SUPPORT_AGENT})
