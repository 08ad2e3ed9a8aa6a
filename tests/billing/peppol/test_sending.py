"""Sending issued documents over Peppol through the Storecove stand-in: registration, sending on issue,
never twice, retries with backoff, rejections shown to staff, webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.invoicing.services import credit_note_issue
from billing.peppol.errors import AccessPointNotReady
from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from billing.peppol.services import (
    access_point_connect,
    backoff,
    submission_retry_now,
    submission_send,
    submissions_retry_due,
    webhook_apply,
    webhooks_pull_all,
)
from billing.peppol.services.accounts import webhook_secret
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.billing.peppol.conftest import API_KEY, registrable
from tests.factories.billing import issued

pytestmark = pytest.mark.django_db
Status = EInvoiceSubmission.Status


def _issue(tenant, capture):
    with capture(execute=True):
        invoice = issued(tenant.customer)
    return invoice, EInvoiceSubmission.objects.get(invoice=invoice)


def test_connecting_registers_the_partner_and_keeps_the_key_encrypted(tenant, storecove) -> None:
    storecove.keys.add(API_KEY)
    with pytest.raises(AccessPointNotReady, match="street, city"):
        access_point_connect(partner=tenant.partner, actor=tenant.admin, api_key=API_KEY)
    registrable(tenant.partner)
    account = access_point_connect(partner=tenant.partner, actor=tenant.admin, api_key=API_KEY)
    assert account.status == AccessPointAccount.Status.ACTIVE
    entity = storecove.legal_entities[account.legal_entity_id]
    assert (entity["party_name"], entity["line1"], entity["zip"], entity["country"]) == (
        tenant.partner.name, "Rue Royale 1", "1000", "BE")  # fmt: skip
    assert entity["peppol_identifiers"] == [{"superscheme": "iso6523-actorid-upis", "scheme": "BE:EN",
                                             "identifier": "0403170701"}]  # fmt: skip
    assert API_KEY not in account.api_key_encrypted
    assert account.key_hint == "0001"
    event = AuditEvent.objects.filter(action="peppol.account_set").get()
    assert API_KEY not in json.dumps(event.data)
    # Connecting again registers nothing twice.
    access_point_connect(partner=tenant.partner, actor=tenant.admin)
    assert len(storecove.legal_entities) == 1
    assert len(entity["peppol_identifiers"]) == 1


def test_a_refused_key_is_kept_on_the_account(tenant, storecove) -> None:
    registrable(tenant.partner)
    with pytest.raises(AccessPointNotReady, match="Storecove refused"):
        access_point_connect(partner=tenant.partner, actor=tenant.admin, api_key="not-a-key")
    account = AccessPointAccount.objects.get(partner=tenant.partner)
    assert account.status == AccessPointAccount.Status.ERROR
    assert account.last_error


def test_an_issued_invoice_goes_to_the_customers_peppol_identifier(
    connected, storecove, django_capture_on_commit_callbacks
) -> None:
    invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.SENT
    assert sub.attempts == 1
    assert sub.provider_guid in storecove.submissions
    body = storecove.submissions[sub.provider_guid]
    assert body["routing"]["eIdentifiers"] == [{"scheme": "BE:EN", "id": "0202239951"}]
    assert body["idempotencyGuid"] == str(sub.idempotency_guid)
    assert invoice.number.encode() in base64.b64decode(body["document"]["rawDocumentData"]["document"])


def test_a_credit_note_is_sent_too(connected, storecove, client_for, django_capture_on_commit_callbacks) -> None:
    invoice, _sub = _issue(connected, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(invoice=invoice, actor=None, amount=Decimal("10.00"), reason="Goodwill")
    sub = EInvoiceSubmission.objects.get(credit_note=note)
    assert sub.status == Status.SENT
    assert sub.kind == "credit_note"
    assert len(storecove.submissions) == 2
    page = client_for(connected.finance).get(reverse("credit_note_detail", args=[note.pk])).content.decode()
    assert 'data-peppol-status="sent"' in page


def test_nothing_is_sent_by_default(tenant, storecove, django_capture_on_commit_callbacks) -> None:
    """No active access point, or a customer not on Peppol: no row, no call."""
    from tests.billing.peppol.conftest import peppol_customer

    peppol_customer(tenant.customer)
    with django_capture_on_commit_callbacks(execute=True):
        issued(tenant.customer)
        issued(tenant.other_customer)
    assert not EInvoiceSubmission.objects.exists()
    assert not storecove.requests


def test_a_lost_answer_never_sends_the_document_twice(connected, storecove, django_capture_on_commit_callbacks) -> None:
    storecove.slow_after_accept = 1  # Storecove takes it, the answer comes after the client's time-out
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.RETRYING
    assert len(storecove.submissions) == 1
    assert sub.next_attempt_at == sub.updated_at + backoff(1)
    with clock.frozen(sub.next_attempt_at + dt.timedelta(seconds=1)):
        assert submissions_retry_due() == 1
    sub.refresh_from_db()
    assert sub.status == Status.SENT
    assert sub.attempts == 2
    assert len(storecove.submissions) == 1  # the second attempt carried the same guid: refused as taken
    assert "already" in sub.events.last().detail


def test_transient_failures_back_off_then_fail(
    connected, storecove, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PEPPOL_MAX_ATTEMPTS = 3
    storecove.unavailable = 5
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.RETRYING
    assert "503" in sub.last_error
    first = sub.next_attempt_at
    # Not due yet: the sweep leaves it.
    assert submissions_retry_due() == 0
    with clock.frozen(first + dt.timedelta(seconds=1)):
        submissions_retry_due()
    sub.refresh_from_db()
    assert sub.attempts == 2
    assert sub.next_attempt_at - sub.updated_at == backoff(2) == 2 * backoff(1)
    with clock.frozen(sub.next_attempt_at + dt.timedelta(seconds=1)):
        submissions_retry_due()
    sub.refresh_from_db()
    assert sub.status == Status.FAILED
    assert sub.attempts == 3
    assert not storecove.submissions


def test_a_claimed_document_is_not_sent_by_a_second_worker(
    connected, storecove, django_capture_on_commit_callbacks
) -> None:
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert submission_send(submission_id=sub.pk).status == Status.SENT
    assert len(storecove.submissions) == 1


def test_a_rejection_is_shown_with_its_reason_and_sent_again(
    connected, storecove, client_for, django_capture_on_commit_callbacks
) -> None:
    storecove.refuse[("BE:EN", "0202239951")] = [{"source": "routing", "details": "Receiver not found on Peppol"}]
    invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.REJECTED
    assert sub.rejection_reason == "routing: Receiver not found on Peppol"
    finance = client_for(connected.finance)
    page = finance.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert 'data-peppol-status="rejected"' in page
    assert "Receiver not found on Peppol" in page
    detail = finance.get(reverse("einvoice_submission_detail", args=[sub.pk])).content.decode()
    assert "Receiver not found on Peppol" in detail
    assert "data-retry" in detail
    listing = finance.get(reverse("einvoice_submission_list"), {"status": "rejected"}).content.decode()
    assert invoice.number in listing
    assert "Receiver not found on Peppol" in listing
    # Staff fix the identifier and retry: a new guid, since Storecove took nothing.
    storecove.refuse.clear()
    old_guid = sub.idempotency_guid
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(reverse("einvoice_submission_retry", args=[sub.pk]))
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == Status.SENT
    assert sub.idempotency_guid != old_guid
    assert len(storecove.submissions) == 1
    assert AuditEvent.objects.filter(action="einvoice.retry_requested", actor=connected.finance).exists()


def test_a_failed_document_keeps_its_guid_when_sent_again(
    connected, storecove, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PEPPOL_MAX_ATTEMPTS = 1
    storecove.slow_after_accept = 1
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        submission_retry_now(submission=sub, actor=connected.finance)
    sub.refresh_from_db()
    assert sub.status == Status.SENT
    assert len(storecove.submissions) == 1


def test_webhooks_deliver_and_reject_once(connected, storecove, client, django_capture_on_commit_callbacks) -> None:
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    account = AccessPointAccount.objects.get(partner=connected.partner)
    url = reverse("storecove_webhook", kwargs={"partner": connected.partner.slug, "token": webhook_secret(account)})
    body = json.dumps(storecove.webhook(sub.provider_guid, "succeeded"))
    wrong = reverse("storecove_webhook", kwargs={"partner": connected.partner.slug, "token": "guess"})
    assert client.post(wrong, body, content_type="application/json").status_code == 403
    sub.refresh_from_db()
    assert sub.status == Status.SENT
    for _ in range(2):  # a replay changes nothing
        assert client.post(url, body, content_type="application/json").status_code == 200
    sub.refresh_from_db()
    assert sub.status == Status.DELIVERED
    assert sub.delivered_at is not None
    assert SubmissionEvent.objects.filter(submission=sub, status=Status.DELIVERED).count() == 1
    failed = storecove.webhook(
        sub.provider_guid, "failed", details=[{"source": "receiver", "details": "Unknown endpoint"}]
    )
    assert webhook_apply(partner_id=connected.partner.pk, body=json.dumps(failed).encode()) == "rejected"
    sub.refresh_from_db()
    assert sub.status == Status.REJECTED
    assert sub.rejection_reason == "receiver: Unknown endpoint"


def test_another_partners_webhook_finds_nothing(
    connected, other_tenant, storecove, django_capture_on_commit_callbacks
) -> None:
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    body = json.dumps(storecove.webhook(sub.provider_guid, "succeeded")).encode()
    assert webhook_apply(partner_id=other_tenant.partner.pk, body=body).startswith("ignored")
    sub.refresh_from_db()
    assert sub.status == Status.SENT


def test_pulled_webhooks_are_applied_and_deleted(
    connected, storecove, settings, django_capture_on_commit_callbacks
) -> None:
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    guid = storecove.queue(storecove.webhook(sub.provider_guid, "succeeded"))
    assert webhooks_pull_all() == 1
    sub.refresh_from_db()
    assert sub.status == Status.DELIVERED
    assert storecove.deleted_instances == [guid]
    assert not storecove.instances


def test_a_paused_account_keeps_documents_waiting(connected, storecove, django_capture_on_commit_callbacks) -> None:
    from billing.peppol.services import access_point_pause

    access_point_pause(partner=connected.partner, actor=connected.admin, paused=True)
    _invoice, sub = _issue(connected, django_capture_on_commit_callbacks)
    assert sub.status == Status.RETRYING
    assert sub.attempts == 0  # waiting is no attempt
    assert not storecove.submissions
    access_point_pause(partner=connected.partner, actor=connected.admin, paused=False)
    with clock.frozen(sub.next_attempt_at + dt.timedelta(seconds=1)):
        submissions_retry_due()
    sub.refresh_from_db()
    assert sub.status == Status.SENT
    assert sub.attempts == 1
    assert len(storecove.submissions) == 1
