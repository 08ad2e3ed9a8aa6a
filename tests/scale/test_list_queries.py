"""Every staff list page and API list runs at most ten queries whatever the rows: on the seeded data of
`seed_scale`, for the first page, the next page through its link, a filter and a search."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from billing.invoicing.models import Invoice
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES, Customer, Membership, Role, User
from tests.conftest import require

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10

# (URL name, a filter, a search)
PAGES = [
    ("customer_list", {"currency": "EUR"}, {"q": "Contoso"}),
    ("audit_log", {"action": "invoice.issued"}, {"q": "INV-"}),
    ("invoice_list", {"status": "open"}, {"q": "INV-"}),
    ("payment_list", {}, {}),
    ("subscription_list", {"status": "suspended"}, {"q": "Azure"}),
    ("subscription_difference_list", {"state": "open"}, {"q": "Customer"}),
    ("ticket_list", {"status": "open"}, {"q": "Invoice"}),
    ("escalation_list", {}, {}),
    ("collections_overview", {}, {}),
    ("support_plan_list", {}, {"q": "Plan"}),
    ("canned_reply_list", {}, {"q": "invoice"}),
    ("quarantine_list", {}, {}),
    ("knowledge_article_list", {"status": "published"}, {"q": "invoice"}),
    ("einvoice_submission_list", {"status": "rejected"}, {"q": "INV-"}),
]
# Lists the scale data fills with one page only.
ONE_PAGE = {"escalation_list", "subscription_difference_list", "collections_overview", "support_plan_list",
            "canned_reply_list", "quarantine_list", "knowledge_article_list",
            "einvoice_submission_list"}  # fmt: skip
APIS = [
    ("customer-list", {"currency": "EUR"}, {"search": "Contoso"}),
    ("invoice-list", {"status": "paid"}, {"search": "INV-"}),
    ("payment-list", {}, {}),
    ("credit-note-list", {}, {}),
    ("subscription-list", {"status": "suspended"}, {"search": "Azure"}),
    ("subscription-difference-list", {"state": "open"}, {}),
    ("ticket-list", {"status": "open"}, {"search": "Invoice"}),
    ("escalation-list", {}, {}),
    ("notice-list", {}, {}),
    ("v1:api-token-list", {}, {}),
    ("v1:collection-run-list", {}, {}),
    ("v1:entitlement-list", {}, {}),
    ("v1:invoice-export-list", {}, {}),
    ("v1:reconciliation-import-list", {}, {}),
    ("v1:support-plan-list", {}, {}),
]


@pytest.fixture
def admin() -> User:
    require(connection.vendor == "postgresql", "seed_scale writes PostgreSQL SQL")
    call_command("seed_scale", customers=60, seed=2, stdout=io.StringIO())
    return User.objects.get(email="admin@scale.scale.example")


@pytest.mark.parametrize(("name", "filters", "search"), PAGES, ids=[p[0] for p in PAGES])
def test_list_pages_run_a_fixed_number_of_queries(
    admin: User, name: str, filters: dict[str, str], search: dict[str, str], django_assert_max_num_queries
) -> None:
    client = Client()
    client.force_login(admin)
    url = reverse(name)
    with django_assert_max_num_queries(MAX_QUERIES):
        first = client.get(url)
    assert first.status_code == 200
    page = first.context["page"]
    if name not in ONE_PAGE:
        assert page.next_cursor, "the seeded data fills more than one page"
        with django_assert_max_num_queries(MAX_QUERIES):
            second = client.get(f"{url}?{urlencode({'cursor': page.next_cursor})}")
        assert second.status_code == 200
        assert {r.pk for r in second.context["page"].items}.isdisjoint(r.pk for r in page.items)
    for query in (filters, search):
        if query:
            with django_assert_max_num_queries(MAX_QUERIES):
                assert client.get(f"{url}?{urlencode(query)}").status_code == 200


def test_every_list_page_is_measured_here() -> None:
    """A new staff list page (a KeysetListView) cannot escape the query bound: it must be named in PAGES.
    (Customers' lists are measured with a customer's session in their own tests.)"""
    lists = {
        pattern.name
        for pattern in all_patterns(get_resolver().url_patterns)
        if isinstance(getattr(pattern.callback, "view_class", None), type)
        and issubclass(pattern.callback.view_class, KeysetListView)
        and set(pattern.callback.view_class.allowed_roles) & set(STAFF_ROLES)
    }
    assert lists == {name for name, _filters, _search in PAGES}


def test_every_api_list_is_measured_here() -> None:
    """A new list operation of the API (not nested under an object) must be named in APIS."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lists = {
        path
        for path, operations in schema["paths"].items()
        if "{" not in path and operations.get("get", {}).get("operationId", "").endswith("_list")
    }
    assert lists == {reverse(name if ":" in name else f"api:{name}") for name, _filters, _search in APIS}


def all_patterns(patterns: list) -> list[URLPattern]:
    found: list[URLPattern] = []
    for pattern in patterns:
        found += all_patterns(pattern.url_patterns) if isinstance(pattern, URLResolver) else [pattern]
    return found


@pytest.mark.parametrize(("name", "filters", "search"), APIS, ids=[a[0] for a in APIS])
def test_api_lists_run_a_fixed_number_of_queries(
    admin: User, name: str, filters: dict[str, str], search: dict[str, str], django_assert_max_num_queries
) -> None:
    api = APIClient()
    api.force_authenticate(admin)
    url = reverse(f"api:{name}") if ":" not in name else reverse(name)
    with django_assert_max_num_queries(MAX_QUERIES):
        first = api.get(url)
    assert first.status_code == 200, first.content
    if isinstance(first.data, dict) and first.data.get("next"):  # entitlements: a few rows, unpaged
        with django_assert_max_num_queries(MAX_QUERIES):
            assert api.get(first.data["next"]).status_code == 200
    for query in (filters, search):
        if query:
            with django_assert_max_num_queries(MAX_QUERIES):
                assert api.get(f"{url}?{urlencode(query)}").status_code == 200


def test_the_self_service_page_of_a_long_history_runs_a_fixed_number_of_queries(
    admin: User, django_assert_max_num_queries
) -> None:
    call_command("seed_scale", customers=60, seed=2, big_customer_invoices=120, stdout=io.StringIO())
    customer = Customer.objects.filter(partner=admin.membership.partner).order_by("pk").first()
    assert Invoice.objects.filter(customer=customer).count() == 130
    user = User.objects.create_user(email="owner@customer0.example")
    Membership.objects.create(user=user, partner=customer.partner, customer=customer, role=Role.CUSTOMER_ADMIN)
    client = Client()
    client.force_login(user)
    # Not a list page but a page of several cards (account, payments, subscriptions, collections,
    # support); its count stays the same whatever the history and however deep the invoices are paged.
    # 25: whether the partner takes card payments (the Pay buttons), the collections banner's overdue
    # sum and the five oldest overdue invoices it names, the saved card and the last autopay charge.
    with django_assert_max_num_queries(25) as few:
        first = client.get(reverse("customer_home"))
    cursor = first.context["invoices"].next_cursor
    assert cursor
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"{reverse('customer_home')}?{urlencode({'cursor': cursor})}").status_code == 200


def test_a_long_list_counts_up_to_its_limit(admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from partner_portal.views import CustomerListView

    client = Client()
    client.force_login(admin)
    assert "<strong>60</strong> customers" in client.get(reverse("customer_list")).content.decode()
    monkeypatch.setattr(CustomerListView, "count_limit", 50)
    page = client.get(reverse("customer_list")).content.decode()
    assert "<strong>50+</strong> customers" in page
    # A filter that selects fewer rows than the limit counts them exactly.
    assert (
        "<strong>15</strong> customers match" in client.get(reverse("customer_list") + "?currency=EUR").content.decode()
    )
