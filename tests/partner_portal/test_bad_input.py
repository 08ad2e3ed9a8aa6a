"""Malformed input answers 400 (413 for an oversized body) with the usual refusal body, never 500,
and stores nothing: JSON null bodies, NUL bytes, lone surrogates, numbers too big for their column,
deeply nested JSON and oversized bodies, on the API and on the staff list pages."""

from __future__ import annotations

import json

import pytest

from billing.invoicing.models import Invoice, InvoiceLine
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

API = "/api/v1/"
LISTS = ["customers", "invoices", "payments", "subscriptions", "tickets"]
INT_MAX = 2**31 - 1


def _subscription(tenant: Tenant, **changes: object) -> dict:
    return {
        "customer": tenant.customer.pk, "product": "Microsoft 365 E5", "quantity": 12, "billing_cycle": "annual",
        "unit_price": "57.00", "unit_cost": "45.60", "start_date": "2026-01-01", **changes,
    }  # fmt: skip


def _line(**changes: object) -> dict:
    return {"description": "Microsoft 365 E3", "quantity": "10", "unit_price": "36.00", "tax_rate": "20.00", **changes}


def _invoice(tenant: Tenant, **line: object) -> dict:
    return {"customer": tenant.customer.pk, "lines": [_line(**line)]}


def _ticket(tenant: Tenant, **changes: object) -> dict:
    return {
        "subject": "Invoice total looks wrong", "description": "12 seats charged, we have 10.", "category": "billing",
        "product_family": "microsoft_365", "severity": "B", "customer": tenant.customer.pk, **changes,
    }  # fmt: skip


def _nothing_stored() -> None:
    assert not Subscription.objects.exists()
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()
    assert not Ticket.objects.exists()


def _refused(response, *, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}
    assert body["detail"]
    return body


def _raw(client, method: str, url: str, text: str):
    return getattr(client, method)(url, data=text.encode("utf-8"), content_type="application/json")


@pytest.fixture
def admin(tenant: Tenant, api_for):
    return api_for(tenant.admin)


@pytest.mark.parametrize("resource", ["customers", "subscriptions", "invoices", "tickets"])
def test_a_json_null_body_on_patch_is_refused(tenant: Tenant, admin, resource: str) -> None:
    existing = {
        "customers": lambda: tenant.customer.pk,
        "subscriptions": lambda: admin.post(f"{API}subscriptions/", _subscription(tenant)).json()["id"],
        "invoices": lambda: admin.post(f"{API}invoices/", _invoice(tenant)).json()["id"],
        "tickets": lambda: admin.post(f"{API}tickets/", _ticket(tenant)).json()["id"],
    }[resource]()
    response = _raw(admin, "patch", f"{API}{resource}/{existing}/", "null")
    assert _refused(response)["code"] == "invalid"


@pytest.mark.parametrize("resource", LISTS)
def test_a_nul_byte_in_search_is_refused_or_ignored(admin, resource: str) -> None:
    response = admin.get(f"{API}{resource}/", {"search": "abc\x00def"})
    if resource == "payments":  # payments take no search: the parameter is ignored
        assert response.status_code == 200
        return
    assert _refused(response)["fields"].keys() == {"search"}


def test_a_subscription_quantity_beyond_the_column_is_a_field_error(tenant: Tenant, admin) -> None:
    created = admin.post(f"{API}subscriptions/", _subscription(tenant, quantity=INT_MAX + 1))
    assert set(_refused(created)["fields"]) == {"quantity"}
    _nothing_stored()
    sub = admin.post(f"{API}subscriptions/", _subscription(tenant, quantity=1)).json()["id"]
    patched = admin.patch(f"{API}subscriptions/{sub}/", {"quantity": INT_MAX + 1})
    assert set(_refused(patched)["fields"]) == {"quantity"}
    assert Subscription.objects.get(pk=sub).quantity == 1


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": str(INT_MAX + 1), "unit_price": "9999999999"},
        {"quantity": "1", "unit_price": "1e20"},
        {"quantity": "9999999999", "unit_price": "9999999999"},
    ],
)
def test_an_invoice_line_that_overflows_its_amount_is_refused(tenant: Tenant, admin, line: dict) -> None:
    response = admin.post(f"{API}invoices/", _invoice(tenant, **line))
    assert "lines" in _refused(response)["fields"]
    _nothing_stored()


@pytest.mark.parametrize(
    ("url", "field"),
    [("subscriptions/", "billing_cycle"), ("tickets/", "subject"), ("tickets/", "category"), ("invoices/", "lines")],
)
def test_a_lone_surrogate_is_a_field_error(tenant: Tenant, admin, url: str, field: str) -> None:
    payload = {"subscriptions/": _subscription, "tickets/": _ticket, "invoices/": _invoice}[url](tenant)
    text = json.dumps(payload)
    if field == "lines":
        text = text.replace('"Microsoft 365 E3"', '"E3 \\ud800"')
    else:
        text = text.replace(json.dumps(payload[field]), '"x\\ud800"', 1)
    body = _refused(_raw(admin, "post", f"{API}{url}", text))
    assert body["code"] == "invalid"
    assert body["fields"]
    _nothing_stored()


def test_a_nul_byte_in_a_json_text_field_is_a_field_error(tenant: Tenant, admin) -> None:
    response = admin.post(f"{API}tickets/", _ticket(tenant, subject="bad\x00subject"))
    assert "subject" in _refused(response)["fields"]
    _nothing_stored()


@pytest.mark.parametrize("depth", [40, 5000])
@pytest.mark.parametrize("url", ["tickets/", "invoices/", "subscriptions/"])
def test_json_nested_too_deep_is_refused(admin, url: str, depth: int) -> None:
    text = '{"lines": ' + "[" * depth + "]" * depth + "}"
    body = _refused(_raw(admin, "post", f"{API}{url}", text))
    assert (body["code"], body["detail"]) == ("parse_error", "The JSON is nested too deeply.")
    _nothing_stored()


def test_a_json_body_over_the_size_limit_is_refused(tenant: Tenant, admin, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = admin.post(f"{API}tickets/", _ticket(tenant, description="x" * 20_000))
    assert _refused(response, status=413)["code"] == "request_too_large"
    _nothing_stored()


@pytest.mark.parametrize(
    "url", ["/staff/billing/invoices/", "/staff/customers/", "/staff/tickets/", "/staff/subscriptions/"]
)
def test_a_nul_byte_in_a_list_page_search_is_a_field_error(tenant: Tenant, client_for, url: str) -> None:
    response = client_for(tenant.admin).get(url, {"q": "abc\x00"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
