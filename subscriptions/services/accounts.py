"""Partner Center credentials of a partner: set by partner admins, secret encrypted, never shown back."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from subscriptions.errors import SubscriptionError
from subscriptions.models import PartnerCenterAccount
from subscriptions.secrets import secret_encrypt


@transaction.atomic
def partner_center_account_set(
    *, partner: Partner, actor: User | None, aad_tenant_id: uuid.UUID, application_id: uuid.UUID, secret: str = ""
) -> PartnerCenterAccount:
    """Create or replace the partner's app registration. An empty `secret` keeps the stored one
    (a new account needs one). Audited without the secret."""
    account = PartnerCenterAccount.objects.select_for_update().filter(partner=partner).first()
    if account is None and not secret:
        raise SubscriptionError(_("Enter the application's client secret."))
    if account is None:
        account = PartnerCenterAccount(partner=partner)
    account.aad_tenant_id, account.application_id = aad_tenant_id, application_id
    if secret:
        account.secret_encrypted = secret_encrypt(secret)
    account.updated_at, account.updated_by = clock.now(), actor
    account.save()
    audit_record(
        partner=partner, actor=actor, action="partner_center.account_set", target=account,
        data={"aad_tenant_id": str(aad_tenant_id), "application_id": str(application_id), "secret_changed": bool(secret)},
    )  # fmt: skip
    return account
