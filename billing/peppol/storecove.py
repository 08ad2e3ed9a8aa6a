"""Storecove's REST API (https://www.storecove.com/docs/, OpenAPI "Storecove API" v2, base
https://api.storecove.com/api/v2): the calls Peppol sending needs, over httpx with explicit time-outs.

Authentication is `Authorization: Bearer <API key>` (docs, "Getting Started"). Failed calls become typed
errors: 5xx, 429, time-outs and connection failures are `StorecoveUnavailable` (worth trying again);
401/403 are `StorecoveUnauthorized`; a 422 carries an array of `{"source", "details"}` (the OpenAPI's
ErrorModel) and is `StorecoveRefused` with those errors, or `StorecoveAlreadySubmitted` when it names the
idempotencyGuid (a document already taken with that guid: "only the first one will be processed and any
subsequent ones will trigger an HTTP 422", OpenAPI, DocumentSubmission.idempotencyGuid).
"""

from __future__ import annotations

import base64
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from billing.peppol.schemes import PEPPOL_SUPERSCHEME


@dataclass(frozen=True)
class ErrorItem:
    source: str
    details: str


class StorecoveError(Exception):
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, errors: list[ErrorItem] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors: list[ErrorItem] = errors or []

    @property
    def reason(self) -> str:
        """The access point's words, one error a line ("source: details")."""
        if not self.errors:
            return str(self)
        return "\n".join(f"{e.source}: {e.details}" if e.source else e.details for e in self.errors)


class StorecoveUnavailable(StorecoveError):
    retryable = True


class StorecoveUnauthorized(StorecoveError):
    pass


class StorecoveRefused(StorecoveError):
    pass


class StorecoveAlreadySubmitted(StorecoveRefused):
    pass


@dataclass(frozen=True)
class LegalEntityInput:
    party_name: str
    line1: str
    city: str
    zip: str
    country: str
    tenant_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookInstance:
    guid: str
    body: str


def _errors(response: httpx.Response) -> list[ErrorItem]:
    try:
        data = response.json()
    except ValueError:
        return [ErrorItem("", response.text[:500])] if response.text else []
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    out = []
    for item in items:
        if isinstance(item, dict):
            details = item.get("details") or item.get("message") or json.dumps(item)
            out.append(ErrorItem(str(item.get("source") or ""), str(details)))
    return out


class StorecoveClient:
    """One partner's API key; `base_url`, time-out and CA bundle from settings unless given."""

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float | None = None) -> None:
        self._base = (base_url or settings.STORECOVE_API_URL).rstrip("/")
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout or settings.STORECOVE_TIMEOUT_SECONDS),
            verify=ssl.create_default_context(cafile=settings.STORECOVE_CA_BUNDLE)
            if settings.STORECOVE_CA_BUNDLE
            else True,
            trust_env=False,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> StorecoveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self._client.request(method, f"{self._base}{path}", json=body)
        except httpx.TimeoutException as exc:
            raise StorecoveUnavailable(f"Storecove did not answer in time ({method} {path})") from exc
        except httpx.TransportError as exc:
            raise StorecoveUnavailable(f"Storecove could not be reached ({exc.__class__.__name__})") from exc
        status = response.status_code
        if status >= 500 or status == 429:
            raise StorecoveUnavailable(f"Storecove answered {status}", status=status)
        if status in (401, 403):
            raise StorecoveUnauthorized(f"Storecove refused the API key ({status})", status=status)
        if status == 422:
            errors = _errors(response)
            kind = (
                StorecoveAlreadySubmitted
                if any(e.source.lower().replace("_", "") == "idempotencyguid" for e in errors)
                else StorecoveRefused
            )
            raise kind("Storecove refused the request", status=status, errors=errors)
        if status >= 400:
            raise StorecoveRefused(f"Storecove answered {status}", status=status, errors=_errors(response))
        return response

    # --- legal entities (OpenAPI: create_legal_entity, create_peppol_identifier) -------------------

    def legal_entity_create(self, entity: LegalEntityInput) -> dict[str, Any]:
        """POST /legal_entities: the LegalEntity with its Storecove `id`."""
        body: dict[str, Any] = {
            "party_name": entity.party_name[:64], "line1": entity.line1[:64], "city": entity.city[:64],
            "zip": entity.zip[:32], "country": entity.country, **entity.extra,
        }  # fmt: skip
        if entity.tenant_id:
            body["tenant_id"] = entity.tenant_id[:64]
        data: dict[str, Any] = self._call("POST", "/legal_entities", body).json()
        return data

    def peppol_identifier_create(self, *, legal_entity_id: int, scheme: str, identifier: str) -> dict[str, Any]:
        """POST /legal_entities/{id}/peppol_identifiers with the superscheme iso6523-actorid-upis."""
        body = {"superscheme": PEPPOL_SUPERSCHEME, "scheme": scheme, "identifier": identifier}
        data: dict[str, Any] = self._call("POST", f"/legal_entities/{legal_entity_id}/peppol_identifiers", body).json()
        return data

    # --- discovery (OpenAPI: discovery_receives) ---------------------------------------------------

    def receives(self, *, scheme: str, identifier: str, document_types: tuple[str, ...] = ("invoice",)) -> bool:
        """POST /discovery/receives: whether the participant receives these documents over Peppol."""
        body = {
            "documentTypes": list(document_types), "network": "peppol", "metaScheme": PEPPOL_SUPERSCHEME,
            "scheme": scheme, "identifier": identifier,
        }  # fmt: skip
        return bool(self._call("POST", "/discovery/receives", body).json().get("code") == "OK")

    # --- document submissions (OpenAPI: create_document_submission) --------------------------------

    def document_submit(
        self, *, legal_entity_id: int, scheme: str, identifier: str, ubl: bytes, idempotency_guid: str
    ) -> str:
        """POST /document_submissions with the UBL as rawDocumentData (base64, parsed as UBL by Storecove,
        as the OpenAPI's RawDocumentData says it must be) routed to the receiver's Peppol identifier.
        Returns the submission's guid."""
        body = {
            "legalEntityId": legal_entity_id,
            "idempotencyGuid": idempotency_guid,
            "routing": {"eIdentifiers": [{"scheme": scheme, "id": identifier}], "emails": []},
            "document": {
                "documentType": "invoice",
                "rawDocumentData": {
                    "document": base64.b64encode(ubl).decode("ascii"), "parse": True, "parseStrategy": "ubl",
                },
            },
        }  # fmt: skip
        guid = self._call("POST", "/document_submissions", body).json().get("guid")
        if not guid:
            raise StorecoveUnavailable("Storecove accepted the document but gave no guid")
        return str(guid)

    # --- evidence (OpenAPI: show_document_submission_evidence) ---------------------------------------

    def document_evidence(self, guid: str, evidence_type: str = "sending") -> dict[str, Any]:
        """GET /document_submissions/{guid}/evidence/{evidence_type}: the DocumentSubmissionEvidence (`guid`,
        `sender`, `receiver`, `network`, `documents`, `evidence`). A 404 (not delivered yet, or not found) is
        `StorecoveRefused` with status 404."""
        data = self._call("GET", f"/document_submissions/{guid}/evidence/{evidence_type}").json()
        if not isinstance(data, dict):
            raise StorecoveUnavailable("Storecove answered evidence that is not an object")
        return data

    # --- webhooks in pull mode (OpenAPI: get_webhook_instances, delete_webhook_instance) ------------

    def webhook_instance_next(self) -> WebhookInstance | None:
        """GET /webhook_instances/: the oldest queued webhook, or None (204: the queue is empty)."""
        response = self._call("GET", "/webhook_instances/")
        if response.status_code == 204 or not response.content:
            return None
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("guid"), str):
            raise StorecoveUnavailable("Storecove answered a webhook instance without its guid")
        body = data.get("body")
        # The body is the pushed webhook's JSON as a string; anything else is applied as nothing.
        return WebhookInstance(guid=data["guid"], body=body if isinstance(body, str) else "")

    def webhook_instance_delete(self, guid: str) -> None:
        """DELETE /webhook_instances/{guid}, once it has been processed."""
        self._call("DELETE", f"/webhook_instances/{guid}")
