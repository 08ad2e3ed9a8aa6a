from __future__ import annotations

import pytest
from django.apps import apps
from django.http import Http404

from partner_portal.models import AuditEvent, Customer, Membership
from partner_portal.tenancy import Scope, get_scoped_or_404, scope_for_user
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

# Models of the portal's apps that carry no partner key, and why.
UNSCOPED_MODELS = {
    "partner_portal.user": "a person; reaches a partner through Membership",
    "partner_portal.partner": "the tenant itself",
    "escalation.supporttier": "the catalogue of Microsoft support tiers, the same for every partner",
    "escalation.entitlementtype": "the catalogue of entitlement types that open those tiers, the same for every partner",
    "escalation.supportchannel": "where to file per tier, product family and cloud: catalogue, the same for every partner",
}


def test_every_portal_model_carries_the_partner_key() -> None:
    missing = []
    for app_label in ("partner_portal", "subscriptions", "billing", "tickets", "escalation"):
        for model in apps.get_app_config(app_label).get_models():
            label = model._meta.label_lower
            if label in UNSCOPED_MODELS:
                continue
            field_names = {f.name for f in model._meta.get_fields()}
            if "partner" not in field_names or not hasattr(model.objects, "for_scope"):
                missing.append(label)
    assert missing == []


def test_staff_scope_sees_only_its_partners_customers(tenant: Tenant, other_tenant: Tenant) -> None:
    scope = scope_for_user(tenant.agent)
    assert scope is not None
    assert scope.is_staff
    names = set(Customer.objects.for_scope(scope).values_list("name", flat=True))
    assert names == {"Alpha Customer One", "Alpha Customer Two"}


def test_customer_scope_sees_only_its_own_customer(tenant: Tenant) -> None:
    scope = scope_for_user(tenant.customer_member)
    assert scope is not None
    assert not scope.is_staff
    assert list(Customer.objects.for_scope(scope)) == [tenant.customer]
    assert set(Membership.objects.for_scope(scope).values_list("user__email", flat=True)) == {
        tenant.customer_admin.email,
        tenant.customer_member.email,
    }


def test_customer_scope_never_sees_partner_only_models(tenant: Tenant) -> None:
    AuditEvent.objects.create(
        partner=tenant.partner, customer=tenant.customer, action="x", target_type="t", target_id="1", target_repr="r"
    )
    assert AuditEvent.objects.for_scope(scope_for_user(tenant.customer_admin)).count() == 0
    assert AuditEvent.objects.for_scope(scope_for_user(tenant.admin)).count() == 1


def test_foreign_object_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    scope: Scope | None = scope_for_user(tenant.admin)
    assert scope is not None
    with pytest.raises(Http404):
        get_scoped_or_404(Customer.objects.all(), scope, pk=other_tenant.customer.pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Customer.objects.all(), scope_for_user(tenant.customer_admin), pk=tenant.other_customer.pk)
    assert get_scoped_or_404(Customer.objects.all(), scope, pk=tenant.customer.pk) == tenant.customer


def test_user_without_membership_has_no_scope(db: None) -> None:
    from tests.factories import UserFactory

    assert scope_for_user(UserFactory()) is None


def test_inactive_user_has_no_scope(tenant: Tenant) -> None:
    tenant.agent.is_active = False
    tenant.agent.save()
    assert scope_for_user(tenant.agent) is None
