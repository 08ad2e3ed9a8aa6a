"""Billing API: invoices, payments, credit notes, idempotency keys, access."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.invoicing.models import CreditNote, Invoice, InvoiceLine, Payment
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

DRAFT = {
    "customer": None,
    "notes": "Thank you for your business.",
    "lines": [
        {"description": "Microsoft 365 E3", "quantity": "10", "unit_price": "36.00", "tax_rate": "20.00"},
        {"description": "Azure support hours", "quantity": "1.5", "unit_price": "95.00"},
    ],
}


def _draft_body(tenant: Tenant) -> dict:
    return {**DRAFT, "customer": tenant.customer.pk}


def test_finance_creates_patches_and_issues_a_draft(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    created = client.post("/api/v1/invoices/", _draft_body(tenant))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["number"], body["currency"]) == ("draft", "", "USD")
    assert [line["amount"] for line in body["lines"]] == ["360.00", "142.50"]
    assert (body["subtotal"], body["tax_total"], body["total"], body["balance"]) == (
        "502.50",
        "72.00",
        "574.50",
        "574.50",
    )

    patched = client.patch(
        f"/api/v1/invoices/{body['id']}/",
        {"lines": [{"description": "One", "quantity": "1", "unit_price": "9.99", "tax_rate": "20"}]},
    )
    assert patched.status_code == 200
    assert patched.json()["total"] == "11.99"

    done = client.post(f"/api/v1/invoices/{body['id']}/issue/")
    assert done.status_code == 200
    assert done.json()["status"] == "issued"
    assert done.json()["number"].startswith("INV-")
    assert done.json()["due_date"] is not None


def test_an_issued_invoice_cannot_be_changed_through_the_api(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    response = api_for(tenant.admin).patch(f"/api/v1/invoices/{invoice.pk}/", {"notes": "changed", "lines": []})
    assert response.status_code == 409
    assert "credit note" in response.json()["detail"]
    invoice.refresh_from_db()
    assert (invoice.notes, invoice.total) == ("", Decimal("432.00"))


def test_void_needs_a_reason_and_keeps_the_number(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    client = api_for(tenant.finance)
    assert client.post(f"/api/v1/invoices/{invoice.pk}/void/", {}).json()["fields"] == {
        "reason": ["This field is required."]
    }
    response = client.post(f"/api/v1/invoices/{invoice.pk}/void/", {"reason": "Issued twice"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["number"], response.json()["balance"]) == (
        "void",
        invoice.number,
        "0.00",
    )


def test_customer_users_see_their_issued_invoices_only(tenant: Tenant, api_for) -> None:
    own = issued(tenant.customer)
    draft(tenant.customer)
    sibling = issued(tenant.other_customer)
    client = api_for(tenant.customer_member)
    assert [i["id"] for i in client.get("/api/v1/invoices/").json()["results"]] == [own.pk]
    assert client.get(f"/api/v1/invoices/{sibling.pk}/").status_code == 404
    assert client.post(f"/api/v1/invoices/{own.pk}/void/", {"reason": "x"}).status_code == 403


def test_agents_read_but_do_not_write(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.agent)
    assert client.post("/api/v1/invoices/", _draft_body(tenant)).status_code == 403
    assert not Invoice.objects.exists()


def test_a_foreign_customer_or_invoice_does_not_exist(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    response = client.post("/api/v1/invoices/", {**DRAFT, "customer": other_tenant.customer.pk})
    assert response.status_code == 400
    assert "customer" in response.json()["fields"]
    foreign = issued(other_tenant.customer)
    assert client.post(f"/api/v1/invoices/{foreign.pk}/issue/").status_code == 404
    response = client.post("/api/v1/payments/", {"customer": tenant.customer.pk, "amount": "1.00", "received_on": "2026-11-05",
                                                 "allocations": [{"invoice": foreign.pk, "amount": "1.00"}]})  # fmt: skip
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_list_filters(tenant: Tenant, api_for) -> None:
    paid = issued(tenant.customer)
    open_one = issued(tenant.other_customer)
    api_for(tenant.finance).post(
        "/api/v1/payments/", {"customer": tenant.customer.pk, "amount": "432.00", "received_on": "2026-11-05"}
    )
    client = api_for(tenant.agent)
    assert [i["id"] for i in client.get("/api/v1/invoices/?status=paid").json()["results"]] == [paid.pk]
    assert [
        i["id"] for i in client.get(f"/api/v1/invoices/?customer={tenant.other_customer.pk}").json()["results"]
    ] == [open_one.pk]
    assert [i["id"] for i in client.get(f"/api/v1/invoices/?search={open_one.number}").json()["results"]] == [
        open_one.pk
    ]
    assert len(client.get("/api/v1/invoices/?period=2026-11").json()["results"]) == 2
    assert client.get("/api/v1/invoices/?period=2026-10").json()["results"] == []


def test_invoice_list_runs_a_fixed_number_of_queries(tenant: Tenant, api_for, django_assert_max_num_queries) -> None:
    for _ in range(12):
        issued(tenant.customer)
    with django_assert_max_num_queries(5):
        response = api_for(tenant.agent).get("/api/v1/invoices/")
    assert len(response.json()["results"]) == 12


def test_payment_without_allocations_pays_oldest_first_and_reports_credit(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    response = api_for(tenant.finance).post(
        "/api/v1/payments/",
        {
            "customer": tenant.customer.pk,
            "amount": "500.00",
            "received_on": "2026-11-05",
            "method": "card",
            "reference": "AUTH 42",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["unallocated"] == "68.00"
    assert body["allocations"] == [
        {"invoice": str(invoice.pk), "number": invoice.number, "amount": "432.00", "reversed_at": None}
    ]


def test_a_refused_payment_says_why_and_creates_nothing(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    response = api_for(tenant.finance).post(
        "/api/v1/payments/",
        {
            "customer": tenant.customer.pk,
            "amount": "10.00",
            "received_on": "2026-11-05",
            "allocations": [{"invoice": invoice.pk, "amount": "20.00"}],
        },
    )
    assert response.status_code == 400
    assert "more than the payment" in response.json()["detail"]
    assert not Payment.objects.exists()


def test_credit_note_through_the_api(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer)
    response = api_for(tenant.finance).post(
        "/api/v1/credit-notes/", {"invoice": invoice.pk, "amount": "32.00", "reason": "Licence returned"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"].startswith("CN-")
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("400.00")
    assert api_for(tenant.customer_member).get("/api/v1/credit-notes/").json()["results"][0]["amount"] == "32.00"
    assert api_for(tenant.other_customer_admin).get("/api/v1/credit-notes/").json()["results"] == []


class TestIdempotencyKey:
    def test_a_retry_returns_the_first_result_and_creates_nothing(self, tenant: Tenant, api_for) -> None:
        issued(tenant.customer)
        client = api_for(tenant.finance)
        body = {"customer": tenant.customer.pk, "amount": "100.00", "received_on": "2026-11-05"}
        first = client.post("/api/v1/payments/", body, HTTP_IDEMPOTENCY_KEY="pay-2026-11-05-001")
        again = client.post("/api/v1/payments/", body, HTTP_IDEMPOTENCY_KEY="pay-2026-11-05-001")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Payment.objects.count() == 1

    def test_two_partners_with_the_same_key_each_get_their_own_result(
        self, tenant: Tenant, other_tenant: Tenant, api_for
    ) -> None:
        issued(tenant.customer)
        issued(other_tenant.customer)
        key = "pay-shared-001"
        mine = api_for(tenant.finance)
        theirs = api_for(other_tenant.finance)
        first = mine.post(
            "/api/v1/payments/",
            {"customer": tenant.customer.pk, "amount": "100.00", "received_on": "2026-11-05"},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        other = theirs.post(
            "/api/v1/payments/",
            {"customer": other_tenant.customer.pk, "amount": "100.00", "received_on": "2026-11-05"},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert first.status_code == other.status_code == 201, other.json()
        assert "Idempotent-Replayed" not in other
        assert other.json()["id"] != first.json()["id"]
        assert Payment.objects.filter(partner=tenant.partner).count() == 1
        assert Payment.objects.filter(partner=other_tenant.partner).count() == 1
        replay = mine.post(
            "/api/v1/payments/",
            {"customer": tenant.customer.pk, "amount": "100.00", "received_on": "2026-11-05"},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"

    def test_the_same_key_with_another_body_is_refused(self, tenant: Tenant, api_for) -> None:
        client = api_for(tenant.finance)
        client.post("/api/v1/invoices/", _draft_body(tenant), HTTP_IDEMPOTENCY_KEY="k1")
        response = client.post(
            "/api/v1/invoices/", {**_draft_body(tenant), "notes": "different"}, HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert response.status_code == 422
        assert Invoice.objects.count() == 1

    def test_a_refused_request_does_not_use_up_the_key(self, tenant: Tenant, api_for) -> None:
        invoice = issued(tenant.customer)
        client = api_for(tenant.finance)
        bad = client.post(
            "/api/v1/credit-notes/",
            {"invoice": invoice.pk, "amount": "999.00", "reason": "x"},
            HTTP_IDEMPOTENCY_KEY="cn-1",
        )
        assert bad.status_code == 400
        good = client.post(
            "/api/v1/credit-notes/",
            {"invoice": invoice.pk, "amount": "10.00", "reason": "x"},
            HTTP_IDEMPOTENCY_KEY="cn-1",
        )
        assert good.status_code == 201
        assert CreditNote.objects.count() == 1

    def test_keys_belong_to_their_user(self, tenant: Tenant, api_for) -> None:
        body = _draft_body(tenant)
        api_for(tenant.finance).post("/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY="shared")
        api_for(tenant.admin).post("/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY="shared")
        assert Invoice.objects.count() == 2


def test_drafts_can_be_deleted_and_issued_invoices_cannot(tenant: Tenant, api_for) -> None:
    from partner_portal.models import AuditEvent

    client = api_for(tenant.finance)
    gone = draft(tenant.customer)
    assert client.delete(f"/api/v1/invoices/{gone.pk}/").status_code == 204
    assert not Invoice.objects.filter(pk=gone.pk).exists()
    assert AuditEvent.objects.filter(action="invoice.draft_deleted").count() == 1
    kept = issued(tenant.customer)
    assert client.delete(f"/api/v1/invoices/{kept.pk}/").status_code == 409
    assert api_for(tenant.customer_admin).delete(f"/api/v1/invoices/{kept.pk}/").status_code == 403
    assert Invoice.objects.filter(pk=kept.pk).exists()


def test_payments_filter_by_customer_and_refuse_an_unknown_method(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    mine = issued(tenant.customer)
    other = issued(tenant.other_customer)
    for invoice in (mine, other):
        response = client.post(
            "/api/v1/payments/",
            {"customer": invoice.customer_id, "amount": "10.00", "received_on": "2026-11-20", "reference": "x"},
        )
        assert response.status_code == 201, response.json()
    listed = client.get(f"/api/v1/payments/?customer={tenant.customer.pk}").json()["results"]
    assert [p["customer"] for p in listed] == [tenant.customer.pk]
    refused = client.get("/api/v1/payments/?method=cheque-ish")
    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["method"])


def test_a_line_names_the_subscription_it_bills_and_only_one_of_the_customers_own(
    tenant: Tenant, other_tenant: Tenant, api_for
) -> None:
    seats = SubscriptionFactory(customer=tenant.customer, quantity=4, unit_price=Decimal("20.00"))
    sibling = SubscriptionFactory(customer=CustomerFactory(partner=tenant.partner))  # same partner, other customer
    strangers = SubscriptionFactory(customer=other_tenant.customer)
    client = api_for(tenant.finance)
    line = {"description": "Seats", "quantity": "4", "unit_price": "20.00", "subscription": seats.pk}

    created = client.post("/api/v1/invoices/", {"customer": tenant.customer.pk, "lines": [line]})
    assert created.status_code == 201, created.json()
    assert created.json()["lines"][0]["subscription"] == seats.pk
    saved = Invoice.objects.get(pk=created.json()["id"]).lines.get()
    assert (saved.subscription_id, saved.kind) == (seats.pk, InvoiceLine.Kind.SUBSCRIPTION)

    refused = client.post(
        "/api/v1/invoices/", {"customer": tenant.customer.pk, "lines": [{**line, "subscription": sibling.pk}]}
    )
    assert refused.status_code == 400
    assert "subscription is not one of this customer's" in str(refused.json())
    hidden = client.post(
        "/api/v1/invoices/", {"customer": tenant.customer.pk, "lines": [{**line, "subscription": strangers.pk}]}
    )
    assert hidden.status_code == 400  # another partner's subscription "does not exist"
    assert "does not exist" in str(hidden.json()["fields"]["lines"])
    assert Invoice.objects.filter(customer=tenant.customer).count() == 1
