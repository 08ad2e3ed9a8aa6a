"""Staff and customer pages: what each role sees, list features, forms that refuse bad input."""

from __future__ import annotations

import re

import pytest

from partner_portal.models import AuditEvent, Customer
from tests.conftest import Tenant
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _names(html: bytes) -> list[str]:
    """Customer names in the list table, in order (links to the detail page)."""
    return re.findall(r'<a[^>]+href="/staff/customers/\d+/"[^>]*>([^<]+)</a>', html.decode())


def test_anonymous_is_sent_to_login(db: None, client) -> None:
    for url in ("/", "/staff/", "/staff/customers/", "/my/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/staff/", "/staff/customers/", "/staff/team/"])
def test_customer_users_cannot_open_staff_pages(tenant: Tenant, client_for, url: str) -> None:
    assert client_for(tenant.customer_admin).get(url).status_code == 403


def test_staff_do_not_get_the_customer_home(tenant: Tenant, client_for) -> None:
    assert client_for(tenant.agent).get("/my/").status_code == 403


def test_dashboard_shows_the_partners_figures(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.agent).get("/staff/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.customers, counts.customer_users, counts.staff) == (2, 3, 3)
    assert b"Alpha Customer One" in response.content


class TestCustomerList:
    @pytest.fixture
    def many(self, tenant: Tenant) -> None:
        CustomerFactory(partner=tenant.partner, name="Zeta Corp", currency="EUR", credit_days=60)
        CustomerFactory(partner=tenant.partner, name="Beta Labs", domain="betalabs.example", language="ru")
        CustomerFactory.create_batch(30, partner=tenant.partner)

    def test_search_matches_name_domain_and_email(self, tenant: Tenant, many: None, client_for) -> None:
        client = client_for(tenant.agent)
        assert _names(client.get("/staff/customers/?q=zeta").content) == ["Zeta Corp"]
        assert _names(client.get("/staff/customers/?q=betalabs.example").content) == ["Beta Labs"]
        by_tenant = client.get(f"/staff/customers/?q={tenant.customer.tenant_id}")
        assert _names(by_tenant.content) == ["Alpha Customer One"]

    def test_filters_combine(self, tenant: Tenant, many: None, client_for) -> None:
        client = client_for(tenant.agent)
        assert _names(client.get("/staff/customers/?currency=EUR").content) == ["Zeta Corp"]
        assert _names(client.get("/staff/customers/?language=ru").content) == ["Beta Labs"]
        assert _names(client.get("/staff/customers/?language=ru&currency=EUR").content) == []

    def test_sorting_and_keyset_pages_cover_every_customer_once(self, tenant: Tenant, many: None, client_for) -> None:
        client = client_for(tenant.agent)
        seen, url = [], "/staff/customers/?sort=-name"
        while url:
            response = client.get(url)
            seen += _names(response.content)
            page = response.context["page"]
            url = f"/staff/customers/?sort=-name&cursor={page.next_cursor}" if page.next_cursor else None
        expected = list(
            Customer.objects.for_partner(tenant.partner).order_by("-name", "-pk").values_list("name", flat=True)
        )
        assert seen == expected
        assert len(seen) == 34

    def test_the_page_runs_a_fixed_number_of_queries(
        self, tenant: Tenant, many: None, client_for, django_assert_max_num_queries
    ) -> None:
        client = client_for(tenant.agent)
        client.get("/staff/customers/")  # warm the session
        with django_assert_max_num_queries(8):
            response = client.get("/staff/customers/")
        assert len(_names(response.content)) == 25

    def test_a_bad_filter_value_shows_the_list_unfiltered_with_an_error(self, tenant: Tenant, client_for) -> None:
        response = client_for(tenant.agent).get("/staff/customers/?currency=XXX&sort=bogus")
        assert response.status_code == 200
        assert response.context["form"].errors
        assert len(_names(response.content)) == 2


class TestCustomerForms:
    def test_finance_creates_a_customer(self, tenant: Tenant, client_for) -> None:
        response = client_for(tenant.finance).post(
            "/staff/customers/new/",
            {
                "name": "Trey Research",
                "tenant_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                "currency": "EUR",
                "language": "en",
                "credit_days": 30,
                "collections_extra_grace_days": 0,
            },
        )
        customer = Customer.objects.get(name="Trey Research")
        assert response["Location"] == f"/staff/customers/{customer.pk}/"
        assert customer.partner == tenant.partner
        assert AuditEvent.objects.filter(action="customer.created", actor=tenant.finance).exists()

    def test_bad_input_is_shown_and_nothing_is_saved(self, tenant: Tenant, client_for) -> None:
        response = client_for(tenant.admin).post(
            f"/staff/customers/{tenant.customer.pk}/edit/",
            {
                "name": "",
                "tenant_id": str(tenant.customer.tenant_id),
                "currency": "USD",
                "language": "en",
                "credit_days": 999,
                "collections_extra_grace_days": 0,
            },
        )
        assert response.status_code == 400
        assert set(response.context["form"].errors) == {"name", "credit_days"}
        tenant.customer.refresh_from_db()
        assert (tenant.customer.name, tenant.customer.credit_days) == ("Alpha Customer One", 30)

    def test_a_duplicate_tenant_id_is_refused_on_the_field(self, tenant: Tenant, client_for) -> None:
        response = client_for(tenant.admin).post(
            f"/staff/customers/{tenant.other_customer.pk}/edit/",
            {
                "name": "Renamed",
                "tenant_id": str(tenant.customer.tenant_id),
                "currency": "USD",
                "language": "en",
                "credit_days": 30,
                "collections_extra_grace_days": 0,
            },
        )
        assert response.status_code == 400
        assert "tenant_id" in response.context["form"].errors
        tenant.other_customer.refresh_from_db()
        assert tenant.other_customer.name == "Alpha Customer Two"

    def test_agents_read_but_do_not_edit(self, tenant: Tenant, client_for) -> None:
        client = client_for(tenant.agent)
        assert client.get(f"/staff/customers/{tenant.customer.pk}/").status_code == 200
        assert client.get(f"/staff/customers/{tenant.customer.pk}/edit/").status_code == 403
        assert client.post("/staff/customers/new/", {"name": "X"}).status_code == 403

    def test_detail_shows_the_customer_users_and_history(self, tenant: Tenant, client_for) -> None:
        client_for(tenant.admin).post(
            f"/staff/customers/{tenant.customer.pk}/edit/",
            {
                "name": "Alpha One Renamed",
                "tenant_id": str(tenant.customer.tenant_id),
                "currency": "USD",
                "language": "en",
                "credit_days": 30,
                "collections_extra_grace_days": 0,
            },
        )
        response = client_for(tenant.agent).get(f"/staff/customers/{tenant.customer.pk}/")
        assert tenant.customer_admin.email.encode() in response.content
        assert tenant.other_customer_admin.email.encode() not in response.content
        assert [e.action for e in response.context["activity"]] == ["customer.updated"]


def test_customer_home_shows_the_customer_and_its_partners_support(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.customer_member).get("/my/")
    assert response.status_code == 200
    assert b"Alpha Customer One" in response.content
    assert tenant.partner.support_email.encode() in response.content
    assert b"Alpha Customer Two" not in response.content


def test_language_switch_renders_pages_in_russian_and_remembers_it(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/staff/customers/"})
    assert response.status_code == 302
    page = client.get("/staff/customers/")
    assert '<html lang="ru"' in page.content.decode()
    assert "Клиенты" in page.content.decode()
    tenant.agent.refresh_from_db()
    assert tenant.agent.language == "ru"
