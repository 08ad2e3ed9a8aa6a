"""What an e-invoice still needs: a warning on the issue page, the customer page and the settings page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.invoicing import selectors as billing_selectors
from billing.invoicing.services import LineInput
from partner_portal import selectors
from partner_portal.models import Partner
from partner_portal.tenancy import Scope
from tests.conftest import Tenant
from tests.factories.billing import draft, line

pytestmark = pytest.mark.django_db


def _scope(tenant: Tenant) -> Scope:
    return Scope(membership=tenant.finance.membership)


def _complete(tenant: Tenant) -> None:
    Partner.objects.filter(pk=tenant.partner.pk).update(
        country="DE", street="Unter den Linden 1", city="Berlin", post_code="10117", tax_id="DE123456789"
    )
    customer = tenant.customer
    customer.country, customer.street, customer.city, customer.post_code = "FR", "1 rue de Rivoli", "Paris", "75001"
    customer.save()


def test_gaps_of_partner_and_customer(tenant: Tenant) -> None:
    gaps = selectors.einvoice_gaps(scope=_scope(tenant), customer=tenant.customer)
    assert gaps.partner == ["Street", "City", "Post code", "VAT identifier"]  # the factory's partner has GB
    assert gaps.customer == ["Street", "City", "Post code"]
    _complete(tenant)
    gaps = selectors.einvoice_gaps(scope=_scope(tenant), customer=tenant.customer)
    # A French buyer of a German seller is reverse charged: its VAT identifier is needed too.
    assert (gaps.partner, gaps.customer) == ([], ["VAT identifier"])
    assert selectors.einvoice_gaps(scope=_scope(tenant), customer=tenant.customer, reverse_charge=False).ready


def test_the_issue_page_warns_but_issues(tenant: Tenant, client_for) -> None:
    invoice = draft(tenant.customer, line("Seats", tax_rate="20"))
    client = client_for(tenant.finance)
    page = client.get(f"/staff/billing/invoices/{invoice.pk}/issue/").content.decode()
    assert "Not ready for an e-invoice" in page
    assert "Street, City, Post code, VAT identifier" in page
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/", {"email": "no"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.number


def test_the_issue_page_names_lines_without_category_and_refuses(tenant: Tenant, client_for) -> None:
    tenant.customer.country = ""
    tenant.customer.save(update_fields=["country"])
    invoice = draft(tenant.customer, line("Seats", tax_rate="20"), line("Setup", tax_rate="0"))
    readiness = billing_selectors.invoice_einvoice_readiness(scope=_scope(tenant), invoice=invoice)
    assert readiness.lines_without_category == [2]
    client = client_for(tenant.finance)
    assert "The VAT category of line 2" in client.get(f"/staff/billing/invoices/{invoice.pk}/issue/").content.decode()
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/", {"email": "no"})
    assert response.status_code == 400
    assert "Choose the VAT category of line 2" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.number == ""


def test_reverse_charged_lines_ask_for_the_buyers_vat_id(tenant: Tenant) -> None:
    _complete(tenant)
    invoice = draft(
        tenant.customer,
        LineInput(description="Seats", quantity=Decimal(1), unit_price=Decimal(10), tax_rate=Decimal(0), vat_category="AE",
                  vat_exemption_code="VATEX-EU-AE"),
    )  # fmt: skip
    readiness = billing_selectors.invoice_einvoice_readiness(scope=_scope(tenant), invoice=invoice)
    assert readiness.gaps.customer == ["VAT identifier"]
    assert not readiness.ready


def test_customer_and_settings_pages_show_the_gaps(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    page = client.get(f"/staff/customers/{tenant.customer.pk}/").content.decode()
    assert "Not ready for an e-invoice" in page
    settings_page = client.get("/staff/settings/").content.decode()
    assert "An e-invoice still needs" in settings_page
    _complete(tenant)
    tenant.customer.tax_id = "FR12345678901"
    tenant.customer.save(update_fields=["tax_id"])
    assert "Not ready for an e-invoice" not in client.get(f"/staff/customers/{tenant.customer.pk}/").content.decode()
    assert "An e-invoice still needs" not in client.get("/staff/settings/").content.decode()


def test_a_customer_receiving_peppol_ubl_needs_a_buyer_or_order_reference(tenant: Tenant) -> None:
    _complete(tenant)
    tenant.customer.tax_id, tenant.customer.einvoice_format = "FR12345678901", "ubl"
    tenant.customer.save(update_fields=["tax_id", "einvoice_format"])
    gaps = selectors.einvoice_gaps(scope=_scope(tenant), customer=tenant.customer)
    assert gaps.customer == ["Buyer reference or order reference (Peppol needs one)"]
    tenant.customer.order_reference = "4500012345"
    tenant.customer.save(update_fields=["order_reference"])
    assert selectors.einvoice_gaps(scope=_scope(tenant), customer=tenant.customer).ready
