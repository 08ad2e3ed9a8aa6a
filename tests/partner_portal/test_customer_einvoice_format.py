"""Partner admins and finance set what a customer's invoice email carries (its e-invoice format) on the
customer form and through the API; a value outside the choices is refused, every change is audited, and
no one reaches another partner's customer."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from partner_portal.models import AuditEvent, Customer
from partner_portal.services import CUSTOMER_EDITABLE_FIELDS
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _form(customer: Customer, **changes: Any) -> dict[str, Any]:
    """The edit form as the page posts it: every field as it is (bar the format), then `changes`."""
    values = {name: getattr(customer, name) for name in CUSTOMER_EDITABLE_FIELDS if name != "einvoice_format"}
    form = {name: value for name, value in values.items() if value is not None and value is not False}
    form.update(changes)
    return form


def _format(customer: Customer) -> str:
    return Customer.objects.get(pk=customer.pk).einvoice_format


def test_the_form_offers_the_formats_and_saves_the_choice_with_an_audit_event(tenant: Tenant, client_for: Any) -> None:
    client = client_for(tenant.finance)
    url = f"/staff/customers/{tenant.customer.pk}/edit/"
    page = client.get(url).content.decode()
    assert "Invoice email format" in page
    for value, label in (("pdf", "PDF only"), ("facturx", "Factur-X (PDF/A-3 with the CII XML inside)")):
        assert f'<option value="{value}"' in page
        assert label in page

    response = client.post(url, _form(tenant.customer, einvoice_format="ubl"))
    assert response.status_code == 302
    assert _format(tenant.customer) == "ubl"
    event = AuditEvent.objects.filter(action="customer.updated").latest("pk")
    assert (event.actor, event.data) == (tenant.finance, {"einvoice_format": {"from": "pdf", "to": "ubl"}})

    detail = client.get(f"/staff/customers/{tenant.customer.pk}/").content.decode()
    assert "PDF with the UBL XML (Peppol BIS Billing 3.0) attached" in detail
    assert '<span class="change-field">Invoice email format:</span>' in detail  # the activity names the field


def test_the_form_refuses_an_unknown_format_and_changes_nothing(tenant: Tenant, client_for: Any) -> None:
    client = client_for(tenant.admin)
    response = client.post(
        f"/staff/customers/{tenant.customer.pk}/edit/", _form(tenant.customer, einvoice_format="xrechnung")
    )
    assert response.status_code == 400
    assert "Select a valid choice. xrechnung is not one of the available choices." in response.content.decode()
    assert _format(tenant.customer) == "pdf"
    assert not AuditEvent.objects.filter(action="customer.updated").exists()


def test_a_form_posted_without_the_field_keeps_the_format(tenant: Tenant, client_for: Any) -> None:
    Customer.objects.filter(pk=tenant.customer.pk).update(einvoice_format="facturx")
    tenant.customer.refresh_from_db()
    client = client_for(tenant.finance)
    response = client.post(f"/staff/customers/{tenant.customer.pk}/edit/", _form(tenant.customer, city="Lyon"))
    assert response.status_code == 302
    assert _format(tenant.customer) == "facturx"
    assert AuditEvent.objects.filter(action="customer.updated").latest("pk").data == {
        "city": {"from": "", "to": "Lyon"}
    }


def test_a_new_customer_takes_the_chosen_format(tenant: Tenant, client_for: Any) -> None:
    client = client_for(tenant.finance)
    form = {"name": "Gamma GmbH", "currency": "EUR", "language": "en", "credit_days": 30}
    form |= {"collections_extra_grace_days": 0, "tenant_id": "5f1c8a9e-1d47-4c1b-9a57-3c2a0b6f7d11"}
    response = client.post("/staff/customers/new/", {**form, "einvoice_format": "facturx"})
    assert response.status_code == 302
    customer = Customer.objects.get(partner=tenant.partner, name="Gamma GmbH")
    assert customer.einvoice_format == "facturx"
    assert (
        AuditEvent.objects.get(action="customer.created", target_id=str(customer.pk)).data["einvoice_format"]
        == "facturx"
    )


def test_the_api_reads_changes_and_validates_the_format(tenant: Tenant, api_for: Any) -> None:
    client = api_for(tenant.finance)
    url = f"/api/v1/customers/{tenant.customer.pk}/"
    assert client.get(url).json()["einvoice_format"] == "pdf"

    response = client.patch(url, {"einvoice_format": "zugferd"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"einvoice_format": ['"zugferd" is not a valid choice.']}
    assert _format(tenant.customer) == "pdf"
    assert not AuditEvent.objects.filter(action="customer.updated").exists()

    response = client.patch(url, {"einvoice_format": "facturx"}, format="json")
    assert (response.status_code, response.json()["einvoice_format"]) == (200, "facturx")
    assert _format(tenant.customer) == "facturx"
    event = AuditEvent.objects.get(action="customer.updated")
    assert (event.actor, event.data) == (tenant.finance, {"einvoice_format": {"from": "pdf", "to": "facturx"}})

    created = client.post(
        "/api/v1/customers/", {"name": "Delta BV", "currency": "EUR", "einvoice_format": "ubl"}, format="json"
    )
    assert (created.status_code, created.json()["einvoice_format"]) == (201, "ubl")
    default = client.post("/api/v1/customers/", {"name": "Epsilon SA", "currency": "EUR"}, format="json")
    assert default.json()["einvoice_format"] == "pdf"


def test_the_openapi_schema_documents_the_choices(db: None) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    field = components["Customer"]["properties"]["einvoice_format"]
    refs = [field.get("$ref")] + [part.get("$ref") for part in field.get("allOf", []) + field.get("oneOf", [])]
    [enum_ref] = [ref for ref in refs if ref]
    assert components[enum_ref.rsplit("/", 1)[1]]["enum"] == ["pdf", "facturx", "ubl", "peppol"]
    assert "What the invoice email carries" in str(field) + str(components[enum_ref.rsplit("/", 1)[1]])


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_agents_and_customer_users_cannot_change_it(tenant: Tenant, client_for: Any, api_for: Any, role: str) -> None:
    user = getattr(tenant, role)
    url = f"/api/v1/customers/{tenant.customer.pk}/"
    assert api_for(user).patch(url, {"einvoice_format": "ubl"}, format="json").status_code == 403
    page = client_for(user).post(
        f"/staff/customers/{tenant.customer.pk}/edit/", _form(tenant.customer, einvoice_format="ubl")
    )
    assert page.status_code == 403
    assert _format(tenant.customer) == "pdf"


def test_another_partners_customer_is_not_found(
    tenant: Tenant, other_tenant: Tenant, client_for: Any, api_for: Any
) -> None:
    foreign = other_tenant.customer
    response = api_for(tenant.finance).patch(
        f"/api/v1/customers/{foreign.pk}/", {"einvoice_format": "ubl"}, format="json"
    )
    assert response.status_code == 404
    page = client_for(tenant.admin).post(f"/staff/customers/{foreign.pk}/edit/", _form(foreign, einvoice_format="ubl"))
    assert page.status_code == 404
    assert _format(foreign) == "pdf"
