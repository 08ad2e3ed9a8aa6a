"""Peppol sending in `manage.py seed_demo`: the Belgian demo partner (Woodgrove) has a Storecove account
and a customer taking e-invoices over Peppol, with submissions in the states staff meet - one delivered,
one rejected by the receiver with its reason, one waiting to retry after Storecove was unavailable.

The account is a demo account, paused: nothing is ever sent to Storecove (every call is refused before
the network, `services.accounts.account_client`), and documents issued in the demo wait in the queue."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.conf import settings

from billing.invoicing.models import CreditNote, Invoice
from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from billing.peppol.schemes import storecove_scheme
from partner_portal import clock
from partner_portal.demo import DemoCore
from partner_portal.models import EinvoiceFormat
from subscriptions.secrets import secret_encrypt

PARTNER = "woodgrove"
CUSTOMER = "janssens.example"
REJECTION = (
    "document: The receiver's access point refused the invoice: buyer reference PO-4711 is closed; "
    "use the purchase order of the current period."
)
Status = EInvoiceSubmission.Status


def seed_demo(core: DemoCore) -> None:
    partner = core.partners.get(PARTNER)
    customer = core.customers.get(CUSTOMER)
    if partner is None or customer is None or AccessPointAccount.objects.filter(partner=partner).exists():
        return
    now = clock.now()
    AccessPointAccount.objects.create(
        partner=partner, demo=True, status=AccessPointAccount.Status.PAUSED, legal_entity_id=104_233,
        api_key_encrypted=secret_encrypt("demo-" + secrets.token_hex(8)), key_hint="demo",
        webhook_secret_encrypted=secret_encrypt(secrets.token_urlsafe(32)),
        peppol_scheme=storecove_scheme(partner.peppol_scheme), peppol_id=partner.peppol_id, updated_at=now,
    )  # fmt: skip
    if customer.einvoice_format != EinvoiceFormat.PEPPOL:
        customer.einvoice_format = EinvoiceFormat.PEPPOL
        customer.save(update_fields=["einvoice_format"])
    invoices = list(Invoice.objects.filter(partner=partner, customer=customer).order_by("issue_date", "pk"))
    note = CreditNote.objects.filter(partner=partner, customer=customer).order_by("pk").first()
    if len(invoices) < 2 or note is None:
        return
    scheme = storecove_scheme(customer.peppol_scheme)

    def submission(document: Invoice | CreditNote, kind: str, at: dt.datetime, **fields: object) -> EInvoiceSubmission:
        fields.setdefault("updated_at", at)
        return EInvoiceSubmission.objects.create(
            partner=partner, customer=customer, kind=kind, number=document.number, provider="storecove",
            receiver_scheme=scheme, receiver_id=customer.peppol_id, created_at=at,
            **{kind: document}, **fields,
        )  # fmt: skip

    def history(sub: EInvoiceSubmission, *steps: tuple[dt.datetime, str, str]) -> None:
        SubmissionEvent.objects.bulk_create(
            SubmissionEvent(partner=partner, submission=sub, at=at, status=status, detail=detail)
            for at, status, detail in steps
        )

    first = now - dt.timedelta(days=12)
    delivered = submission(
        invoices[0], "invoice", first, status=Status.DELIVERED, attempts=1, provider_guid=str(uuid.uuid4()),
        sent_at=first + dt.timedelta(seconds=4), delivered_at=first + dt.timedelta(minutes=3),
        updated_at=first + dt.timedelta(minutes=3),
    )  # fmt: skip
    history(
        delivered,
        (first, Status.QUEUED, ""),
        (first + dt.timedelta(seconds=4), Status.SENT, delivered.provider_guid),
        (first + dt.timedelta(minutes=3), Status.DELIVERED, "Delivered to the receiver's access point."),
    )
    second = now - dt.timedelta(days=5)
    rejected = submission(
        invoices[1], "invoice", second, status=Status.REJECTED, attempts=1, provider_guid=str(uuid.uuid4()),
        sent_at=second + dt.timedelta(seconds=3), rejection_reason=REJECTION, updated_at=second + dt.timedelta(hours=2),
    )  # fmt: skip
    history(
        rejected,
        (second, Status.QUEUED, ""),
        (second + dt.timedelta(seconds=3), Status.SENT, rejected.provider_guid),
        (second + dt.timedelta(hours=2), Status.REJECTED, REJECTION),
    )
    third = now - dt.timedelta(minutes=25)
    error = "Storecove answered 503"
    waiting = submission(
        note, "credit_note", third, status=Status.RETRYING, attempts=2, last_error=error,
        next_attempt_at=now + dt.timedelta(seconds=settings.PEPPOL_RETRY_BASE_SECONDS * 2) + dt.timedelta(hours=1),
        updated_at=third + dt.timedelta(minutes=1),
    )  # fmt: skip
    history(
        waiting,
        (third, Status.QUEUED, ""),
        (third + dt.timedelta(seconds=2), Status.RETRYING, error),
        (third + dt.timedelta(minutes=1), Status.RETRYING, error),
    )
