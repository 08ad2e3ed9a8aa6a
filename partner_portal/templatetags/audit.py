from django import template

from partner_portal.audit_labels import action_label

register = template.Library()


@register.filter
def audit_label(action: str) -> str:
    """The readable name of an audit action ("invoice.issued" -> "Invoice issued")."""
    return action_label(action)
