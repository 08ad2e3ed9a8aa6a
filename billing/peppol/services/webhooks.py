"""Storecove's webhooks: the delivery status of a submission, pushed to the partner's address or pulled
from Storecove's queue (GET /webhook_instances/, then DELETE once processed).

What Storecove's OpenAPI document ("Storecove API" 2.0.1, https://www.storecove.com/api/v2/openapi.json)
fixes: in pull mode each WebhookInstance is `{"guid": <uuid, "Use this to delete it">, "body": <string>}`,
and `body` is "the webhook body that would have been pushed if this were a push-mode webhook" - so a
pushed webhook's request body and a pulled instance's `body` string are the same JSON text, read by the
same parser. LegalEntity.tenant_id "will be included in webhook events" (the portal sets it to the
partner's slug). The event itself, for a document sent:

    {"tenant_id": "<partner slug>", "guid": "<the submission's guid>", "event_type": "document_submission",
     "event": "succeeded" | "failed", "details": [...]}

The OpenAPI document does not define the event's own fields. The submission's guid is read from `guid`
(where public integrations with Storecove read it) or from `document_guid`, and only ever matched against
the partner's own submissions' guids, so neither reading can touch another document.

Storecove's OpenAPI defines no authentication for webhooks it sends: a push is accepted only at the
partner's address with its secret token in the path (compared in constant time).
Each event is stored once (the SHA-256 of its body, unique per partner): a replay changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.peppol.errors import WebhookRefused
from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from billing.peppol.services.accounts import account_client, webhook_secret
from billing.peppol.storecove import StorecoveError
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner

Status = EInvoiceSubmission.Status


def _details(value: Any) -> str:
    """Storecove's details as staff read them, one a line."""
    if value in (None, "", []):
        return ""
    items = value if isinstance(value, list) else [value]
    lines = []
    for item in items:
        if isinstance(item, dict):
            text = item.get("details") or item.get("message") or item.get("description") or json.dumps(item)
            source = item.get("source") or item.get("code") or ""
            lines.append(f"{source}: {text}" if source else str(text))
        else:
            lines.append(str(item))
    return "\n".join(lines)


def webhook_apply(*, partner_id: int, body: bytes) -> str:
    """Apply one event's body to its submission. Returns what was done ("delivered", "rejected",
    "replay", "ignored: ...")."""
    try:
        data = json.loads(body)
    except ValueError:
        return "ignored: not JSON"
    if not isinstance(data, dict) or data.get("event_type") != "document_submission":
        return "ignored: not a document submission event"
    event = data.get("event")
    if event not in ("succeeded", "failed"):
        return f"ignored: event {event}"
    guids = [g for g in (data.get("guid"), data.get("document_guid")) if isinstance(g, str) and g]
    if not guids:
        return "ignored: no submission guid"
    key = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        sub = (
            EInvoiceSubmission.objects.select_for_update(of=("self",))
            .select_related("partner", "customer")
            .filter(partner_id=partner_id, provider_guid__in=guids)
            .exclude(provider_guid="")
            .first()
        )
        if sub is None:
            return "ignored: no submission with this guid"
        if SubmissionEvent.objects.filter(partner_id=partner_id, event_key=key).exists():
            return "replay"
        now = clock.now()
        if event == "succeeded":
            sub.status, sub.delivered_at = Status.DELIVERED, now
            detail = _("Delivered to the receiver's access point.")
        else:
            sub.status = Status.REJECTED
            sub.rejection_reason = _details(data.get("details")) or _("Storecove could not deliver the document.")
            detail = sub.rejection_reason
        sub.updated_at, sub.claimed_at = now, None
        sub.save()
        try:
            with transaction.atomic():
                SubmissionEvent.objects.create(
                    partner_id=partner_id, submission=sub, status=sub.status, detail=detail[:1000], event_key=key
                )
        except IntegrityError:
            transaction.set_rollback(True)
            return "replay"
        audit_record(partner=sub.partner, customer=sub.customer, actor=None, action=f"einvoice.{sub.status}",
                     target=sub, data={"number": sub.number, "guid": sub.provider_guid, "reason": sub.rejection_reason[:500]})  # fmt: skip
    return str(sub.status)


def webhook_receive(*, partner_ref: str, token: str, body: bytes) -> str:
    """A pushed webhook at /webhooks/storecove/<partner>/<token>/: refused unless the token is the
    account's secret."""
    partners = (
        Partner.objects.filter(pk=int(partner_ref))
        if partner_ref.isdigit()
        else Partner.objects.filter(slug=partner_ref)
    )
    partner = partners.first()
    account = AccessPointAccount.objects.filter(partner=partner).first() if partner else None
    if account is None or not hmac.compare_digest(token.encode(), webhook_secret(account).encode()):
        raise WebhookRefused("no account for this address, or a wrong token")
    return webhook_apply(partner_id=account.partner_id, body=body)


def webhooks_pull(*, account: AccessPointAccount, limit: int = 100) -> int:
    """Read the account's queued webhooks from Storecove, apply each and delete it there. Returns how many."""
    done = 0
    try:
        with account_client(account) as client:
            while done < limit:
                instance = client.webhook_instance_next()
                if instance is None:
                    break
                webhook_apply(partner_id=account.partner_id, body=instance.body.encode())
                client.webhook_instance_delete(instance.guid)
                done += 1
    except StorecoveError:
        pass  # tried again by the next sweep
    return done


def webhooks_pull_all() -> int:
    accounts = AccessPointAccount.objects.filter(status=AccessPointAccount.Status.ACTIVE).order_by("pk")
    return sum(webhooks_pull(account=account) for account in accounts)
