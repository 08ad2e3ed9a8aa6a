"""The seller's and buyer's details an e-invoice needs: validated where they are typed, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partner_portal.einvoice_fields import validate_iban
from partner_portal.models import AuditEvent, Partner
from partner_portal.services import FieldsInvalid, partner_update
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("GB82WEST12345698765432", True),
        ("fr14 2004 1010 0505 0001 3m02 606", True),
        ("DE89 3704 0044 0532 0130 01", False),  # one digit off: mod 97 fails
        ("DE00370400440532013000", False),
        ("DE8937040044053201300", False),  # the digits of a German IBAN, one short of its 22 characters
        ("1234", False),
    ],
)
def test_iban_check_digits(iban: str, valid: bool) -> None:
    if valid:
        validate_iban(iban)
    else:
        with pytest.raises(ValidationError):
            validate_iban(iban)


def test_partner_update_normalises_and_audits(tenant: Tenant) -> None:
    partner_update(
        partner=tenant.partner,
        actor=tenant.admin,
        changes={"iban": "de89 3704 0044 0532 0130 00", "bic": "cobadeffxxx", "country": "DE", "city": "Berlin"},
    )
    partner = Partner.objects.get(pk=tenant.partner.pk)
    assert (partner.iban, partner.bic, partner.country, partner.city) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
        "DE",
        "Berlin",
    )
    event = AuditEvent.objects.get(action="partner.updated")
    assert event.data["iban"] == {"from": "", "to": "DE89370400440532013000"}
    assert event.actor == tenant.admin


def test_partner_update_refuses_a_peppol_value_without_scheme(tenant: Tenant) -> None:
    with pytest.raises(FieldsInvalid) as refused:
        partner_update(partner=tenant.partner, actor=tenant.admin, changes={"peppol_id": "4035811991021"})
    assert list(refused.value.fields) == ["peppol_scheme"]
    assert Partner.objects.get(pk=tenant.partner.pk).peppol_id == ""


def test_partner_api_patch_validates_each_field(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.admin)
    response = client.patch(
        "/api/v1/partner/", {"iban": "DE89370400440532013001", "bic": "NOPE", "country": "XX"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"iban", "bic", "country"}
    response = client.patch("/api/v1/partner/", {"peppol_scheme": "0088"}, format="json")
    assert response.status_code == 400
    assert "peppol_id" in response.json()["fields"]
    response = client.patch(
        "/api/v1/partner/",
        {"peppol_scheme": "0088", "peppol_id": "4035811991021", "legal_registration_id": "HRB 12345"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["peppol_id"] == "4035811991021"
    assert Partner.objects.get(pk=tenant.partner.pk).legal_registration_id == "HRB 12345"


def test_partner_api_is_read_only_for_finance(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    assert client.get("/api/v1/partner/").json()["name"] == "Alpha Partners"
    assert client.patch("/api/v1/partner/", {"name": "Renamed"}, format="json").status_code == 403
    assert api_for(tenant.customer_admin).get("/api/v1/partner/").status_code == 403
    assert Partner.objects.get(pk=tenant.partner.pk).name == "Alpha Partners"


def test_settings_page_saves_and_shows_errors(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.admin)
    assert client.get("/staff/settings/").status_code == 200
    form = {"name": "Alpha Partners", "country": "DE", "iban": "DE89370400440532013001"}
    response = client.post("/staff/settings/", form)
    assert response.status_code == 400
    assert "IBAN: the check digits do not match; look for a typo." in response.content.decode()
    form["iban"] = "DE89370400440532013000"
    form["street"] = "Unter den Linden 1"
    assert client.post("/staff/settings/", form).status_code == 302
    assert Partner.objects.get(pk=tenant.partner.pk).street == "Unter den Linden 1"


def test_settings_page_refuses_an_agents_post(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    assert client.get("/staff/settings/").status_code == 200
    assert client.post("/staff/settings/", {"name": "Renamed"}).status_code == 403
    assert Partner.objects.get(pk=tenant.partner.pk).name == "Alpha Partners"


def test_customer_api_takes_the_buyer_details(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    url = f"/api/v1/customers/{tenant.customer.pk}/"
    response = client.patch(url, {"country": "de"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"country"}
    response = client.patch(url, {"peppol_id": "991-01234-56"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"peppol_scheme"}
    response = client.patch(
        url,
        {
            "country": "DE",
            "street": "Hauptstraße 5",
            "city": "München",
            "post_code": "80331",
            "peppol_scheme": "0204",
            "peppol_id": "991-01234-56",
            "buyer_reference": "991-01234-56",
            "order_reference": "PO-7",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.filter(action="customer.updated").latest("pk")
    assert event.data["buyer_reference"] == {"from": "", "to": "991-01234-56"}


def test_customer_form_refuses_a_bad_country(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    url = f"/staff/customers/{tenant.customer.pk}/edit/"
    form = {
        "name": "Alpha Customer One",
        "tenant_id": str(tenant.customer.tenant_id),
        "currency": tenant.customer.currency,
        "language": "en",
        "credit_days": 30,
        "collections_extra_grace_days": 0,
        "country": "ZZ",
        "street": "Hauptstraße 5",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    assert "not an ISO 3166 country code" in response.content.decode()
    form["country"] = "DE"
    assert client.post(url, form).status_code == 302
    tenant.customer.refresh_from_db()
    assert (tenant.customer.country, tenant.customer.street) == ("DE", "Hauptstraße 5")


def test_a_belgian_enterprise_number_with_a_typo_is_refused_where_it_is_typed(
    tenant: Tenant, client_for, api_for
) -> None:
    url = f"/api/v1/customers/{tenant.customer.pk}/"
    refused = api_for(tenant.finance).patch(url, {"peppol_scheme": "0208", "peppol_id": "0403.019.262"}, format="json")
    assert refused.status_code == 400  # 0403019261 is right: mod 97 gives its last two digits
    assert "check digits do not match" in str(refused.json()["fields"]["peppol_id"])
    tenant.customer.refresh_from_db()
    assert tenant.customer.peppol_id == ""

    accepted = api_for(tenant.finance).patch(url, {"peppol_scheme": "0208", "peppol_id": "0403.019.261"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    tenant.customer.refresh_from_db()
    assert tenant.customer.peppol_id == "0403019261"  # stored as the e-invoice carries it

    page = client_for(tenant.admin).post(
        "/staff/settings/", {"name": "Alpha Partners", "peppol_scheme": "9930", "peppol_id": "DE 136 695 977"}
    )
    assert "check digits do not match" in page.content.decode()
    assert Partner.objects.get(pk=tenant.partner.pk).peppol_id == ""
