"""An administrator sets the collections minimum per currency on the policy page: a line the page
cannot read or an unknown currency is refused on the field and nothing is saved; good lines are saved
and shown again, one currency a line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.collections.models import CollectionPolicy
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(partner) -> dict[str, str]:
    policy = CollectionPolicy.objects.filter(partner=partner).first()
    return (policy.min_amounts or {}) if policy else {}


def test_minimums_per_currency_on_the_policy_page(page: Page) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.admin.email)
    page.goto("/staff/collections/policy/")
    field = page.get_by_label("Minimum per currency")
    error = page.locator("#id_min_amounts_error")
    save = page.get_by_role("button", name="Save policy")

    field.fill("XYZ 5.00")
    save.click()
    expect(error).to_have_text("Unknown currency “XYZ”.")
    assert _stored(tenant.partner) == {}

    page.get_by_label("Minimum per currency").fill("RUB")
    save.click()
    expect(error).to_contain_text("Write each line as a currency and an amount")
    assert _stored(tenant.partner) == {}

    page.get_by_label("Minimum per currency").fill("JPY 10.50")
    save.click()
    expect(error).to_have_text("Enter the minimum for JPY with at most its currency's decimal places.")
    assert _stored(tenant.partner) == {}

    page.get_by_label("Minimum per currency").fill("rub 900.00\nEUR 15")
    save.click()
    expect(page.locator(".messages")).to_contain_text("Collections policy saved")
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert policy.min_amounts == {"EUR": "15.00", "RUB": "900.00"}
    assert (policy.minimum_for("RUB"), policy.minimum_for("USD")) == (Decimal("900.00"), policy.min_amount)

    page.goto("/staff/collections/policy/")
    expect(page.get_by_label("Minimum per currency")).to_have_value("EUR 15.00\nRUB 900.00")
