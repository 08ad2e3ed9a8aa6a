from partner_portal.errors import PortalError


class EscalationNotEntitled(PortalError):
    """The partner has no valid entitlement for the tier a ticket needs; the message says what would do."""
