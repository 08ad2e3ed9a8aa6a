"""A partner admin connects Storecove (the stand-in on a local port) and registers the partner; an
invoice issued to a Peppol customer is sent, the stand-in pushes its delivery webhook to the address the
settings page shows, and staff see the document delivered and download its delivery evidence."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from billing.peppol.models import AccessPointAccount, EInvoiceSubmission
from tests.billing.peppol.conftest import API_KEY, peppol_customer, registrable
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_storecove_send_an_invoice_and_download_its_evidence(page: Page, live_server, storecove) -> None:
    storecove.keys.add(API_KEY)
    tenant = make_tenant("Alpha")
    registrable(tenant.partner)
    peppol_customer(tenant.customer)
    page.on("dialog", lambda dialog: dialog.accept())  # the "Issue this invoice?" confirmation

    # The admin enters the API key and registers the partner at Storecove.
    sign_in(page, tenant.admin.email)
    page.goto("/staff/billing/peppol/settings/")
    expect(page.locator("[data-account-state]")).to_have_attribute("data-account-state", "none")
    page.fill("input[name=api_key]", API_KEY)
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("[data-account-state]")).to_have_attribute("data-account-state", "active")
    expect(page.locator("[data-account-state]")).to_contain_text("BE:EN 0403170701")
    entity = next(iter(storecove.legal_entities.values()))
    assert (entity["party_name"], entity["tenant_id"]) == (tenant.partner.name, tenant.partner.slug)
    assert entity["peppol_identifiers"] == [
        {"superscheme": "iso6523-actorid-upis", "scheme": "BE:EN", "identifier": "0403170701"}
    ]
    webhook_url = page.locator("[data-webhook-url]").inner_text().strip()
    assert webhook_url.startswith(f"{live_server.url}/webhooks/storecove/{tenant.partner.slug}/")

    # An invoice issued to the Peppol customer goes to Storecove.
    page.goto(f"/staff/billing/invoices/new/?customer={tenant.customer.pk}")
    page.fill("input[name=lines-0-description]", "Microsoft 365 E3 — November 2026")
    page.fill("input[name=lines-0-quantity]", "10")
    page.fill("input[name=lines-0-unit_price]", "36.00")
    page.fill("input[name=lines-0-tax_rate]", "21")
    page.click("button[name=action][value=issue]")
    expect(page.locator("h1")).to_contain_text(re.compile(r"INV-\d{4}-000001"))
    expect(page.locator("[data-peppol-status]")).to_have_attribute("data-peppol-status", "sent")
    sub = EInvoiceSubmission.objects.get(partner=tenant.partner)
    assert list(storecove.submissions) == [sub.provider_guid]

    # The submission is listed as sent, with no evidence yet.
    page.goto("/staff/billing/peppol/")
    row = page.locator(f"[data-submission='{sub.number}']")
    expect(row.locator("[data-submission-status]")).to_have_attribute("data-submission-status", "sent")
    expect(row.locator("[data-evidence]")).to_have_count(0)

    # Storecove pushes the delivery webhook to the address the settings page showed.
    assert storecove.push(webhook_url, storecove.webhook(sub.provider_guid, "succeeded")) == 200
    assert (
        storecove.push(webhook_url.rsplit("/", 2)[0] + "/guess/", storecove.webhook(sub.provider_guid, "failed")) == 403
    )

    # Finance sees it delivered and downloads the evidence from the row and from the page.
    finance = page.context.browser.new_context(base_url=live_server.url, locale="en-US").new_page()  # type: ignore[union-attr]
    sign_in(finance, tenant.finance.email)
    finance.goto("/staff/billing/peppol/")
    row = finance.locator(f"[data-submission='{sub.number}']")
    expect(row.locator("[data-submission-status]")).to_have_attribute("data-submission-status", "delivered")
    expect(row).to_contain_text("Delivered")
    with finance.expect_download() as download:
        row.locator("[data-evidence]").click()
    assert download.value.suggested_filename == f"peppol-evidence-{sub.number.lower()}.json"
    with open(download.value.path(), encoding="utf-8") as saved:
        evidence = json.load(saved)
    assert evidence["guid"] == sub.provider_guid
    assert evidence["receiver"] == "BE:EN:0202239951"
    assert evidence["evidence"]["message_id"]
    finance.goto(f"/staff/billing/peppol/{sub.pk}/")
    expect(finance.locator("h1 [data-submission-status]")).to_have_attribute("data-submission-status", "delivered")
    expect(finance.locator("[data-event='delivered']")).to_have_count(1)
    with finance.expect_download() as again:
        finance.locator("a[data-evidence]").click()
    assert json.loads(open(again.value.path(), encoding="utf-8").read())["guid"] == sub.provider_guid  # noqa: SIM115
    assert AccessPointAccount.objects.get(partner=tenant.partner).status == AccessPointAccount.Status.ACTIVE
