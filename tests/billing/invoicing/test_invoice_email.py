"""Issuing an invoice emails it to the customer with its PDF, in the customer's language, unless
finance unticks it; it can be emailed again; every send is on the invoice's history."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.invoicing.errors import InvoiceNotSendable
from billing.invoicing.services import invoice_send_request
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db


def _billing_email(tenant: Tenant, email: str = "ap@alpha-customer.example", language: str = "en") -> None:
    tenant.customer.billing_email = email
    tenant.customer.language = language
    tenant.customer.save(update_fields=["billing_email", "language"])


def test_issuing_from_the_page_emails_the_invoice_with_its_pdf(tenant: Tenant, client_for, on_commit) -> None:
    _billing_email(tenant)
    invoice = draft(tenant.customer, line("Microsoft 365 E3", "10", "36.00", "20"))
    mail.outbox.clear()
    with on_commit():
        response = client_for(tenant.finance).post(f"/staff/billing/invoices/{invoice.pk}/issue/", follow=True)
    invoice.refresh_from_db()
    assert f"Invoice {invoice.number} issued and emailed to ap@alpha-customer.example." in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ap@alpha-customer.example"]
    assert message.subject == f"Invoice {invoice.number} from {tenant.partner.name}"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content[:4] == b"%PDF"
    assert "432.00" in message.body
    event = AuditEvent.objects.get(action="invoice.sent", target_id=str(invoice.pk))
    assert (event.actor, event.data["to"]) == (tenant.finance, "ap@alpha-customer.example")
    history = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert "Invoice emailed" in history


def test_unticked_on_the_issue_page_nothing_is_sent(tenant: Tenant, client_for, on_commit) -> None:
    _billing_email(tenant)
    invoice = draft(tenant.customer)
    mail.outbox.clear()
    with on_commit():
        client_for(tenant.finance).post(f"/staff/billing/invoices/{invoice.pk}/issue/", {"email": "no"})
    invoice.refresh_from_db()
    assert invoice.number
    assert mail.outbox == []


def test_the_email_speaks_the_customers_language(tenant: Tenant, on_commit) -> None:
    _billing_email(tenant, language="ru")
    invoice = issued(tenant.customer)
    mail.outbox.clear()
    with on_commit():
        invoice_send_request(invoice=invoice, actor=tenant.finance)
    [message] = mail.outbox
    assert message.subject == f"Счёт {invoice.number} от {tenant.partner.name}"
    assert "Направляем вам счёт" in message.body


def test_email_again_and_what_cannot_be_sent(tenant: Tenant, client_for, on_commit) -> None:
    _billing_email(tenant)
    invoice = issued(tenant.customer)
    client = client_for(tenant.finance)
    mail.outbox.clear()
    with on_commit():
        response = client.post(f"/staff/billing/invoices/{invoice.pk}/send/", follow=True)
    assert f"Invoice {invoice.number} is being emailed to ap@alpha-customer.example." in response.content.decode()
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.get(action="invoice.sent").data["again"] is True

    with pytest.raises(InvoiceNotSendable, match="Only an issued invoice"):
        invoice_send_request(invoice=draft(tenant.customer), actor=tenant.finance)
    nowhere = tenant.other_customer
    nowhere.billing_email = ""
    nowhere.save(update_fields=["billing_email"])
    nowhere_invoice = issued(nowhere)
    nowhere.memberships.all().delete()
    response = client.post(f"/staff/billing/invoices/{nowhere_invoice.pk}/send/", follow=True)
    assert "has no billing email and no customer admin" in response.content.decode()


def test_through_the_api(tenant: Tenant, api_for, on_commit) -> None:
    _billing_email(tenant)
    api = api_for(tenant.finance)
    invoice = draft(tenant.customer)
    mail.outbox.clear()
    with on_commit():
        assert api.post(f"/api/v1/invoices/{invoice.pk}/issue/", {"email": True}, format="json").status_code == 200
    assert len(mail.outbox) == 1
    with on_commit():
        response = api.post(f"/api/v1/invoices/{invoice.pk}/send/")
    assert (response.status_code, response.json()) == (202, {"to": ["ap@alpha-customer.example"]})
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_only_finance_and_admins_send(tenant: Tenant, client_for, api_for, role: str) -> None:
    _billing_email(tenant)
    invoice = issued(tenant.customer)
    user = getattr(tenant, role)
    assert client_for(user).post(f"/staff/billing/invoices/{invoice.pk}/send/").status_code == 403
    assert api_for(user).post(f"/api/v1/invoices/{invoice.pk}/send/").status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="invoice.sent").exists()


def test_another_partners_invoice_is_not_found(tenant: Tenant, other_tenant: Tenant, client_for, api_for) -> None:
    invoice = issued(other_tenant.customer)
    assert client_for(tenant.finance).post(f"/staff/billing/invoices/{invoice.pk}/send/").status_code == 404
    assert api_for(tenant.finance).post(f"/api/v1/invoices/{invoice.pk}/send/").status_code == 404
