"""The client against Storecove's documented examples, answered verbatim by the stand-in."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from billing.peppol.models import AccessPointAccount, EInvoiceSubmission
from billing.peppol.services import webhooks_pull_all
from billing.peppol.services.accounts import webhook_secret
from billing.peppol.storecove import (
    LegalEntityInput,
    StorecoveAlreadySubmitted,
    StorecoveClient,
    StorecoveRefused,
    StorecoveUnauthorized,
    StorecoveUnavailable,
)
from tests.billing.peppol.conftest import API_KEY as ACCOUNT_KEY
from tests.factories.billing import issued

pytestmark = pytest.mark.django_db
KEY = "API_KEY_HERE"


@pytest.fixture
def client(storecove):
    storecove.keys.add(KEY)
    with StorecoveClient(api_key=KEY) as c:
        yield c


def test_discovery_sends_the_documented_request_and_reads_the_documented_answer(storecove, client) -> None:
    # https://www.storecove.com/docs/, "Getting Started" / "Make your first API call": discovery.json and
    # the answer "Since Storecove can receive invoices on the (TEST) Peppol ... the response is".
    storecove.scripted[("POST", "/discovery/receives")] = (200, {"code": "OK", "email": False})
    assert client.receives(scheme="nl:kvk", identifier="60881119") is True
    method, path, body = storecove.requests[-1]
    assert (method, path) == ("POST", "/discovery/receives")
    assert body == {"documentTypes": ["invoice"], "network": "peppol", "metaScheme": "iso6523-actorid-upis",
                    "scheme": "nl:kvk", "identifier": "60881119"}  # fmt: skip
    storecove.scripted[("POST", "/discovery/receives")] = (200, {"code": "NOK", "email": False})
    assert client.receives(scheme="nl:kvk", identifier="60881119") is False


def test_a_422_error_model_array_becomes_the_reason(storecove, client) -> None:
    # OpenAPI: every 422 is "Unprocessable Entity", an array of ErrorModel {source, details}.
    storecove.scripted[("POST", "/legal_entities")] = (422, [{"source": "zip", "details": "is too short"}])
    with pytest.raises(StorecoveRefused) as caught:
        client.legal_entity_create(LegalEntityInput(party_name="Acme", line1="Street 1", city="Gent", zip="9",
                                                    country="BE"))  # fmt: skip
    assert caught.value.reason == "zip: is too short"


def test_a_used_idempotency_guid_is_told_apart(storecove, client) -> None:
    # OpenAPI, DocumentSubmission.idempotencyGuid: later submissions with the guid trigger a 422.
    storecove.scripted[("POST", "/document_submissions")] = (
        422, [{"source": "idempotencyGuid", "details": "has already been used"}]
    )  # fmt: skip
    with pytest.raises(StorecoveAlreadySubmitted):
        client.document_submit(legal_entity_id=1, scheme="BE:EN", identifier="0202239951", ubl=b"<Invoice/>",
                               idempotency_guid="3f1c9a4e-8b2d-4e6f-9a1b-2c3d4e5f6a7b")  # fmt: skip


def test_legal_entity_identifier_submission_and_pull_webhooks(storecove, client) -> None:
    entity = client.legal_entity_create(
        LegalEntityInput(party_name="Acme BV", line1="Street 1", city="Gent", zip="9000", country="BE")
    )
    assert isinstance(entity["id"], int)
    assert entity["party_name"] == "Acme BV"
    identifier = client.peppol_identifier_create(legal_entity_id=entity["id"], scheme="BE:EN", identifier="0403170701")
    assert identifier == {"superscheme": "iso6523-actorid-upis", "scheme": "BE:EN", "identifier": "0403170701"}
    guid = client.document_submit(legal_entity_id=entity["id"], scheme="BE:EN", identifier="0202239951",
                                  ubl=b"<Invoice/>", idempotency_guid="3f1c9a4e-8b2d-4e6f-9a1b-2c3d4e5f6a7b")  # fmt: skip
    sent = storecove.submissions[guid]
    assert sent["document"]["documentType"] == "invoice"
    assert sent["document"]["rawDocumentData"] == {
        "document": "PEludm9pY2UvPg==",
        "parse": True,
        "parseStrategy": "ubl",
    }
    assert sent["routing"] == {"eIdentifiers": [{"scheme": "BE:EN", "id": "0202239951"}], "emails": []}
    # Pull mode: GET /webhook_instances/ gives the oldest, 204 when empty; DELETE once processed.
    assert client.webhook_instance_next() is None
    queued = storecove.queue(storecove.webhook(guid, "succeeded"))
    instance = client.webhook_instance_next()
    assert instance is not None
    assert instance.guid == queued
    assert json.loads(instance.body) == {"tenant_id": "", "guid": guid, "event_type": "document_submission",
                                         "event": "succeeded"}  # fmt: skip
    client.webhook_instance_delete(instance.guid)
    assert client.webhook_instance_next() is None


def test_errors_are_typed(storecove, client) -> None:
    with StorecoveClient(api_key="wrong") as other, pytest.raises(StorecoveUnauthorized):
        other.receives(scheme="BE:EN", identifier="0202239951")
    storecove.scripted[("POST", "/discovery/receives")] = (429, {"message": "Too Many Requests"})
    with pytest.raises(StorecoveUnavailable):
        client.receives(scheme="BE:EN", identifier="0202239951")
    storecove.scripted[("POST", "/discovery/receives")] = (502, None)
    with pytest.raises(StorecoveUnavailable):
        client.receives(scheme="BE:EN", identifier="0202239951")


# --- webhooks: the shapes Storecove's OpenAPI document fixes -----------------------------------------
# "Storecove API" 2.0.1 (https://www.storecove.com/api/v2/openapi.json; the copy kept in
# github.com/pondersource/storecove-client, openapi.json): WebhookInstance is
#   {"guid": <uuid> "The GUID of the WebhookInstance. Use this to delete it.",
#    "body": <string> "The webhook body that would have been pushed if this were a push-mode webhook."}
# GET /webhook_instances/ answers one (200) or 204 "the queue is empty"; DELETE /webhook_instances/{guid} 204.
# LegalEntity.tenant_id: "This property will included in webhook events."
INSTANCE_GUID = "6c2b7c54-0d5e-4a8e-9a57-8f1f0b3e2c11"


def _event_text(tenant_id: str, guid: str, event: str) -> str:
    return json.dumps({"tenant_id": tenant_id, "guid": guid, "event_type": "document_submission", "event": event})


def _sent(connected, capture) -> EInvoiceSubmission:
    with capture(execute=True):
        invoice = issued(connected.customer)
    sub = EInvoiceSubmission.objects.get(invoice=invoice)
    assert sub.status == EInvoiceSubmission.Status.SENT
    return sub


def test_a_webhook_instance_in_the_documented_shape_is_applied_then_deleted(
    connected, storecove, django_capture_on_commit_callbacks
) -> None:
    sub = _sent(connected, django_capture_on_commit_callbacks)
    storecove.instances.append(
        {"guid": INSTANCE_GUID, "body": _event_text(connected.partner.slug, sub.provider_guid, "succeeded")}
    )
    assert webhooks_pull_all() == 1
    sub.refresh_from_db()
    assert sub.status == EInvoiceSubmission.Status.DELIVERED
    assert storecove.deleted_instances == [INSTANCE_GUID]
    assert not storecove.instances


def test_the_pushed_body_is_the_instance_body_text(connected, storecove, django_capture_on_commit_callbacks) -> None:
    sub = _sent(connected, django_capture_on_commit_callbacks)
    account = AccessPointAccount.objects.get(partner=connected.partner)
    url = reverse("storecove_webhook", kwargs={"partner": connected.partner.slug, "token": webhook_secret(account)})
    text = _event_text(connected.partner.slug, sub.provider_guid, "succeeded")
    assert Client().post(url, text, content_type="application/json").status_code == 200
    sub.refresh_from_db()
    assert sub.status == EInvoiceSubmission.Status.DELIVERED
    # What the stand-in queues (and pushes) is that same event.
    storecove.queue(storecove.webhook(sub.provider_guid, "succeeded"))
    assert json.loads(storecove.instances[0]["body"]) == json.loads(text)


@pytest.mark.parametrize(
    "instance_body",
    [
        json.dumps({"guid": "x", "event_type": "document_submission", "event": "succeeded"}),  # no such guid
        json.dumps({"event_type": "received_document", "event": "received"}),
        json.dumps([{"event_type": "document_submission"}]),
        "not json",
        None,  # not a string: the OpenAPI's body is a string
    ],
)
def test_other_instances_change_nothing_and_are_deleted(
    connected, storecove, django_capture_on_commit_callbacks, instance_body
) -> None:
    sub = _sent(connected, django_capture_on_commit_callbacks)
    storecove.instances.append({"guid": INSTANCE_GUID, "body": instance_body})
    assert webhooks_pull_all() == 1
    sub.refresh_from_db()
    assert sub.status == EInvoiceSubmission.Status.SENT
    assert storecove.deleted_instances == [INSTANCE_GUID]


# --- evidence: OpenAPI operation show_document_submission_evidence ------------------------------------
# GET /document_submissions/{guid}/evidence/{evidence_type} ("sending" | "clearing") answers a
# DocumentSubmissionEvidence: guid, sender, receiver, network, documents [{document (URL), expires_at,
# mime_type}], evidence {receiving_accesspoint, message_id, transmission_id, xml, ...} (field names as in
# the OpenAPI-generated client github.com/deegitalbe/laravel-trustup-io-storecove, src/Model/DocumentSubmission*).


def test_evidence_is_read_once_delivered(connected, storecove, django_capture_on_commit_callbacks) -> None:
    sub = _sent(connected, django_capture_on_commit_callbacks)
    with StorecoveClient(api_key=ACCOUNT_KEY) as c:
        with pytest.raises(StorecoveRefused) as caught:
            c.document_evidence(sub.provider_guid)
        assert caught.value.status == 404
        storecove.deliver(sub.provider_guid)
        evidence = c.document_evidence(sub.provider_guid)
    assert storecove.requests[-1][:2] == ("GET", f"/document_submissions/{sub.provider_guid}/evidence/sending")
    assert evidence["guid"] == sub.provider_guid
    assert evidence["network"] == "peppol"
    assert evidence["receiver"] == "BE:EN:0202239951"
    assert set(evidence["evidence"]) >= {"receiving_accesspoint", "message_id", "xml"}
