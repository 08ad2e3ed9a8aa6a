"""Reads of the support mailbox and the quarantine for the staff pages, always through a Scope (customer
scopes see neither: their querysets have no customer lookup)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Length

from partner_portal.tenancy import Scope, get_scoped_or_404
from tickets.mailbox.models import InboundEmail, SupportMailbox

# Sort keys of the quarantine list: name -> (model field, descending).
QUARANTINE_SORTS: dict[str, tuple[str, bool]] = {
    "-received": ("created_at", True),
    "received": ("created_at", False),
}


def support_mailbox(*, scope: Scope) -> SupportMailbox | None:
    return SupportMailbox.objects.for_scope(scope).first()


def quarantine_list(*, scope: Scope, search: str = "") -> QuerySet[InboundEmail]:
    """The partner's quarantined emails with their size in bytes (`size`), without their raw content."""
    qs = (
        InboundEmail.objects.for_scope(scope)
        .filter(status=InboundEmail.Status.QUARANTINED)
        .defer("raw", "body")
        .annotate(size=Length("raw"))
    )
    term = search.strip()
    if term:
        qs = qs.filter(Q(from_address__icontains=term) | Q(from_name__icontains=term) | Q(subject__icontains=term))
    return qs


def inbound_email_get(*, scope: Scope, pk: int | str) -> InboundEmail:
    """One email read from the partner's mailbox, with its size; another partner's is a 404."""
    qs = InboundEmail.objects.select_related("ticket", "customer", "decided_by").annotate(size=Length("raw"))
    return get_scoped_or_404(qs, scope, pk=pk)
