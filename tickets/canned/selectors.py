"""Reads of canned replies for the staff pages, always through a Scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from partner_portal.tenancy import Scope, get_scoped_or_404
from tickets.canned.models import CannedReply

# Sort keys the list offers: name -> (model field, descending).
CANNED_REPLY_SORTS: dict[str, tuple[str, bool]] = {
    "-used": ("use_count", True),
    "title": ("title", False),
    "-title": ("title", True),
    "-updated": ("updated_at", True),
}
# The picker on a ticket lists this many, most used first; the list page has them all.
PICKER_SIZE = 100


@dataclass(frozen=True)
class CannedReplyFilters:
    search: str = ""  # title or either text


def canned_reply_list(*, scope: Scope, filters: CannedReplyFilters | None = None) -> QuerySet[CannedReply]:
    """The partner's canned replies (none for a customer scope), searched by title and texts."""
    filters = filters or CannedReplyFilters()
    qs = CannedReply.objects.for_scope(scope)
    if filters.search:
        term = filters.search
        qs = qs.filter(Q(title__icontains=term) | Q(body_en__icontains=term) | Q(body_ru__icontains=term))
    return qs


def canned_reply_get(*, scope: Scope, pk: int | str) -> CannedReply:
    """One of the partner's canned replies; another partner's (or none) is a 404."""
    return get_scoped_or_404(CannedReply.objects.all(), scope, pk=pk)


def canned_reply_find(*, scope: Scope, pk: object) -> CannedReply | None:
    """The canned reply a sent form names, or None when the id is not one of the partner's (deleted since,
    or forged): the message is sent all the same, and counts for no canned reply."""
    if not str(pk or "").isdigit():
        return None
    return CannedReply.objects.for_scope(scope).filter(pk=int(str(pk))).first()


def canned_reply_picker(*, scope: Scope, limit: int = PICKER_SIZE) -> list[CannedReply]:
    """Titles for the picker on a ticket: most used first, then most recently used, then by title."""
    qs = CannedReply.objects.for_scope(scope).only("pk", "title", "use_count")
    return list(qs.order_by("-use_count", F("last_used_at").desc(nulls_last=True), "title", "pk")[:limit])
