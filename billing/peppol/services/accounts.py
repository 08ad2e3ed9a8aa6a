"""The partner's access-point account: connected by partner admins, the API key encrypted, the partner
registered at Storecove as a legal entity with its Peppol identifier."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from billing.peppol.errors import AccessPointAccountInvalid, AccessPointNotReady
from billing.peppol.models import AccessPointAccount
from billing.peppol.schemes import storecove_scheme
from billing.peppol.storecove import LegalEntityInput, StorecoveClient, StorecoveError, StorecoveUnavailable
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from subscriptions.secrets import secret_decrypt, secret_encrypt


def _registration_gaps(partner: Partner) -> list[str]:
    """What Storecove's LegalEntity needs (party_name, line1, city, zip, country) and the Peppol
    identifier to register, as field names the settings page names."""
    wanted = {"street": partner.street, "city": partner.city, "post_code": partner.post_code,
              "country": partner.country, "peppol_id": partner.peppol_id}  # fmt: skip
    return [name for name, value in wanted.items() if not (value or "").strip()]


def account_client(account: AccessPointAccount) -> StorecoveClient:
    """The account's client; a demo account has none (every call is refused before the network)."""
    if account.demo:
        raise StorecoveUnavailable(_("This is a demo account: nothing is sent to Storecove."))
    return StorecoveClient(api_key=secret_decrypt(account.api_key_encrypted))


def webhook_secret(account: AccessPointAccount) -> str:
    return secret_decrypt(account.webhook_secret_encrypted)


@transaction.atomic
def _account_save(*, partner: Partner, actor: User | None, api_key: str) -> AccessPointAccount:
    account = AccessPointAccount.objects.select_for_update().filter(partner=partner).first()
    if account is None:
        if not api_key:
            raise AccessPointAccountInvalid(
                _("Enter the API key of your Storecove account."), fields={"api_key": [_("Enter the API key.")]}
            )
        account = AccessPointAccount(
            partner=partner, webhook_secret_encrypted=secret_encrypt(secrets.token_urlsafe(32))
        )
    if api_key:
        account.api_key_encrypted, account.key_hint = secret_encrypt(api_key), api_key[-4:]
    account.updated_at, account.updated_by = clock.now(), actor
    account.save()
    audit_record(partner=partner, actor=actor, action="peppol.account_set", target=account,
                 data={"provider": account.provider, "api_key_changed": bool(api_key)})  # fmt: skip
    return account


def access_point_connect(*, partner: Partner, actor: User | None, api_key: str = "") -> AccessPointAccount:
    """Store the key (an empty one keeps the stored key) and, unless done, register the partner at
    Storecove: a LegalEntity from the partner's name and address, then its Peppol identifier. The
    account is active once both exist. The calls go out after the key is committed; a refusal is kept
    on the account (`last_error`) and raised as `AccessPointNotReady` with Storecove's words."""
    api_key = api_key.strip()
    gaps = _registration_gaps(partner)
    if gaps:
        raise AccessPointNotReady(
            _("Fill in the partner's street, city, post code, country and Peppol identifier on the settings "
              "page first.")
        )  # fmt: skip
    account = _account_save(partner=partner, actor=actor, api_key=api_key)
    scheme = storecove_scheme(partner.peppol_scheme)
    try:
        with account_client(account) as client:
            if account.legal_entity_id is None:
                entity = client.legal_entity_create(
                    LegalEntityInput(party_name=partner.name, line1=partner.street, city=partner.city,
                                     zip=partner.post_code, country=partner.country, tenant_id=partner.slug)
                )  # fmt: skip
                AccessPointAccount.objects.filter(pk=account.pk).update(legal_entity_id=int(entity["id"]))
                account.legal_entity_id = int(entity["id"])
            if (account.peppol_scheme, account.peppol_id) != (scheme, partner.peppol_id):
                client.peppol_identifier_create(
                    legal_entity_id=account.legal_entity_id, scheme=scheme, identifier=partner.peppol_id
                )
    except StorecoveError as exc:
        AccessPointAccount.objects.filter(pk=account.pk).update(
            status=AccessPointAccount.Status.ERROR, last_error=exc.reason[:1000], updated_at=clock.now()
        )
        raise AccessPointNotReady(_("Storecove refused the registration: %(reason)s") % {"reason": exc.reason}) from exc
    with transaction.atomic():
        AccessPointAccount.objects.filter(pk=account.pk).update(
            peppol_scheme=scheme, peppol_id=partner.peppol_id, status=AccessPointAccount.Status.ACTIVE,
            last_error="", updated_at=clock.now(),
        )  # fmt: skip
        account.refresh_from_db()
        audit_record(partner=partner, actor=actor, action="peppol.account_registered", target=account,
                     data={"legal_entity_id": account.legal_entity_id, "scheme": scheme,
                           "identifier": partner.peppol_id})  # fmt: skip
    return account


@transaction.atomic
def access_point_pause(*, partner: Partner, actor: User | None, paused: bool) -> AccessPointAccount:
    """Stop (or start again) sending new documents; queued ones wait."""
    account = AccessPointAccount.objects.select_for_update().filter(partner=partner).first()
    if account is None:
        raise AccessPointNotReady(_("Connect the Storecove account first."))
    if paused:
        account.status = AccessPointAccount.Status.PAUSED
    elif account.status == AccessPointAccount.Status.PAUSED:
        account.status = (
            AccessPointAccount.Status.ACTIVE if account.legal_entity_id and account.peppol_id
            else AccessPointAccount.Status.PENDING
        )  # fmt: skip
    account.updated_at, account.updated_by = clock.now(), actor
    account.save(update_fields=["status", "updated_at", "updated_by"])
    audit_record(partner=partner, actor=actor, action="peppol.account_paused" if paused else "peppol.account_resumed",
                 target=account)  # fmt: skip
    return account


def receiver_check(*, partner: Partner, scheme: str, identifier: str) -> bool:
    """Whether Storecove finds the participant on Peppol (discovery), with the partner's key."""
    account = AccessPointAccount.objects.filter(partner=partner).first()
    if account is None:
        raise AccessPointNotReady(_("Connect the Storecove account first."))
    try:
        with account_client(account) as client:
            return client.receives(scheme=storecove_scheme(scheme), identifier=identifier)
    except StorecoveError as exc:
        raise AccessPointNotReady(
            _("Storecove could not check the receiver: %(reason)s") % {"reason": exc.reason}
        ) from exc
