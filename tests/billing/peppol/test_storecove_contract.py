"""The client against Storecove's documented examples, answered verbatim by the stand-in."""

from __future__ import annotations

import pytest

from billing.peppol.storecove import (
    LegalEntityInput,
    StorecoveAlreadySubmitted,
    StorecoveClient,
    StorecoveRefused,
    StorecoveUnauthorized,
    StorecoveUnavailable,
)

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
    assert f'"document_guid": "{guid}"' in instance.body
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
