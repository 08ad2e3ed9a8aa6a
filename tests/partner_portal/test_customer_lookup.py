"""The customer box of filters and forms: a type-ahead, never a `<select>` of every customer.

Without the script the typed text is resolved on submit; the script's list comes from the
customers API (its search and tenancy are tested with the API)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.billing import issued, line
from tickets.models import Ticket

INVOICES = "/staff/billing/invoices/"


def _numbers(html: bytes) -> list[str]:
    return re.findall(r'<a[^>]* href="/staff/billing/invoices/\d+/"[^>]*>([^<]+)</a>', html.decode())


@pytest.fixture
def customers(tenant: Tenant) -> dict[str, object]:
    made = {
        "northwind": CustomerFactory(partner=tenant.partner, name="Northwind Traders", domain="northwind.example"),
        "north": CustomerFactory(partner=tenant.partner, name="North Star Ltd", domain="northstar.example"),
        "zeta": CustomerFactory(partner=tenant.partner, name="Zeta Corp", domain="zeta.example"),
    }
    for name, customer in made.items():
        issued(customer, line(name, "1", "10.00", "0"))
    for n in range(25):
        CustomerFactory(partner=tenant.partner, name=f"Filler {n:02d}")
    return made


def test_the_filter_renders_no_customer_list_only_the_chosen_one(tenant: Tenant, customers, client_for) -> None:
    client = client_for(tenant.agent)
    html = client.get(INVOICES).content.decode()
    assert "Filler 07" not in html
    assert "<option" not in html.split('name="customer_search"')[1].split("</div>")[0]
    assert 'role="combobox"' in html
    assert f'data-lookup-url="{reverse("v1:customer-list")}"' in html

    chosen = customers["zeta"]
    html = client.get(f"{INVOICES}?customer={chosen.pk}").content.decode()
    assert f'name="customer" value="{chosen.pk}"' in html
    assert 'name="customer_search" value="Zeta Corp"' in html
    assert "Filler 07" not in html


def test_typed_text_is_resolved_without_the_script(tenant: Tenant, customers, client_for) -> None:
    client = client_for(tenant.agent)
    numbers = {name: _numbers(client.get(f"{INVOICES}?customer={c.pk}").content) for name, c in customers.items()}

    # A unique start of the name or domain, an exact name whatever its case, an exact domain.
    assert _numbers(client.get(f"{INVOICES}?customer=&customer_search=zet").content) == numbers["zeta"]
    assert _numbers(client.get(f"{INVOICES}?customer_search=north+star+ltd").content) == numbers["north"]
    assert _numbers(client.get(f"{INVOICES}?customer_search=northwind.example").content) == numbers["northwind"]
    # Text typed over a chosen customer (no script to clear the id) wins over the stale id.
    stale = customers["zeta"].pk
    assert _numbers(client.get(f"{INVOICES}?customer={stale}&customer_search=Northw").content) == numbers["northwind"]


def test_several_or_no_matches_are_field_errors_that_say_so(tenant: Tenant, customers, client_for) -> None:
    client = client_for(tenant.agent)
    response = client.get(f"{INVOICES}?customer_search=North")
    assert response.context["form"].errors["customer"] == [
        "2 customers match “North”: type more of the name, or choose one from the list."
    ]
    response = client.get(f"{INVOICES}?customer_search=Contoso")
    assert response.context["form"].errors["customer"] == ["No customer's name or domain matches “Contoso”."]
    # The text stays in the box so it can be corrected.
    assert 'name="customer_search" value="Contoso"' in response.content.decode()


def test_another_partners_customer_cannot_be_chosen_by_id_or_by_name(
    tenant: Tenant, other_tenant: Tenant, customers, client_for
) -> None:
    client = client_for(tenant.agent)
    stranger = other_tenant.customer
    response = client.get(f"{INVOICES}?customer={stranger.pk}")
    assert response.context["form"].errors["customer"] == ["That customer is not one of yours."]
    assert stranger.name not in response.content.decode()
    response = client.get(f"{INVOICES}?customer_search={stranger.domain}")
    assert response.context["form"].errors["customer"] == [f"No customer's name or domain matches “{stranger.domain}”."]


@pytest.mark.parametrize(
    "url", ["/staff/billing/payments/", "/staff/subscriptions/", "/staff/tickets/", "/staff/billing/payments/new/"]
)
def test_every_customer_filter_and_form_uses_the_box(tenant: Tenant, customers, client_for, url: str) -> None:
    html = client_for(tenant.finance).get(url).content.decode()
    assert 'name="customer_search"' in html
    assert "Filler 07" not in html


def test_staff_open_a_ticket_for_a_customer_typed_by_name(tenant: Tenant, customers, client_for) -> None:
    response = client_for(tenant.agent).post(
        reverse("ticket_create"),
        {
            "customer": "",
            "customer_search": "Zeta Corp",
            "subject": "Invoice question",
            "description": "Which month does the invoice cover?",
            "category": "billing",
            "product_family": "microsoft_365",
            "severity": "C",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert Ticket.objects.get(subject="Invoice question").customer == customers["zeta"]


def test_the_box_speaks_the_users_language(tenant: Tenant, customers, client_for) -> None:
    tenant.agent.language = "ru"
    tenant.agent.save(update_fields=["language"])
    html = client_for(tenant.agent).get(INVOICES).content.decode()
    assert 'placeholder="Все клиенты"' in html
    assert 'aria-label="Подходящие клиенты"' in html
