"""Finance enters November's Microsoft payable by hand, then imports November's reconciliation file,
which says another amount: the hand-entered amount still stands, the payable's page shows both figures
and the difference, finance chooses the imported one, and the audit log shows who chose what."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_keeps_the_payable_entered_by_hand_until_finance_chooses(page: Page, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.finance.email)

    # By hand: 9,450.00 USD for November, due on 30 January.
    page.goto("/staff/billing/")
    page.click("text=Record Microsoft payable")
    page.fill("input[name=period]", "2026-11")
    page.select_option("select[name=currency]", "USD")
    page.fill("input[name=amount]", "9450.00")
    page.fill("input[name=due_date]", "2027-01-30")
    page.click("main form.form-card button[type=submit]")
    expect(page.locator("main")).to_contain_text("9,450.00\xa0USD")

    # November's reconciliation file says 1,640.00.
    content = csv_bytes(
        NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id), subtotal="1640.00", total="1640.00")]
    )
    page.goto("/staff/billing/reconciliation/")
    page.set_input_files("input[name=file]", files=[{"name": "G1.csv", "mimeType": "text/csv", "buffer": content}])
    page.fill("input[name=period]", "2026-11")
    page.click("text=Upload and import")
    footer = page.locator(".payable-line")
    expect(footer).to_contain_text("Due to Microsoft for 2026-11: 9,450.00\xa0USD")  # not replaced

    # The payable's page: both figures, the difference, the hand-entered one standing.
    footer.locator("a").click()
    difference = page.locator("section[aria-labelledby=payable-difference-title]")
    expect(difference).to_contain_text("The reconciliation files say another amount than the one entered by hand.")
    expect(difference.locator("dd").nth(0)).to_have_text("9,450.00\xa0USD · stands")
    expect(difference.locator("dd").nth(1)).to_have_text("1,640.00\xa0USD")
    expect(difference.locator("dd").nth(2)).to_have_text("-7,810.00\xa0USD")

    # Finance takes the imported amount.
    difference.get_by_role("button", name="Use the imported amount").click()
    expect(page.locator(".messages")).to_contain_text(
        "Due to Microsoft for 2026-11: 1,640.00 USD (Reconciliation import)."
    )
    expect(difference.locator("dd").nth(0)).to_have_text("9,450.00\xa0USD")
    expect(difference.locator("dd").nth(1)).to_have_text("1,640.00\xa0USD · stands")
    expect(difference.get_by_role("button", name="Use the imported amount")).to_be_disabled()

    # The audit log says who chose which amount, instead of which.
    page.goto("/staff/audit/")
    page.get_by_label("What").select_option(label="Microsoft payable amount chosen")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.table-audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(tenant.finance.get_full_name())
    expect(rows.first).to_contain_text("1640.00")
    expect(rows.first).to_contain_text("9450.00")
