from __future__ import annotations

import re

import pytest

from partner_portal.models import AuditEvent, Customer
from tests.conftest import Tenant
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {
    "name": "Trey Research",
    "tenant_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "domain": "treyresearch.example",
    "currency": "EUR",
    "language": "ru",
    "credit_days": 14,
}


def test_staff_list_only_their_partners_customers(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    response = api_for(tenant.agent).get("/api/v1/customers/")
    assert response.status_code == 200
    assert {c["name"] for c in response.json()["results"]} == {"Alpha Customer One", "Alpha Customer Two"}


def test_customer_user_sees_only_its_own_customer(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.customer_member)
    assert [c["id"] for c in client.get("/api/v1/customers/").json()["results"]] == [tenant.customer.pk]
    assert client.get(f"/api/v1/customers/{tenant.other_customer.pk}/").status_code == 404


def test_a_customer_user_does_not_read_the_partners_notes_or_collections_exceptions(tenant: Tenant, api_for) -> None:
    type(tenant.customer).objects.filter(pk=tenant.customer.pk).update(
        notes="Slow payer; CFO is difficult.", collections_extra_grace_days=10
    )
    url = f"/api/v1/customers/{tenant.customer.pk}/"
    own = api_for(tenant.customer_admin).get(url).json()
    assert own["name"] == tenant.customer.name
    assert not {"notes", "collections_exempt", "collections_extra_grace_days"} & set(own)
    assert "Slow payer" not in str(api_for(tenant.customer_admin).get("/api/v1/customers/").json())
    staff = api_for(tenant.finance).get(url).json()
    assert (staff["notes"], staff["collections_extra_grace_days"]) == ("Slow payer; CFO is difficult.", 10)


def test_foreign_customer_is_404(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    client = api_for(tenant.admin)
    assert client.get(f"/api/v1/customers/{other_tenant.customer.pk}/").status_code == 404
    response = client.patch(f"/api/v1/customers/{other_tenant.customer.pk}/", {"name": "Hijacked"})
    assert response.status_code == 404
    other_tenant.customer.refresh_from_db()
    assert other_tenant.customer.name == "Beta Customer One"


def test_finance_creates_a_customer_and_it_is_audited(tenant: Tenant, api_for) -> None:
    response = api_for(tenant.finance).post("/api/v1/customers/", NEW_CUSTOMER)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant_id"] == NEW_CUSTOMER["tenant_id"]
    assert body["credit_days"] == 14
    customer = Customer.objects.get(pk=body["id"])
    assert customer.partner == tenant.partner
    event = AuditEvent.objects.get(action="customer.created")
    assert (event.actor, event.customer) == (tenant.finance, customer)


def test_a_tenant_id_given_as_a_number_is_refused(tenant: Tenant, api_for) -> None:
    """The schema says a UUID string; DRF alone would turn 50151 into 00000000-...-00000000c3e7."""
    response = api_for(tenant.finance).post("/api/v1/customers/", {**NEW_CUSTOMER, "tenant_id": 50151}, format="json")
    assert response.status_code == 400
    assert "tenant_id" in response.json()["fields"]
    assert not Customer.objects.filter(name=NEW_CUSTOMER["name"]).exists()


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_roles_that_may_not_write_are_refused_and_nothing_changes(tenant: Tenant, api_for, role: str) -> None:
    client = api_for(getattr(tenant, role))
    assert client.post("/api/v1/customers/", NEW_CUSTOMER).status_code == 403
    assert client.patch(f"/api/v1/customers/{tenant.customer.pk}/", {"name": "Renamed"}).status_code == 403
    assert not Customer.objects.filter(name__in=["Trey Research", "Renamed"]).exists()


def test_patch_changes_the_fields_given_and_records_old_and_new(tenant: Tenant, api_for) -> None:
    response = api_for(tenant.admin).patch(f"/api/v1/customers/{tenant.customer.pk}/", {"credit_days": 45})
    assert response.status_code == 200
    assert response.json()["credit_days"] == 45
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.data == {"credit_days": {"from": 30, "to": 45}}


def test_invalid_input_gets_a_message_per_field(tenant: Tenant, api_for) -> None:
    response = api_for(tenant.admin).post(
        "/api/v1/customers/", {**NEW_CUSTOMER, "credit_days": 400, "currency": "XXX", "tenant_id": "nope"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"credit_days", "currency", "tenant_id"}
    assert response.json()["code"] == "invalid"
    assert not Customer.objects.filter(name="Trey Research").exists()


def test_duplicate_tenant_id_is_refused_with_a_field_error(tenant: Tenant, api_for) -> None:
    response = api_for(tenant.admin).post(
        "/api/v1/customers/", {**NEW_CUSTOMER, "tenant_id": str(tenant.customer.tenant_id)}
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"tenant_id": ["A customer with this Microsoft tenant ID already exists."]}


def test_the_same_tenant_id_may_exist_at_another_partner(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    response = api_for(tenant.admin).post(
        "/api/v1/customers/", {**NEW_CUSTOMER, "tenant_id": str(other_tenant.customer.tenant_id)}
    )
    assert response.status_code == 201


def test_search_and_filters(tenant: Tenant, api_for) -> None:
    CustomerFactory(partner=tenant.partner, name="Trey Research", currency="EUR", domain="trey.example")
    client = api_for(tenant.agent)
    assert [c["name"] for c in client.get("/api/v1/customers/?search=trey").json()["results"]] == ["Trey Research"]
    assert [c["name"] for c in client.get("/api/v1/customers/?currency=EUR").json()["results"]] == ["Trey Research"]


def test_list_runs_a_fixed_number_of_queries(tenant: Tenant, api_for, django_assert_max_num_queries) -> None:
    CustomerFactory.create_batch(30, partner=tenant.partner)
    client = api_for(tenant.agent)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/customers/?page_size=50")
    assert len(response.json()["results"]) == 32


def test_anonymous_is_refused(db: None, client) -> None:
    assert client.get("/api/v1/customers/").status_code in (401, 403)


def test_schema_and_docs_are_served(db: None, client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/customers/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The docs' assets come from the portal itself, not a CDN, so they work offline. (A plain search
    # for "cdn" would also match the page's random CSRF token.)
    assets = re.findall(rb'(?:src|href)\s*=\s*["\']([^"\']+)', docs.content)
    assert assets
    assert [a for a in assets if not a.startswith(b"/") or a.startswith(b"//")] == []
    assert b"cdn.jsdelivr" not in docs.content
    assert b"unpkg.com" not in docs.content
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content


def test_the_openapi_schema_is_valid_and_complete(db: None, tmp_path) -> None:
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/customers/", "/api/v1/invoices/{id}/issue/", "/api/v1/payments/", "/api/v1/credit-notes/"):
        assert f"{path}:" in text


def test_filters_are_the_pages_filters_and_a_bad_value_is_refused(tenant: Tenant, api_for) -> None:
    CustomerFactory(partner=tenant.partner, name="Trey Research", collections_exempt=True)
    client = api_for(tenant.agent)
    exempt = client.get("/api/v1/customers/?collections=exempt").json()["results"]
    assert [c["name"] for c in exempt] == ["Trey Research"]
    refused = client.get("/api/v1/customers/?currency=EURO")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert list(refused.json()["fields"]) == ["currency"]
    twice = client.get("/api/v1/customers/?currency=EUR&currency=USD")
    assert twice.status_code == 400  # not quietly the last one
    assert twice.json()["fields"] == {"currency": ["Give this filter once."]}
