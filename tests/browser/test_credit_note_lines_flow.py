"""Finance credits an invoice by lines (two licences at 20 % VAT, one support hour at 5 %): the credit
note's page shows the lines, its net, the VAT per rate and the total, and the PDF downloaded from it
prints the same lines and tax breakdown."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.models import CreditNote
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant, require
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def _pdf_text(path: str) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", path, "-"], capture_output=True, check=True)
    return re.sub(r"[ \t\xa0]+", " ", done.stdout.decode())


def test_credit_by_lines_shows_net_vat_per_rate_and_total_on_the_page_and_the_pdf(page: Page) -> None:
    tenant = make_tenant("Alpha")
    invoice = issued(
        tenant.customer,
        line("Microsoft 365 E3", "10", "36.00", "20"),  # 360.00 + 72.00 VAT
        line("Support hours", "4", "10.00", "5"),  # 40.00 + 2.00 VAT
    )
    licences, support = invoice.lines.order_by("pk")

    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/")
    page.get_by_role("link", name="Issue credit note").click()
    expect(page.locator("input[name=amount]")).to_have_value("")  # nothing to clear before typing quantities
    page.fill(f"input[name=line_{licences.pk}]", "2")
    page.fill(f"input[name=line_{support.pk}]", "1")
    page.fill("textarea[name=reason]", "Two licences and one support hour returned")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".messages")).to_contain_text("Credit note")
    expect(page.locator(".messages")).to_contain_text("96.90 USD issued against")

    note = CreditNote.objects.get(invoice=invoice)
    page.get_by_role("link", name=note.number).click()
    expect(page.locator("h1")).to_have_text(f"Credit note {note.number}")
    credited = page.locator(".credited-lines tbody tr")
    expect(credited).to_have_count(2)
    expect(credited.nth(0)).to_contain_text("Microsoft 365 E3")
    expect(credited.nth(0)).to_contain_text("72.00\xa0USD")
    expect(credited.nth(1)).to_contain_text("Support hours")
    expect(credited.nth(1)).to_contain_text("10.00\xa0USD")
    bands = page.locator(".vat-breakdown tbody tr")
    expect(bands).to_have_count(2)
    expect(bands.filter(has_text="20")).to_contain_text("72.00\xa0USD")  # net of two licences
    expect(bands.filter(has_text="20")).to_contain_text("14.40\xa0USD")
    expect(bands.filter(has_text="5%")).to_contain_text("10.00\xa0USD")  # net of one hour
    expect(bands.filter(has_text="5%")).to_contain_text("0.50\xa0USD")
    totals = page.locator("dl.totals")
    expect(totals).to_contain_text("82.00\xa0USD")
    expect(totals).to_contain_text("14.90\xa0USD")
    expect(totals).to_contain_text("96.90\xa0USD")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    text = _pdf_text(str(download.value.path()))
    assert note.number in text
    assert re.search(r"Microsoft 365 E3\s+72\.00", text), text  # each credited line at its net
    assert re.search(r"2 × 36\.00, tax 20% · Reason: Two licences and one support hour returned", text), text
    assert re.search(r"Support hours\s+10\.00", text), text
    assert re.search(r"Net 82\.00", text), text
    assert re.search(r"Tax 20(\.00)?% on 72\.00 14\.40", text), text
    assert re.search(r"Tax 5(\.00)?% on 10\.00 0\.50", text), text
    assert re.search(r"Total 96\.90", text), text
