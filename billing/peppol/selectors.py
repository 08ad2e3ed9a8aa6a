"""Reads of Peppol sending for the staff pages, always given a Scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from partner_portal.tenancy import Scope, get_scoped_or_404

# Sort keys the list offers: name -> (model field, descending).
SUBMISSION_SORTS: dict[str, tuple[str, bool]] = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "number": ("number", False),
    "-updated": ("updated_at", True),
}


@dataclass(frozen=True)
class SubmissionFilters:
    search: str = ""  # document number, customer name, receiver identifier, Storecove's guid
    status: str = ""
    kind: str = ""


def access_point_account(*, scope: Scope) -> AccessPointAccount | None:
    return AccessPointAccount.objects.for_scope(scope).first()


def submission_list(*, scope: Scope, filters: SubmissionFilters | None = None) -> QuerySet[EInvoiceSubmission]:
    filters = filters or SubmissionFilters()
    qs = EInvoiceSubmission.objects.for_scope(scope).select_related("customer")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.search:
        term = filters.search
        qs = qs.filter(
            Q(number__icontains=term) | Q(customer__name__icontains=term) | Q(receiver_id__icontains=term)
            | Q(provider_guid__icontains=term)
        )  # fmt: skip
    return qs


def submission_get(*, scope: Scope, pk: int | str) -> EInvoiceSubmission:
    return get_scoped_or_404(
        EInvoiceSubmission.objects.select_related("customer", "invoice", "credit_note"), scope, pk=pk
    )


def submission_events(*, submission: EInvoiceSubmission) -> QuerySet[SubmissionEvent]:
    return SubmissionEvent.objects.filter(submission=submission).select_related("actor").order_by("at", "pk")


def submission_for_document(scope: Scope, kind: str, document_id: int) -> Any:
    """The document's submission for its staff page, or None (not sent over Peppol, or a customer scope)."""
    if kind not in (EInvoiceSubmission.Kind.INVOICE, EInvoiceSubmission.Kind.CREDIT_NOTE):
        return None
    return EInvoiceSubmission.objects.for_scope(scope).filter(**{f"{kind}_id": document_id}).first()
