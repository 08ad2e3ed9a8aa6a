from django import template

from partner_portal.audit_labels import action_label

register = template.Library()


@register.filter
def audit_label(action: str) -> str:
    """The readable name of an audit action ("invoice.issued" -> "Invoice issued")."""
    return action_label(action)


@register.filter
def audit_details(data: object) -> list[tuple[str, str]]:
    """An event's recorded data as (name, text) pairs for the audit log: a change reads "old → new"."""
    if not isinstance(data, dict):
        return []
    details = []
    for name, value in data.items():
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            text = f"{_text(value['from'])} → {_text(value['to'])}"
        else:
            text = _text(value)
        details.append((str(name).replace("_", " "), text))
    return details


def _text(value: object) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= 160 else text[:159] + "…"
