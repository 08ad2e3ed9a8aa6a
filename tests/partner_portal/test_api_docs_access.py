"""/api/schema/ and /api/docs/: open when API_DOCS_PUBLIC, otherwise signed-in partner staff only."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

PAGES = ["/api/schema/", "/api/docs/"]


@override_settings(API_DOCS_PUBLIC=False)
@pytest.mark.parametrize("path", PAGES)
def test_when_not_public_anonymous_and_customer_users_are_refused(tenant: Tenant, client_for, path: str) -> None:
    assert Client().get(path).status_code in (401, 403)
    assert client_for(tenant.customer_admin).get(path).status_code == 403
    assert client_for(tenant.customer_member).get(path).status_code == 403


@override_settings(API_DOCS_PUBLIC=False)
@pytest.mark.parametrize("path", PAGES)
def test_when_not_public_signed_in_staff_of_any_partner_get_them(
    tenant: Tenant, other_tenant: Tenant, client_for, path: str
) -> None:
    assert client_for(tenant.agent).get(path).status_code == 200
    assert client_for(other_tenant.finance).get(path).status_code == 200


@override_settings(API_DOCS_PUBLIC=True)
@pytest.mark.parametrize("path", PAGES)
def test_when_public_anyone_gets_them(db: None, path: str) -> None:
    assert Client().get(path).status_code == 200
