"""Finance finds a customer's invoices by typing part of its name: the list comes from the API as
they type, the keyboard chooses, and the list page filters."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import CustomerFactory
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_type_choose_with_the_keyboard_and_filter(page: Page) -> None:
    tenant = make_tenant("Alpha")
    zeta = CustomerFactory(partner=tenant.partner, name="Zeta Corp", domain="zeta.example")
    zulu = CustomerFactory(partner=tenant.partner, name="Zulu Systems", domain="zulu.example")
    wanted = issued(zeta, line("Zeta seats", "1", "10.00", "0"))
    other = issued(zulu, line("Zulu seats", "1", "10.00", "0"))
    stranger = make_tenant("Beta").customer

    sign_in(page, tenant.finance.email)
    page.goto("/staff/billing/invoices/")
    box = page.get_by_role("combobox", name="Customer")
    box.fill("z")
    listbox = page.get_by_role("listbox", name="Matching customers")
    options = listbox.get_by_role("option")
    expect(listbox).to_contain_text("Zeta Corp")
    expect(listbox).to_contain_text("Zulu Systems")
    expect(listbox).not_to_contain_text(stranger.name)  # never another partner's

    box.fill("zet")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("zeta.example")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # chooses; the list closes
    expect(box).to_have_value("Zeta Corp")
    expect(options).to_have_count(0)
    box.press("Enter")  # sends the filter form

    main = page.locator("main")
    expect(main).to_contain_text(wanted.number)
    expect(main).not_to_contain_text(other.number)
    assert f"customer={zeta.pk}" in page.url
    expect(page.get_by_role("combobox", name="Customer")).to_have_value("Zeta Corp")
