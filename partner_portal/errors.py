"""Preconditions of the core services, as typed exceptions the views turn into clear messages."""


class PortalError(Exception):
    """A request that breaks a rule; the message is shown to the user."""


class InvitationInvalid(PortalError):
    pass


class RoleNotAllowed(PortalError):
    pass
