"""The tax of an invoice in another currency, stated in the partner's accounting currency too: the
exchange rate is set on the draft (page and API), refused where there is nothing to convert, and the
PDF, the UBL and the CII all state the same converted tax."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from billing.einvoicing.cii import invoice_cii
from billing.einvoicing.ubl import CBC, invoice_ubl
from billing.invoicing.errors import InvoiceTaxCurrencyInvalid
from billing.invoicing.models import Invoice
from billing.invoicing.pdf import credit_note_pdf, invoice_pdf
from billing.invoicing.services import (
    LineInput,
    credit_note_issue,
    invoice_draft_create,
    invoice_draft_update,
    invoice_issue,
)
from partner_portal.models import AuditEvent, Customer, Partner
from tests.billing.invoicing.test_pdf import pdf_text
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

SEATS = LineInput(
    description="Microsoft 365 E3", quantity=Decimal(10), unit_price=Decimal("36.00"), tax_rate=Decimal(21)
)


def _euro_partner_usd_customer(tenant: Tenant) -> None:
    Partner.objects.filter(pk=tenant.partner.pk).update(default_currency="EUR")
    Customer.objects.filter(pk=tenant.customer.pk).update(currency="USD")
    tenant.partner.refresh_from_db()
    tenant.customer.refresh_from_db()


def test_a_usd_invoice_of_a_euro_partner_states_its_tax_in_euro_everywhere(tenant: Tenant) -> None:
    _euro_partner_usd_customer(tenant)
    draft = invoice_draft_create(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, lines=[SEATS],
        tax_currency_rate=Decimal("0.92"),
    )  # fmt: skip
    invoice = invoice_issue(invoice=draft, actor=tenant.finance)

    # 75.60 USD of tax at 0.92 EUR per USD is 69.55 EUR, in the PDF, the UBL and the CII alike
    text = pdf_text(invoice_pdf(invoice=invoice))
    assert "Tax in EUR (at 0.92)" in text
    assert "69.55" in text
    ubl = etree.fromstring(invoice_ubl(invoice=invoice))
    assert ubl.xpath("//cbc:TaxAmount[@currencyID='EUR']/text()", namespaces={"cbc": CBC}) == ["69.55"]
    assert b">69.55<" in invoice_cii(invoice=invoice)
    assert AuditEvent.objects.get(action="invoice.drafted").data["tax_currency_rate"] == "0.92"

    note = credit_note_issue(invoice=invoice, actor=tenant.finance, reason="Two seats", amount=Decimal("87.12"))
    note_text = pdf_text(credit_note_pdf(credit_note=note))
    assert "Tax credited in EUR (at 0.92)" in note_text
    assert "13.91 EUR" in note_text  # 15.12 USD of tax credited


def test_a_rate_is_refused_on_an_invoice_in_the_partners_own_currency_and_can_be_cleared(tenant: Tenant) -> None:
    assert tenant.customer.currency == tenant.partner.default_currency
    with pytest.raises(InvoiceTaxCurrencyInvalid) as refused:
        invoice_draft_create(
            partner=tenant.partner, customer=tenant.customer, actor=None, lines=[SEATS],
            tax_currency_rate=Decimal("1.1"),
        )  # fmt: skip
    assert refused.value.fields == {
        "tax_currency_rate": ["The invoice is in USD, your accounting currency: there is nothing to convert."]
    }
    assert not Invoice.objects.exists()

    _euro_partner_usd_customer(tenant)
    draft = invoice_draft_create(partner=tenant.partner, customer=tenant.customer, actor=None, lines=[SEATS])
    draft = invoice_draft_update(invoice=draft, actor=None, tax_currency_rate=Decimal("0.93"))
    assert draft.tax_currency_rate == Decimal("0.93")
    draft = invoice_draft_update(invoice=draft, actor=None, tax_currency_rate=None)
    assert draft.tax_currency_rate is None
    assert "Tax in EUR" not in pdf_text(invoice_pdf(invoice=invoice_issue(invoice=draft, actor=None)))


def test_the_editor_sets_the_rate_and_shows_a_refusal_on_its_field(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    row = {"description": "Seats", "quantity": "10", "unit_price": "36", "tax_rate": "21"}
    form = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000", "notes": "", "issue_date": "", "due_date": "",
            **{f"lines-0-{name}": value for name, value in row.items()}}  # fmt: skip
    assert "data-tax-currency" not in client.get("/staff/billing/invoices/new/").content.decode()  # one currency

    refused = client.post(
        "/staff/billing/invoices/new/", {**form, "customer": tenant.customer.pk, "tax_currency_rate": "1.1"}
    )
    assert refused.status_code == 400
    assert "there is nothing to convert" in refused.context["form"].errors["tax_currency_rate"][0]
    assert not Invoice.objects.exists()

    _euro_partner_usd_customer(tenant)
    page = client.get("/staff/billing/invoices/new/").content.decode()
    assert "data-tax-currency" in page
    assert "Exchange rate to EUR for the tax" in page
    saved = client.post(
        "/staff/billing/invoices/new/", {**form, "customer": tenant.customer.pk, "tax_currency_rate": "0.92"}
    )
    invoice = Invoice.objects.get()
    assert saved["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    assert invoice.tax_currency_rate == Decimal("0.92")
    assert 'value="0.92' in client.get(f"/staff/billing/invoices/{invoice.pk}/edit/").content.decode()
    page = client.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert "Tax in EUR (at 0.92)" in page
    assert "69.55\xa0EUR" in page


def test_the_api_sets_and_clears_the_rate_of_a_draft(tenant: Tenant, api_for) -> None:
    _euro_partner_usd_customer(tenant)
    api = api_for(tenant.finance)
    line = {"description": "Seats", "quantity": "10", "unit_price": "36.00", "tax_rate": "21.00"}
    created = api.post(
        "/api/v1/invoices/",
        {"customer": tenant.customer.pk, "lines": [line], "tax_currency_rate": "0.92"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["tax_currency_rate"] == "0.92000000"
    pk = created.json()["id"]
    cleared = api.patch(f"/api/v1/invoices/{pk}/", {"tax_currency_rate": None}, format="json")
    assert cleared.json()["tax_currency_rate"] is None
    negative = api.patch(f"/api/v1/invoices/{pk}/", {"tax_currency_rate": "-1"}, format="json")
    assert negative.status_code == 400
    assert "tax_currency_rate" in negative.json()["fields"]
