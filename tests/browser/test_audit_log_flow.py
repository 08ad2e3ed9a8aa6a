"""An administrator narrows the audit log by who and by what: the rows change to match; the Export
CSV link then downloads a file with exactly those rows."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.services import payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from partner_portal.services import customer_update
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_filter_the_audit_log_by_who_and_what_and_export_those_rows(page: Page) -> None:
    tenant = make_tenant("Alpha")
    invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    customer_update(customer=tenant.other_customer, actor=tenant.admin, changes={"credit_days": 45})
    customer_update(customer=tenant.customer, actor=tenant.admin, changes={"credit_days": 60})
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=invoice.total,
        received_on=clock.today(tenant.partner.time_zone), reference="BACS 0042",
    )  # fmt: skip
    finance, admin = tenant.finance.get_full_name(), tenant.admin.get_full_name()

    sign_in(page, tenant.admin.email)
    page.goto("/staff/audit/")
    rows = page.locator("table.table-audit tbody tr")
    expect(rows).to_have_count(AuditEvent.objects.filter(partner=tenant.partner).count())
    expect(rows.filter(has_text="Invoice issued")).to_have_count(1)

    # Who: the finance user — only what they did is left.
    page.get_by_label("Who").select_option(label=finance)
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Payment recorded")
    expect(rows.first).to_contain_text(finance)

    # What, with anyone: the two customer updates by the administrator.
    page.get_by_label("Who").select_option(index=0)
    page.get_by_label("What").select_option(label="Customer details updated")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2)
    for n in range(2):
        expect(rows.nth(n)).to_contain_text("Customer details updated")
        expect(rows.nth(n)).to_contain_text(admin)
    expect(page.locator("table.table-audit")).not_to_contain_text("Payment recorded")

    # Both together: the administrator recorded no payment.
    page.get_by_label("Who").select_option(label=admin)
    page.get_by_label("What").select_option(label="Payment recorded")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Nothing matches these filters")

    # The export carries the page's filters: the administrator's customer updates only.
    page.get_by_label("What").select_option(label="Customer details updated")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("audit-log-")
    with open(download.value.path(), encoding="utf-8-sig") as file:
        exported = list(csv.DictReader(io.StringIO(file.read())))
    assert [(row["action"], row["actor_email"], row["target"]) for row in exported] == [
        ("customer.updated", tenant.admin.email, tenant.other_customer.name),
        ("customer.updated", tenant.admin.email, tenant.customer.name),
    ]
