"""Support plans over the API and on the pages: who may do what, bad input, what customers see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partner_portal.models import AuditEvent
from tests.factories.tickets import offering, plan
from tickets.models import CustomerSupportPlan, SlaTarget, SupportPlan
from tickets.services import customer_plan_assign

pytestmark = pytest.mark.django_db
GOLD = {
    "name": "Gold", "name_ru": "Золотой", "description": "Priority support.", "price_model": "monthly",
    "currency": "USD", "monthly_fee": "199.00", "hourly_rate": "90.00", "included_hours": 4,
    "targets": [{"severity": "A", "first_response_minutes": 15, "resolution_minutes": 120},
                {"severity": "A", "product_family": "azure", "first_response_minutes": 10, "resolution_minutes": 60}],
}  # fmt: skip


def test_partner_admins_create_and_change_plans_staff_read_customers_are_refused(tenant, api_for) -> None:
    admin = api_for(tenant.admin)
    created = admin.post("/api/v1/support-plans/", GOLD, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["name"], body["monthly_fee"], body["included_hours"]) == ("Gold", "199.00", 4)
    assert body["targets"] == [
        {"severity": "A", "product_family": "", "first_response_minutes": 15, "resolution_minutes": 120},
        {"severity": "A", "product_family": "azure", "first_response_minutes": 10, "resolution_minutes": 60},
    ]
    changed = admin.patch(f"/api/v1/support-plans/{body['id']}/", {"monthly_fee": "249.00"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["monthly_fee"], len(changed.json()["targets"])) == ("249.00", 2)  # targets kept

    listed = api_for(tenant.agent).get("/api/v1/support-plans/?search=gol")
    assert [p["name"] for p in listed.json()["results"]] == ["Gold"]
    assert api_for(tenant.agent).post("/api/v1/support-plans/", GOLD, format="json").status_code == 403
    assert api_for(tenant.customer_admin).get("/api/v1/support-plans/").status_code == 403
    assert api_for(tenant.admin).get("/api/v1/support-plans/?price_model=weekly").status_code == 400


def test_bad_plans_are_refused_with_the_field(tenant, api_for) -> None:
    admin = api_for(tenant.admin)
    no_fee = admin.post("/api/v1/support-plans/", {**GOLD, "monthly_fee": None}, format="json")
    assert no_fee.status_code == 400
    assert no_fee.json()["fields"] == {"monthly_fee": ["This price model needs this price."]}
    bad_target = admin.post(
        "/api/v1/support-plans/",
        {**GOLD, "targets": [{"severity": "A", "first_response_minutes": 0, "resolution_minutes": 1}]}, format="json",
    )  # fmt: skip
    assert bad_target.status_code == 400
    assert "targets" in bad_target.json()["fields"]
    plan(tenant.partner, "Gold")
    duplicate = admin.post("/api/v1/support-plans/", GOLD, format="json")
    assert (duplicate.status_code, duplicate.json()["fields"]) == (
        400,
        {"name": ["Another plan already has this name."]},
    )
    assert SupportPlan.objects.count() == 1


def test_customers_read_their_plan_and_admins_change_it(tenant, other_tenant, api_for) -> None:
    offering(tenant.partner)
    gold = plan(tenant.partner, "Gold", targets=[("A", "", 15, 120), ("A", "azure", 10, 60)])
    customer = api_for(tenant.customer_admin)
    assert customer.get("/api/v1/support-plan/").json()["plan"] is None

    admin = api_for(tenant.admin)
    put = admin.put("/api/v1/support-plan/", {"customer": tenant.customer.pk, "plan": gold.pk}, format="json")
    assert put.status_code == 200, put.json()
    mine = customer.get("/api/v1/support-plan/").json()
    assert (mine["plan"]["name"], mine["is_default"], mine["used_this_month"]) == (
        "Gold", False, {"hours": "0.00", "incidents": 0},
    )  # fmt: skip
    assert mine["sla_targets"][0] == {
        "severity": "A", "first_response_minutes": 15, "resolution_minutes": 120,
        "product_families": [{"product_family": "azure", "first_response_minutes": 10, "resolution_minutes": 60}],
    }  # fmt: skip
    assert api_for(tenant.agent).get("/api/v1/support-plan/").status_code == 400  # staff name the customer
    assert (
        api_for(tenant.agent).get(f"/api/v1/support-plan/?customer={tenant.customer.pk}").json()["plan"]["id"]
        == gold.pk
    )
    assert (
        customer.put("/api/v1/support-plan/", {"customer": tenant.customer.pk, "plan": None}, format="json").status_code
        == 403
    )
    foreign = plan(other_tenant.partner, "Foreign")
    refused = admin.put("/api/v1/support-plan/", {"customer": tenant.customer.pk, "plan": foreign.pk}, format="json")
    assert (refused.status_code, refused.json()["fields"]) == (400, {"plan": ["No such plan."]})
    elsewhere = api_for(other_tenant.admin).get(f"/api/v1/support-plan/?customer={tenant.customer.pk}")
    assert elsewhere.status_code == 400
    assert CustomerSupportPlan.objects.get().plan == gold


def test_an_admin_creates_a_plan_on_the_page_and_puts_a_customer_on_it(tenant, client_for) -> None:
    offering(tenant.partner)
    admin = client_for(tenant.admin)
    form = {
        "name": "Silver", "name_ru": "Серебряный", "price_model": "monthly", "currency": "USD", "monthly_fee": "99",
        "included_hours": "2", "included_incidents": "0", "target_B_any_first": "60", "target_B_any_resolution": "240",
    }  # fmt: skip
    half = admin.post(reverse("support_plan_create"), {**form, "target_C_azure_first": "30"})
    assert half.status_code == 400
    assert "Give both targets, or neither." in half.content.decode()
    assert admin.post(reverse("support_plan_create"), form).status_code == 302
    silver = SupportPlan.objects.get(name="Silver")
    assert [(t.severity, t.product_family, t.first_response_minutes) for t in silver.sla_targets.all()] == [
        ("B", "", 60)
    ]

    listing = admin.get(reverse("support_plan_list"), {"q": "silv", "price_model": "monthly"})
    assert "Silver" in listing.content.decode()
    assert "Silver" not in admin.get(reverse("support_plan_list"), {"price_model": "hourly"}).content.decode()

    page = reverse("customer_support_plan", args=[tenant.customer.pk])
    assert admin.post(page, {"plan": silver.pk}).status_code == 302
    assert CustomerSupportPlan.objects.get(customer=tenant.customer).plan == silver
    assert AuditEvent.objects.filter(action="customer.support_plan_changed", customer=tenant.customer).exists()
    assert client_for(tenant.agent).post(page, {"plan": ""}).status_code == 403  # agents read, admins change
    assert client_for(tenant.agent).get(reverse("support_plan_create")).status_code == 403


def test_the_customer_sees_its_plan_on_its_support_page(tenant, client_for) -> None:
    offering(tenant.partner)
    gold = plan(tenant.partner, "Gold", name_ru="Золотой", description="Priority support.", included_hours=4,
                price_model="monthly", monthly_fee="199.00", targets=[("A", "", 15, 120)])  # fmt: skip
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    page = client_for(tenant.customer_admin).get(reverse("customer_support")).content.decode()
    for text in ("Your support plan", "Gold", "Priority support.", "4 hours of support per month", "Used this month",
                 "199.00 USD per month.", "15 minutes", "2 hours"):  # fmt: skip
        assert text in page, text
    other = client_for(tenant.other_customer_admin).get(reverse("customer_support")).content.decode()
    assert "Your support plan" not in other


def test_a_russian_reader_sees_the_plan_in_russian(tenant, client_for) -> None:
    offering(tenant.partner)
    gold = plan(tenant.partner, "Gold", name_ru="Золотой", description="Priority.", description_ru="Приоритет.",
                included_incidents=3)  # fmt: skip
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    tenant.customer_admin.language = "ru"
    tenant.customer_admin.save(update_fields=["language"])
    page = client_for(tenant.customer_admin).get(reverse("customer_support")).content.decode()
    for text in ("Ваш план поддержки", "Золотой", "Приоритет.", "3 обращения в месяц", "Использовано в этом месяце"):
        assert text in page, text


def test_the_offering_page_sets_targets_per_product_family(tenant, client_for) -> None:
    offering(tenant.partner)
    admin = client_for(tenant.admin)
    form = {
        "time_zone": "UTC", "hours_mon": "09:00-18:00", "contact_portal": "on", "price_model": "included",
        "currency": "USD", "first_response_minutes_a": "60", "resolution_minutes_a": "480",
        "first_response_minutes_b": "240", "resolution_minutes_b": "1440", "first_response_minutes_c": "480",
        "resolution_minutes_c": "2880", "target_A_azure_first": "20", "target_A_azure_resolution": "200",
    }  # fmt: skip
    assert admin.post(reverse("support_offering"), form).status_code == 302
    rows = list(SlaTarget.objects.values_list("severity", "product_family", "first_response_minutes"))
    assert rows == [("A", "azure", 20)]
    page = client_for(tenant.customer_admin).get(reverse("customer_support")).content.decode()
    assert "20 minutes" in page  # the Azure row under severity A
    refused = admin.post(reverse("support_offering"), {**form, "target_A_azure_resolution": "10"})
    assert refused.status_code == 400
    assert "The resolution target cannot be shorter than the first response target." in refused.content.decode()


def test_the_plan_lists_do_not_grow_a_query_per_plan(
    tenant, api_for, client_for, django_assert_max_num_queries
) -> None:
    for name in ("One", "Two", "Three", "Four"):
        plan(tenant.partner, name, targets=[("A", "", 15, 120), ("B", "azure", 30, 240)])
    api, pages = api_for(tenant.admin), client_for(tenant.admin)
    api.get("/api/v1/support-plans/")  # warm the session and the scope
    with django_assert_max_num_queries(12):
        listed = api.get("/api/v1/support-plans/")
    assert [len(p["targets"]) for p in listed.json()["results"]] == [2, 2, 2, 2]
    with django_assert_max_num_queries(16):
        page = pages.get(reverse("support_plan_list"))
    assert page.content.decode().count('href="/staff/support/plans/') >= 4
