"""A customer's currency does not change while money is held in it: open or draft invoices, credit,
subscriptions. The service refuses with a sentence saying why; the page and the API show it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.services import AllocationInput, invoice_void, payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent, Customer
from partner_portal.services import CustomerCurrencyLocked, customer_update
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories.billing import issued, line
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)):
        yield


def test_the_currency_is_refused_while_an_invoice_is_open_and_allowed_once_settled(tenant: Tenant) -> None:
    invoice = issued(tenant.customer, line(quantity="1", unit_price="215.00"))  # 258.00 USD with tax
    with pytest.raises(CustomerCurrencyLocked) as refused:
        customer_update(customer=tenant.customer, actor=tenant.admin, changes={"currency": "EUR"})
    assert str(refused.value) == (
        "The currency cannot change from USD to EUR while the customer has 1 open or draft invoice in USD: "
        "their amounts would no longer match. Settle, void or cancel them first."
    )
    assert refused.value.fields == {"currency": [str(refused.value)]}
    tenant.customer.refresh_from_db()
    assert tenant.customer.currency == "USD"
    invoice_void(invoice=invoice, actor=tenant.admin, reason="Issued by mistake")
    customer_update(customer=tenant.customer, actor=tenant.admin, changes={"currency": "EUR"})
    tenant.customer.refresh_from_db()
    assert tenant.customer.currency == "EUR"


def test_credit_and_subscriptions_hold_the_currency_too(tenant: Tenant) -> None:
    invoice = issued(tenant.customer, line(quantity="1", unit_price="100.00", tax_rate="0"))
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("150.00"),
        received_on=dt.date(2026, 11, 20), allocations=[AllocationInput(invoice=invoice, amount=Decimal("100.00"))],
    )  # fmt: skip
    SubscriptionFactory(customer=tenant.customer)
    SubscriptionFactory(customer=tenant.customer, status=Subscription.Status.CANCELLED)
    with pytest.raises(CustomerCurrencyLocked) as refused:
        customer_update(customer=tenant.customer, actor=tenant.admin, changes={"currency": "RUB"})
    assert "has 50.00\xa0USD of credit, 1 subscription in USD" in str(refused.value)
    # Other changes of a customer with open business go through.
    customer_update(customer=tenant.customer, actor=tenant.admin, changes={"currency": "USD", "credit_days": 45})
    assert Customer.objects.get(pk=tenant.customer.pk).credit_days == 45


def _form(customer: Customer, currency: str) -> dict[str, object]:
    return {
        "name": customer.name, "tenant_id": str(customer.tenant_id), "currency": currency, "language": "en",
        "credit_days": customer.credit_days, "collections_extra_grace_days": 0,
    }  # fmt: skip


def test_the_edit_page_shows_the_refusal_on_the_currency_field(tenant: Tenant, client_for) -> None:
    issued(tenant.customer)
    response = client_for(tenant.admin).post(
        f"/staff/customers/{tenant.customer.pk}/edit/", _form(tenant.customer, "EUR")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["currency"][0].startswith("The currency cannot change from USD to EUR")
    assert not AuditEvent.objects.filter(action="customer.updated").exists()


def test_the_api_refuses_with_409_and_the_sentence(tenant: Tenant, api_for) -> None:
    issued(tenant.customer)
    response = api_for(tenant.admin).patch(f"/api/v1/customers/{tenant.customer.pk}/", {"currency": "EUR"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "customer_currency_locked"
    assert body["fields"]["currency"] == [body["detail"]]
    assert "1 open or draft invoice in USD" in body["detail"]
