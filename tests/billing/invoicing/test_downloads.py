"""PDF downloads through pages and the API, and who may have them."""

from __future__ import annotations

import pytest

from billing.invoicing.services import credit_note_issue
from tests.conftest import Tenant
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db


def test_staff_and_the_customer_download_an_issued_invoice(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    for user in (tenant.agent, tenant.customer_member):
        response = client_for(user).get(f"/documents/invoices/{invoice.pk}.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
        assert response.content.startswith(b"%PDF")


def test_customers_get_neither_drafts_nor_other_customers_documents(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    sibling = issued(tenant.other_customer)
    note = credit_note_issue(invoice=sibling, actor=None, amount=sibling.total, reason="Cancelled order")
    own_draft = draft(tenant.customer)
    client = client_for(tenant.customer_admin)
    assert client.get(f"/documents/invoices/{sibling.pk}.pdf").status_code == 404
    assert client.get(f"/documents/invoices/{own_draft.pk}.pdf").status_code == 404
    assert client.get(f"/documents/credit-notes/{note.pk}.pdf").status_code == 404
    assert client_for(other_tenant.admin).get(f"/documents/invoices/{sibling.pk}.pdf").status_code == 404
    staff = client_for(tenant.finance)
    assert staff.get(f"/documents/invoices/{own_draft.pk}.pdf").status_code == 200  # staff preview drafts
    assert staff.get(f"/documents/credit-notes/{note.pk}.pdf").content.startswith(b"%PDF")


def test_the_api_serves_the_pdf(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    response = api_for(tenant.customer_member).get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
