"""Submissions: one per issued document whose customer takes e-invoices over Peppol, sent after commit,
retried with backoff, never sent twice.

Never twice: the row is unique per document and a worker sends only after claiming it with a
conditional UPDATE; every attempt carries the row's `idempotency_guid`, so when an answer was lost after
Storecove took the document, the next attempt is answered 422 for that guid and the row becomes sent
without a second document. Only "retry now" of a rejected document (Storecove took nothing) gives it a
new guid.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from billing.einvoicing import ubl
from billing.invoicing.models import CreditNote, Invoice
from billing.peppol.errors import EvidenceUnavailable, SubmissionNotRetryable
from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from billing.peppol.schemes import storecove_scheme
from billing.peppol.services.accounts import account_client
from billing.peppol.storecove import StorecoveAlreadySubmitted, StorecoveError, StorecoveRefused, StorecoveUnauthorized
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, EinvoiceFormat, User

Status = EInvoiceSubmission.Status
# A claim older than this belongs to a worker that died; the sweep sends it again with the same guid.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# A queued row whose task was lost is picked up by the sweep after this long.
QUEUED_GRACE = dt.timedelta(minutes=2)


def _event(sub: EInvoiceSubmission, detail: str = "", *, actor: User | None = None, key: str = "") -> None:
    SubmissionEvent.objects.create(
        partner_id=sub.partner_id, submission=sub, status=sub.status, detail=detail[:1000], actor=actor, event_key=key
    )


def _receiver(customer: Customer) -> tuple[str, str]:
    return (storecove_scheme(customer.peppol_scheme) if customer.peppol_scheme else ""), customer.peppol_id


def _queue_after_commit(sub: EInvoiceSubmission) -> None:
    from billing.peppol.tasks import einvoice_submission_send_task

    transaction.on_commit(lambda: einvoice_submission_send_task.delay(submission_id=sub.pk))


def document_issued(*, kind: str, document: Invoice | CreditNote) -> None:
    """Invoicing's listener, inside the issuing transaction: queue the document for Peppol when the
    partner's access point is active (or paused) and the customer takes e-invoices over Peppol. Otherwise nothing
    is sent (the embedded default): the files are downloaded or go with the email. No query unless the
    customer takes Peppol."""
    customer = document.customer
    if customer.einvoice_format != EinvoiceFormat.PEPPOL:
        return
    # A paused account queues too: the documents wait until sending resumes.
    active = AccessPointAccount.objects.filter(
        partner_id=document.partner_id, status__in=[AccessPointAccount.Status.ACTIVE, AccessPointAccount.Status.PAUSED]
    ).values_list("provider", flat=True)
    provider = next(iter(active), None)
    if provider is None:
        return
    scheme, identifier = _receiver(customer)
    sub, created = EInvoiceSubmission.objects.get_or_create(
        **{kind: document},
        defaults={"partner_id": document.partner_id, "customer": customer, "kind": kind, "number": document.number,
                  "provider": provider, "receiver_scheme": scheme, "receiver_id": identifier},
    )  # fmt: skip
    if not created:
        return
    if not identifier:
        sub.status, sub.last_error = Status.FAILED, _("The customer has no Peppol identifier.")
        sub.save(update_fields=["status", "last_error"])
        _event(sub, sub.last_error)
        return
    _event(sub)
    _queue_after_commit(sub)


def _claim(submission_id: int, now: dt.datetime) -> bool:
    """Take the row for one attempt: only one worker's UPDATE matches."""
    due = Q(status__in=[Status.QUEUED, Status.RETRYING]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    with transaction.atomic():
        claimed = EInvoiceSubmission.objects.filter(due | stale, pk=submission_id).update(
            status=Status.SENDING, claimed_at=now, updated_at=now, next_attempt_at=None, attempts=F("attempts") + 1
        )
    return bool(claimed)


def _document_ubl(sub: EInvoiceSubmission) -> bytes:
    if sub.kind == EInvoiceSubmission.Kind.INVOICE:
        assert sub.invoice is not None  # noqa: S101 - the check constraint holds it
        return ubl.invoice_ubl(invoice=sub.invoice)
    assert sub.credit_note is not None  # noqa: S101
    return ubl.credit_note_ubl(credit_note=sub.credit_note)


def backoff(attempts: int) -> dt.timedelta:
    """The pause after attempt n: base × 2^(n−1), at most a day."""
    return min(
        dt.timedelta(seconds=settings.PEPPOL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)), dt.timedelta(days=1)
    )


def submission_send(*, submission_id: int) -> EInvoiceSubmission:
    """One attempt, outside any transaction: claim, call Storecove, write down the answer."""
    now = clock.now()
    if not _claim(submission_id, now):
        return EInvoiceSubmission.objects.get(pk=submission_id)
    sub = EInvoiceSubmission.objects.select_related("partner", "customer", "invoice", "credit_note").get(
        pk=submission_id
    )
    account = AccessPointAccount.objects.filter(partner_id=sub.partner_id).first()
    if account is None or account.status != AccessPointAccount.Status.ACTIVE or account.legal_entity_id is None:
        # Paused or not registered: the document waits, and the wait is no attempt.
        EInvoiceSubmission.objects.filter(pk=sub.pk).update(attempts=F("attempts") - 1)
        sub.attempts -= 1
        return _write(sub, Status.RETRYING, error=_("The access point account is not active."))
    try:
        with account_client(account) as client:
            guid = client.document_submit(
                legal_entity_id=account.legal_entity_id, scheme=sub.receiver_scheme, identifier=sub.receiver_id,
                ubl=_document_ubl(sub), idempotency_guid=str(sub.idempotency_guid),
            )  # fmt: skip
    except StorecoveAlreadySubmitted:
        return _write(
            sub, Status.SENT, detail=_("Storecove had taken this document already (an earlier answer was lost).")
        )
    except StorecoveUnauthorized as exc:
        return _write(sub, Status.FAILED, error=exc.reason)
    except StorecoveRefused as exc:
        return _write(sub, Status.REJECTED, reason=exc.reason)
    except StorecoveError as exc:
        if sub.attempts >= settings.PEPPOL_MAX_ATTEMPTS:
            return _write(sub, Status.FAILED, error=exc.reason)
        return _write(sub, Status.RETRYING, error=exc.reason)
    return _write(sub, Status.SENT, guid=guid)


@transaction.atomic
def _write(
    sub: EInvoiceSubmission, status: str, *, guid: str = "", error: str = "", reason: str = "", detail: str = ""
) -> EInvoiceSubmission:
    now = clock.now()
    sub = EInvoiceSubmission.objects.select_for_update().get(pk=sub.pk)
    if sub.status != Status.SENDING:  # a webhook got here first (it is the later truth)
        return sub
    sub.status, sub.updated_at, sub.claimed_at = status, now, None
    if guid:
        sub.provider_guid = guid
    if status == Status.SENT:
        sub.sent_at, sub.last_error = now, ""
    if status == Status.RETRYING:
        sub.next_attempt_at = now + backoff(sub.attempts)
    if error:
        sub.last_error = error[:1000]
    if reason:
        sub.rejection_reason = reason
    sub.save()
    _event(sub, detail or reason or error or guid)
    audit_record(partner=sub.partner, customer=sub.customer, actor=None, action=f"einvoice.{status}", target=sub,
                 data={"number": sub.number, "attempt": sub.attempts, "guid": sub.provider_guid,
                       "error": (reason or error)[:500]})  # fmt: skip
    return sub


def submissions_due(*, now: dt.datetime | None = None) -> list[int]:
    """Rows the sweep sends: waiting to retry and due, queued whose task was lost, and claims of dead workers."""
    now = now or clock.now()
    q = (
        Q(status=Status.RETRYING, next_attempt_at__lte=now)
        | Q(status=Status.QUEUED, created_at__lte=now - QUEUED_GRACE, next_attempt_at__isnull=True)
        | Q(status=Status.QUEUED, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )
    return list(EInvoiceSubmission.objects.filter(q).order_by("pk").values_list("pk", flat=True)[:500])


def submissions_retry_due() -> int:
    """The beat job's work: one attempt at each due row (each claimed first). Returns how many were tried."""
    ids = submissions_due()
    for pk in ids:
        submission_send(submission_id=pk)
    return len(ids)


@transaction.atomic
def submission_retry_now(*, submission: EInvoiceSubmission, actor: User | None) -> EInvoiceSubmission:
    """Staff send a failed or rejected document again, to the customer's Peppol identifier as it is now.
    A rejected document was not taken by Storecove, so it goes with a new guid; a failed one keeps its
    guid (Storecove may have taken an earlier attempt, and then answers it was taken)."""
    sub = EInvoiceSubmission.objects.select_for_update(of=("self",)).select_related("customer").get(pk=submission.pk)
    if not sub.can_retry:
        raise SubmissionNotRetryable(_("Only a failed or rejected document can be sent again."))
    sub.receiver_scheme, sub.receiver_id = _receiver(sub.customer)
    if not sub.receiver_id:
        raise SubmissionNotRetryable(_("The customer has no Peppol identifier: add it on the customer's page first."))
    if sub.status == Status.REJECTED:
        sub.idempotency_guid = uuid.uuid4()
    sub.status, sub.next_attempt_at, sub.attempts, sub.updated_at = Status.QUEUED, None, 0, clock.now()
    sub.save()
    _event(sub, _("Sent again by staff."), actor=actor)
    audit_record(partner=sub.partner, customer=sub.customer, actor=actor, action="einvoice.retry_requested",
                 target=sub, data={"number": sub.number})  # fmt: skip
    _queue_after_commit(sub)
    return sub


def submission_evidence(*, submission: EInvoiceSubmission, actor: User | None) -> bytes:
    """The delivery evidence of a delivered document as Storecove serves it (GET
    /document_submissions/{guid}/evidence/sending), as JSON bytes for staff to keep. Asked of Storecove each
    time: the evidence is Storecove's record, and the URLs in it expire."""
    if submission.status != Status.DELIVERED or not submission.provider_guid:
        raise EvidenceUnavailable(_("Only a delivered document has delivery evidence."))
    account = AccessPointAccount.objects.filter(partner_id=submission.partner_id).first()
    if account is None:
        raise EvidenceUnavailable(_("Connect the Storecove account first."))
    try:
        with account_client(account) as client:
            evidence = client.document_evidence(submission.provider_guid)
    except StorecoveError as exc:
        if exc.status == 404:
            raise EvidenceUnavailable(_("Storecove has no evidence for this document yet.")) from exc
        raise EvidenceUnavailable(
            _("Storecove could not give the evidence: %(reason)s") % {"reason": exc.reason}
        ) from exc
    audit_record(partner=submission.partner, customer=submission.customer, actor=actor,
                 action="einvoice.evidence_downloaded", target=submission,
                 data={"number": submission.number, "guid": submission.provider_guid})  # fmt: skip
    return json.dumps(evidence, indent=2, ensure_ascii=False).encode()
