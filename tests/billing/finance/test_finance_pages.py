"""Finance pages: the dashboard (receivables by age, collections, what is due to Microsoft), the
Microsoft payable form, bulk PDF export with its progress, and the reconciliation pages — who may
use them, and that nobody reaches another partner's rows."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import formats

from billing.finance.selectors import (
    AgingBucket,
    CurrencyAging,
    CurrencyCollected,
    microsoft_payables_outlook,
    payments_collected,
    receivables_aging,
)
from billing.invoicing.models import ExportJob, Invoice
from billing.invoicing.services import AllocationInput, invoice_void, payment_record
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.services import microsoft_payable_set
from partner_portal import clock
from partner_portal.tenancy import scope_for_user
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued, line
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row, subscription

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
DASHBOARD = "/staff/billing/"
EXPORTS = "/staff/billing/exports/"
RECONCILIATION = "/staff/billing/reconciliation/"
E3_ID = "5b0c6a3e-6f1b-4a7e-9d55-0c8f2a7b1e01"
AZURE_ID = "8f2e4d6c-1a3b-4c5d-8e9f-a0b1c2d3e4f5"
FOURTH_COFFEE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    """Every page and service in these tests sees 20 November 2026 (noon UTC; the partners are in UTC)."""
    with clock.frozen(TODAY):
        yield


def _amount(value: str) -> Decimal:
    return Decimal(value)


def _due_in(days_past_due: int) -> dt.date:
    """The issue date that makes an invoice `days_past_due` days past due today (30-day terms)."""
    return TODAY - dt.timedelta(days=days_past_due + 30)


def _pay(customer, amount: str, on: dt.date, invoice: Invoice | None = None):
    allocations = [AllocationInput(invoice=invoice, amount=Decimal(amount))] if invoice is not None else None
    return payment_record(
        partner=customer.partner, customer=customer, actor=None, amount=Decimal(amount), received_on=on,
        allocations=allocations,
    )  # fmt: skip


def _text(html: bytes) -> str:
    """The page's text without tags and with plain spaces, for asserting sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()).replace("\xa0", " "))


# ---- Receivables by age ----------------------------------------------------------------------------


@pytest.fixture
def aging_book(tenant: Tenant, other_tenant: Tenant) -> dict[str, Invoice]:
    """Open invoices at each edge of each bucket, and what must not count (paid, void, drafts, the
    other partner's)."""
    eur = tenant.other_customer
    eur.currency = "EUR"
    eur.save(update_fields=["currency"])
    one = tenant.customer
    book = {
        "not_due": issued(one, line("Not due", "1", "100.00", "0"), on=_due_in(-12)),
        "due_today": issued(one, line("Due today", "1", "50.00", "0"), on=_due_in(0)),
        "one_day": issued(one, line("One day", "1", "200.00", "0"), on=_due_in(1)),
        "thirty": issued(one, line("Thirty", "1", "100.00", "20.00"), on=_due_in(30)),  # 120.00 with tax
        "thirty_one": issued(one, line("Thirty-one", "1", "300.00", "0"), on=_due_in(31)),
        "partly_paid": issued(one, line("Partly paid", "1", "100.00", "0"), on=_due_in(60)),
        "ninety": issued(one, line("Ninety", "1", "400.00", "0"), on=_due_in(90)),
        "ninety_one": issued(one, line("Ninety-one", "1", "500.00", "0"), on=_due_in(91)),
        "paid": issued(one, line("Paid", "1", "999.00", "0"), on=_due_in(45)),
        "void": issued(one, line("Void", "1", "888.00", "0"), on=_due_in(45)),
        "eur": issued(eur, line("Euro", "1", "70.00", "0"), on=_due_in(5)),
    }
    _pay(one, "40.00", dt.date(2026, 11, 5), invoice=book["partly_paid"])  # 60.00 left, 31–60 days
    _pay(one, "999.00", dt.date(2026, 10, 15), invoice=book["paid"])
    invoice_void(invoice=book["void"], actor=None, reason="Issued twice")
    draft(one, line("Draft", "1", "777.00", "0"))
    issued(other_tenant.customer, line("Foreign", "1", "5000.00", "0"), on=_due_in(100))
    return book


def test_open_balances_are_bucketed_by_days_past_due_per_currency(
    tenant: Tenant, aging_book: dict[str, Invoice], django_assert_num_queries
) -> None:
    scope = scope_for_user(tenant.finance)
    with django_assert_num_queries(1):
        aging = receivables_aging(scope=scope)
    assert aging == [
        CurrencyAging(
            "EUR",
            (
                AgingBucket("current", _amount("0.00"), 0),
                AgingBucket("1_30", _amount("70.00"), 1),
                AgingBucket("31_60", _amount("0.00"), 0),
                AgingBucket("61_90", _amount("0.00"), 0),
                AgingBucket("90_plus", _amount("0.00"), 0),
            ),
        ),
        CurrencyAging(
            "USD",
            (
                AgingBucket("current", _amount("150.00"), 2),  # not due yet, and due today
                AgingBucket("1_30", _amount("320.00"), 2),  # 1 day and 30 days
                AgingBucket("31_60", _amount("360.00"), 2),  # 31 days, and 60 days partly paid
                AgingBucket("61_90", _amount("400.00"), 1),  # exactly 90 days
                AgingBucket("90_plus", _amount("500.00"), 1),  # 91 days
            ),
        ),
    ]
    assert (aging[1].total, aging[1].overdue, aging[1].invoices) == (_amount("1730.00"), _amount("1580.00"), 8)


def test_the_dashboard_shows_the_aging_as_a_chart_and_a_table(
    tenant: Tenant, aging_book: dict[str, Invoice], client_for
) -> None:
    response = client_for(tenant.finance).get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    # The chart: server-rendered bars, the largest bucket of each currency full width.
    assert html.count('class="bar"') == 10
    assert 'style="width: 100.0%"' in html
    assert 'style="width: 64.0%"' in html  # USD 320.00 of 500.00
    assert 'style="width: 0.0%"' in html  # empty buckets stay empty
    text = _text(response.content)
    assert "Over 90 days overdue 500.00 USD 1 invoice · 28.9 %" in text
    # The table: one row per bucket, one column per currency, exact amounts.
    assert "31–60 days overdue 0.00 EUR 360.00 USD" in text
    assert "Total open 70.00 EUR 1,730.00 USD" in text
    assert "5,000.00" not in text  # the other partner's invoice


def test_a_russian_page_keeps_css_widths_with_a_dot(tenant: Tenant, aging_book: dict[str, Invoice], client_for) -> None:
    client = client_for(tenant.finance)
    client.post("/i18n/setlang/", {"language": "ru", "next": DASHBOARD})
    html = client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'lang="ru"' in html
    assert 'style="width: 64.0%"' in html
    assert "1\xa0730,00\xa0USD" in html


def test_nothing_open_says_so(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).get(DASHBOARD)
    assert response.status_code == 200
    assert b"Nothing is owed" in response.content
    assert b'class="bar"' not in response.content


# ---- Collected ---------------------------------------------------------------------------------------


def test_collected_this_month_and_last_month(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    one = tenant.customer
    _pay(one, "100.00", dt.date(2026, 11, 1))
    _pay(one, "25.50", TODAY)
    _pay(one, "300.00", dt.date(2026, 10, 31))
    _pay(one, "40.00", dt.date(2026, 10, 1))
    _pay(one, "999.00", dt.date(2026, 9, 30))  # two months ago
    _pay(other_tenant.customer, "777.00", TODAY)
    collected = payments_collected(scope=scope_for_user(tenant.finance))
    assert (collected.month_start, collected.last_month_start) == (dt.date(2026, 11, 1), dt.date(2026, 10, 1))
    assert collected.by_currency == [CurrencyCollected("USD", _amount("125.50"), _amount("340.00"), 2, 2)]

    text = _text(client_for(tenant.finance).get(DASHBOARD).content)
    assert "This month 1–20 November Last month October" in text
    assert "USD 125.50 USD 2 payments 340.00 USD 2 payments" in text


def test_collected_in_the_partners_time_zone(tenant: Tenant) -> None:
    """At 22:00 UTC on 30 November it is already 1 December in Moscow: a new month there."""
    tenant.partner.time_zone = "Europe/Moscow"
    tenant.partner.save(update_fields=["time_zone"])
    with clock.frozen(dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC)):
        _pay(tenant.customer, "10.00", dt.date(2026, 11, 30))  # received on the last day of November
        collected = payments_collected(scope=scope_for_user(tenant.finance))
    assert (collected.today, collected.month_start) == (dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert collected.by_currency == [CurrencyCollected("USD", _amount("0"), _amount("10.00"), 0, 1)]


# ---- What is due to Microsoft ------------------------------------------------------------------------


@pytest.fixture
def cash(tenant: Tenant) -> None:
    """1,000.00 USD due on 2 December, and 100.00 USD already collected this month (kept as credit)."""
    issued(tenant.customer, line("Seats", "1", "1000.00", "0"), on=dt.date(2026, 11, 2))
    _pay(CustomerFactory(partner=tenant.partner, name="Prepaid Ltd"), "100.00", dt.date(2026, 11, 10))


def _payable(tenant: Tenant, period: str, amount: str, due: dt.date, currency: str = "USD") -> MicrosoftPayable:
    return microsoft_payable_set(
        partner=tenant.partner, actor=None, period=period, amount=Decimal(amount), currency=currency, due_date=due
    )


WARNING = "are less than what is due to Microsoft"


@pytest.mark.usefixtures("cash")
def test_a_payable_not_covered_by_receivables_and_cash_is_flagged(tenant: Tenant, client_for) -> None:
    _payable(tenant, "2026-11", "1200.00", dt.date(2026, 12, 31))
    text = _text(client_for(tenant.finance).get(DASHBOARD).content)
    date = formats.date_format(dt.date(2026, 12, 31), "DATE_FORMAT")
    assert f"Receivables due by {date} (1,100.00 USD) {WARNING} (1,200.00 USD). Short by 100.00 USD." in text
    assert "Microsoft payable 2026-11 (USD) is not covered" in text
    assert "Cover is the cash collected this month plus the open balances of invoices due on or before" in text


@pytest.mark.usefixtures("cash")
def test_a_covered_payable_raises_no_warning(tenant: Tenant, client_for) -> None:
    _payable(tenant, "2026-11", "1100.00", dt.date(2026, 12, 31))  # exactly covered
    _payable(tenant, "2026-10", "9999.00", dt.date(2026, 11, 19))  # due yesterday: past, not upcoming
    response = client_for(tenant.finance).get(DASHBOARD)
    text = _text(response.content)
    assert WARNING not in text
    assert "2026-11" in text
    assert "Covered" in text
    assert "Earlier payables" in text
    assert "9,999.00 USD" in text


@pytest.mark.usefixtures("cash")
def test_receivables_due_after_the_payable_do_not_cover_it(tenant: Tenant) -> None:
    _payable(tenant, "2026-11", "500.00", dt.date(2026, 11, 30))  # the 1,000.00 is due on 2 December
    (coverage,) = microsoft_payables_outlook(scope=scope_for_user(tenant.finance)).upcoming
    assert (coverage.receivables_due, coverage.collected, coverage.cover) == (
        _amount("0"), _amount("100.00"), _amount("100.00"),
    )  # fmt: skip
    assert (coverage.covered, coverage.shortfall) == (False, _amount("400.00"))


@pytest.mark.usefixtures("cash")
def test_payables_of_one_currency_are_covered_together(tenant: Tenant, client_for) -> None:
    """Each is covered alone (1,100.00 each), not both: the second one is flagged."""
    _payable(tenant, "2026-10", "700.00", dt.date(2026, 12, 10))
    _payable(tenant, "2026-11", "700.00", dt.date(2026, 12, 31))
    _payable(tenant, "2026-11", "5.00", dt.date(2026, 12, 31), currency="EUR")  # nothing in EUR
    upcoming = microsoft_payables_outlook(scope=scope_for_user(tenant.finance)).upcoming
    summary = [(c.payable.period, c.payable.currency, c.cover, c.due_to_microsoft, c.covered) for c in upcoming]
    assert summary == [
        ("2026-10", "USD", _amount("1100.00"), _amount("700.00"), True),
        ("2026-11", "EUR", _amount("0"), _amount("5.00"), False),
        ("2026-11", "USD", _amount("1100.00"), _amount("1400.00"), False),
    ]
    text = _text(client_for(tenant.finance).get(DASHBOARD).content)
    assert text.count(WARNING) == 2
    assert "are less than what is due to Microsoft by then (1,400.00 USD, with the payables due before it)." in text


# ---- Recording a payable by hand ---------------------------------------------------------------------

PAYABLE_NEW = "/staff/billing/payables/new/"


def _payable_post(**values: str) -> dict[str, str]:
    return {
        "period": "2026-11",
        "currency": "USD",
        "amount": "12345.67",
        "due_date": "2027-01-30",
        "notes": "",
    } | values


def test_finance_records_a_payable_by_hand(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    form = client.get(PAYABLE_NEW)
    assert form.status_code == 200
    assert form.context["form"].initial == {
        "period": "2026-10", "currency": "USD", "due_date": dt.date(2026, 12, 31),
    }  # fmt: skip
    response = client.post(PAYABLE_NEW, _payable_post(notes="Microsoft invoice G0123"))
    assert response.status_code == 302
    assert response["Location"] == f"{DASHBOARD}#payables"
    payable = MicrosoftPayable.objects.get(partner=tenant.partner)
    assert (payable.period, payable.currency, payable.amount, payable.due_date, payable.notes) == (
        "2026-11", "USD", _amount("12345.67"), dt.date(2027, 1, 30), "Microsoft invoice G0123",
    )  # fmt: skip
    assert (payable.source, payable.due_date_manual) == ("manual", True)
    dashboard = _text(client.get(DASHBOARD).content)
    assert "Due to Microsoft for 2026-11: 12,345.67 USD." in dashboard


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"period": "2026-13"}, "period"),
        ({"period": "11/2026"}, "period"),
        ({"period": ""}, "period"),
        ({"due_date": ""}, "due_date"),
        ({"due_date": "31/12/2026"}, "due_date"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
def test_a_bad_payable_is_refused_with_the_field_in_error(
    tenant: Tenant, client_for, values: dict[str, str], field: str
) -> None:
    response = client_for(tenant.finance).post(PAYABLE_NEW, _payable_post(**values))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert not MicrosoftPayable.objects.exists()


def test_editing_a_payable_keeps_its_period_and_currency(tenant: Tenant, client_for) -> None:
    payable = _payable(tenant, "2026-11", "100.00", dt.date(2027, 1, 30))
    client = client_for(tenant.admin)
    url = f"/staff/billing/payables/{payable.pk}/edit/"
    assert client.get(url).context["form"].initial["amount"] == _amount("100.00")
    response = client.post(url, _payable_post(period="2020-01", currency="EUR", amount="150.00"))
    assert response.status_code == 302
    assert list(MicrosoftPayable.objects.values_list("period", "currency", "amount")) == [
        ("2026-11", "USD", _amount("150.00"))
    ]
    assert "(was 100.00 USD)" in _text(client.get(DASHBOARD).content)


# ---- Bulk PDF export ---------------------------------------------------------------------------------


def test_the_invoice_list_posts_its_filters_to_the_export(tenant: Tenant, client_for) -> None:
    issued(tenant.customer)
    html = client_for(tenant.finance).get("/staff/billing/invoices/?status=issued&q=Alpha&sort=-total").content
    form = re.search(rb'<form method="post" action="/staff/billing/exports/">(.*?)</form>', html, re.S)
    assert form is not None
    fields = re.findall(rb'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(1))
    assert [f for f in fields if f[0] != b"csrfmiddlewaretoken"] == [(b"q", b"Alpha"), (b"status", b"issued")]
    assert b"Export PDFs (ZIP)" in form.group(1)


def test_an_export_runs_and_its_zip_is_downloaded(tenant: Tenant, client_for, on_commit) -> None:
    a, b = issued(tenant.customer), issued(tenant.other_customer)
    draft(tenant.customer)
    client = client_for(tenant.finance)
    with on_commit():  # the Celery task runs (eagerly) when the request commits
        response = client.post(EXPORTS, {"status": "issued"})
    job = ExportJob.objects.get(partner=tenant.partner)
    assert response.status_code == 302
    assert response["Location"] == f"{EXPORTS}{job.pk}/"
    assert job.filters["status"] == "issued"

    status = client.get(f"{EXPORTS}{job.pk}/status/")
    assert status["Cache-Control"] == "private, no-store"
    assert status.json() == {
        "status": "done", "status_label": "Done", "done": 2, "total": 2, "percent": 100,
        "download_url": f"{EXPORTS}{job.pk}/download/",
    }  # fmt: skip

    page = client.get(f"{EXPORTS}{job.pk}/")
    assert b"Download ZIP" in page.content
    assert b"http-equiv" not in page.content  # finished: no more refreshing
    assert b"data-poll-url" not in page.content

    download = client.get(f"{EXPORTS}{job.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"] == f'attachment; filename="invoices-2026-11-20-{job.pk}.zip"'
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert sorted(archive.namelist()) == sorted([f"{a.number}.pdf", f"{b.number}.pdf"])

    listing = client.get(EXPORTS)
    assert f'href="{EXPORTS}{job.pk}/download/"'.encode() in listing.content


def test_a_running_export_shows_its_progress_and_refreshes_without_script(tenant: Tenant, client_for) -> None:
    job = ExportJob.objects.create(
        partner=tenant.partner, requested_by=tenant.finance, total=40, done=12, status=ExportJob.Status.RUNNING,
        started_at=clock.now(), filters={"status": "issued", "period": "2026-10"},
    )  # fmt: skip
    client = client_for(tenant.finance)
    page = client.get(f"{EXPORTS}{job.pk}/")
    html = page.content.decode()
    assert '<progress class="progress" max="100" value="30"' in html
    assert "12 of 40 invoices" in _text(page.content)
    assert f'data-poll-url="{EXPORTS}{job.pk}/status/"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert f'class="nojs-only" href="{EXPORTS}{job.pk}/"' in html  # the Refresh link
    assert client.get(f"{EXPORTS}{job.pk}/status/").json() == {
        "status": "running", "status_label": "Running", "done": 12, "total": 40, "percent": 30, "download_url": None,
    }  # fmt: skip
    assert client.get(f"{EXPORTS}{job.pk}/download/").status_code == 404  # not finished


def test_the_export_form_leaves_drafts_out_unless_include_drafts_is_ticked(
    tenant: Tenant, client_for, on_commit
) -> None:
    kept = issued(tenant.customer)
    drafted = draft(tenant.customer)
    client = client_for(tenant.finance)
    assert b'name="include_drafts"' in client.get(EXPORTS).content
    for data, names in (
        ({}, [f"{kept.number}.pdf"]),
        ({"include_drafts": "on"}, sorted([f"{kept.number}.pdf", f"draft-{drafted.pk}.pdf"])),
    ):
        with on_commit():
            response = client.post(EXPORTS, data)
        job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
        download = client.get(f"{EXPORTS}{job.pk}/download/")
        with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
            assert sorted(archive.namelist()) == names
    assert "Include drafts" in _text(client.get(f"{EXPORTS}{job.pk}/").content)  # the last one asked for drafts


def test_an_export_of_drafts_only_without_asking_is_refused(tenant: Tenant, client_for) -> None:
    draft(tenant.customer)
    response = client_for(tenant.finance).post(EXPORTS, {"customer": str(tenant.customer.pk)})
    assert response.status_code == 400
    assert b"there is nothing to export" in response.content
    assert not ExportJob.objects.exists()


def test_an_export_of_nothing_is_refused(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.finance).post(EXPORTS, {"status": "paid"})
    assert response.status_code == 400
    assert b"there is nothing to export" in response.content
    assert not ExportJob.objects.exists()


def test_a_bad_export_filter_is_refused(tenant: Tenant, client_for) -> None:
    issued(tenant.customer)
    response = client_for(tenant.finance).post(EXPORTS, {"period": "2026-13"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["period"]
    assert not ExportJob.objects.exists()


def test_another_partners_export_is_not_found(tenant: Tenant, other_tenant: Tenant, client_for, on_commit) -> None:
    issued(tenant.customer)
    with on_commit():
        client_for(tenant.finance).post(EXPORTS, {})
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    for user in (other_tenant.finance, other_tenant.admin):
        client = client_for(user)
        for suffix in ("", "status/", "download/"):
            assert client.get(f"{EXPORTS}{job.pk}/{suffix}").status_code == 404
        assert f"{EXPORTS}{job.pk}/".encode() not in client.get(EXPORTS).content


# ---- Who may see the finance pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "customer_admin", "customer_member"])
def test_agents_and_customer_users_may_not(tenant: Tenant, client_for, role: str, on_commit) -> None:
    issued(tenant.customer)
    with on_commit():
        client_for(tenant.finance).post(EXPORTS, {})
    job = ExportJob.objects.get()
    imp = _import(tenant, _recon_file(tenant))
    payable = _payable(tenant, "2026-11", "1.00", dt.date(2027, 1, 30))
    client = client_for(getattr(tenant, role))
    for url in (
        DASHBOARD, PAYABLE_NEW, f"/staff/billing/payables/{payable.pk}/edit/", EXPORTS, f"{EXPORTS}{job.pk}/",
        f"{EXPORTS}{job.pk}/status/", f"{EXPORTS}{job.pk}/download/", RECONCILIATION, f"{RECONCILIATION}{imp.pk}/",
        f"{RECONCILIATION}{imp.pk}/status/",
    ):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert client.post(EXPORTS, {}).status_code == 403
    assert client.post(PAYABLE_NEW, _payable_post()).status_code == 403
    assert client.post(RECONCILIATION, {"file": _csv(b"x")}).status_code == 403
    line = ReconciliationLine.objects.get(customer__isnull=True)
    mapped = client.post(f"{RECONCILIATION}{imp.pk}/map/", {"line": line.pk, "customer": tenant.customer.pk})
    assert mapped.status_code == 403
    assert client.post(f"{RECONCILIATION}{imp.pk}/bill-usage/", {"markup_percent": "10"}).status_code == 403
    assert (ExportJob.objects.count(), ReconciliationImport.objects.count(), MicrosoftPayable.objects.count()) == (
        1, 1, 1,
    )  # fmt: skip
    assert ReconciliationLine.objects.filter(customer__isnull=True).count() == 1


def test_the_finance_menu_item_is_for_admins_and_finance(tenant: Tenant, client_for) -> None:
    link = b'href="/staff/billing/"'
    assert link in client_for(tenant.finance).get(DASHBOARD).content
    assert link in client_for(tenant.admin).get("/staff/").content
    assert link not in client_for(tenant.agent).get("/staff/").content


# ---- Reconciliation pages ----------------------------------------------------------------------------


def _csv(content: bytes, name: str = "G012345678.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _recon_file(tenant: Tenant) -> bytes:
    """Four lines: E3 seats and Azure usage of customer one, and one line of Fourth Coffee, who is
    nobody's customer yet (its domain looks like Alpha Customer Two's)."""
    one = str(tenant.customer.tenant_id)
    rows = [
        nce_row(customer_id=one, subscription_id=E3_ID, unit_price="36.00", quantity="10", subtotal="360.00",
                tax="0.00", total="360.00"),
        nce_row(customer_id=one, subscription_id=AZURE_ID, product="Azure plan", sku="Azure plan",
                charge_type="Usage", unit_price="0.0520", quantity="237.5", subtotal="12.35", tax="0.00",
                total="12.35", meter="D2 v3/D2s v3 - Compute Hours"),
        nce_row(customer_id=FOURTH_COFFEE, customer_name="Fourth Coffee", domain="fourthcoffee.onmicrosoft.com",
                subscription_id=str(uuid.UUID(int=7)), product="Azure plan", charge_type="Usage",
                unit_price="0.10", quantity="100", subtotal="10.00", tax="0.00", total="10.00"),
        nce_row(customer_id=one, subscription_id=E3_ID, charge_type="removeQuantity", unit_price="36.00",
                quantity="-1", subtotal="-36.00", tax="0.00", total="-36.00"),
    ]  # fmt: skip
    return csv_bytes(NEW_COMMERCE_HEADER, rows)


def _subscriptions(tenant: Tenant) -> None:
    subscription(tenant.customer, microsoft_id=E3_ID, price="40.00")
    subscription(tenant.customer, microsoft_id=AZURE_ID, product="Azure plan", quantity=1, price="0", cost="0")


def _import(tenant: Tenant, content: bytes) -> ReconciliationImport:
    from billing.reconciliation.services import reconciliation_import_create

    return reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name="G012345678.csv", content=content, period="2026-11"
    )


def test_a_file_uploaded_through_the_page_shows_matches_margin_and_payable(tenant: Tenant, client_for) -> None:
    _subscriptions(tenant)
    client = client_for(tenant.finance)
    form = client.get(RECONCILIATION)
    assert b'accept=".csv,.txt,.tsv,.xlsx"' in form.content
    assert b'enctype="multipart/form-data"' in form.content
    response = client.post(RECONCILIATION, {"file": _csv(_recon_file(tenant)), "period": ""})
    imp = ReconciliationImport.objects.get(partner=tenant.partner)
    assert response.status_code == 302
    assert response["Location"] == f"{RECONCILIATION}{imp.pk}/"
    assert (imp.status, imp.period, imp.matched_lines, imp.unmatched_lines, imp.total) == (
        "done", "2026-11", 3, 1, _amount("346.35"),
    )  # fmt: skip

    page = client.get(response["Location"])
    text = _text(page.content)
    assert "Charge lines 4" in text
    assert "Matched 3" in text
    assert "Unmatched 1" in text
    assert "Microsoft's total 346.35 USD" in text
    assert "Due to Microsoft for 2026-11: 346.35 USD by" in text
    # Margin by customer: Microsoft charged 360.00 + 12.35 - 36.00; nothing invoiced for November yet.
    # (Cost and invoiced twice: under the name for phones, and in their own columns.)
    assert f"{tenant.customer.name} Cost 336.35 USD · invoiced 0.00 USD 336.35 USD 0.00 USD -336.35 USD" in text
    assert "All matched customers Cost 336.35 USD · invoiced 0.00 USD 336.35 USD 0.00 USD -336.35 USD" in text
    assert "Azure plan" in text
    assert E3_ID in text
    assert "Fourth Coffee" in text
    assert FOURTH_COFFEE in text
    assert "Ready to bill 1" in text  # the Azure usage of customer one

    listing = _text(client.get(RECONCILIATION).content)
    assert "G012345678.csv" in listing
    assert "New commerce" in listing
    assert "346.35 USD" in listing

    again = client.post(RECONCILIATION, {"file": _csv(_recon_file(tenant), "copy.csv")})
    assert again["Location"] == f"{RECONCILIATION}{imp.pk}/"
    assert "This file was uploaded before" in _text(client.get(again["Location"]).content)
    assert ReconciliationImport.objects.count() == 1


def test_a_bad_file_shows_the_error_table(tenant: Tenant, client_for) -> None:
    one = str(tenant.customer.tenant_id)
    rows = [nce_row(customer_id=one), nce_row(customer_id=one, start="13/45/2026"), nce_row(customer_id="")]
    client = client_for(tenant.admin)
    response = client.post(RECONCILIATION, {"file": _csv(csv_bytes(NEW_COMMERCE_HEADER, rows))})
    imp = ReconciliationImport.objects.get()
    assert imp.status == "refused"
    html = client.get(response["Location"]).content.decode()
    assert "The file was refused: nothing was imported." in html
    rows_shown = re.findall(
        r'<td class="num nowrap">(\d+)</td>\s*<td class="nowrap hide-sm"><code>(\w+)</code></td>\s*<td>([^<]+)<', html
    )
    assert rows_shown == [
        ("3", "ChargeStartDate", "&#x27;13/45/2026&#x27; is not a date (M/D/YYYY)."),
        ("4", "CustomerId", "The Microsoft customer ID is missing."),
    ]


def test_a_bad_upload_is_refused_before_anything_is_stored(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    assert list(client.post(RECONCILIATION, {}).context["form"].errors) == ["file"]
    bad = client.post(RECONCILIATION, {"file": _csv(b"PartnerId\r\n"), "period": "2026-13"})
    assert bad.status_code == 400
    assert list(bad.context["form"].errors) == ["period"]
    assert not ReconciliationImport.objects.exists()


def test_unmatched_lines_are_mapped_through_the_page(tenant: Tenant, client_for) -> None:
    _subscriptions(tenant)
    coffee = tenant.other_customer
    coffee.domain = "fourthcoffee.com"
    coffee.save(update_fields=["domain"])
    imp = _import(tenant, _recon_file(tenant))
    client = client_for(tenant.finance)
    page = client.get(f"{RECONCILIATION}{imp.pk}/")
    (group,) = page.context["unmatched_groups"]
    assert [c.pk for c in group["suggested"]] == [coffee.pk]  # its domain looks like Fourth Coffee's
    line = ReconciliationLine.objects.get(reconciliation_import=imp, customer__isnull=True)
    url = f"{RECONCILIATION}{imp.pk}/map/"

    missing = client.post(url, {"line": line.pk, "customer": ""})
    assert missing.status_code == 400
    assert b"Choose the customer these lines belong to." in missing.content

    response = client.post(url, {"line": line.pk, "customer": coffee.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{RECONCILIATION}{imp.pk}/#unmatched"
    line.refresh_from_db()
    imp.refresh_from_db()
    assert (line.customer, imp.matched_lines, imp.unmatched_lines) == (coffee, 4, 0)
    text = _text(client.get(f"{RECONCILIATION}{imp.pk}/").content)
    assert f"1 line of Fourth Coffee mapped to {coffee.name}." in text
    assert "Every line is matched" in text
    assert f"{coffee.name} Cost 10.00 USD · invoiced 0.00 USD 10.00 USD 0.00 USD -10.00 USD" in text


def test_a_line_is_mapped_by_domain_when_customers_are_too_many_to_list(
    tenant: Tenant, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("billing.reconciliation.views.MAP_CUSTOMERS_LISTED", 1)
    imp = _import(tenant, _recon_file(tenant))
    client = client_for(tenant.finance)
    page = client.get(f"{RECONCILIATION}{imp.pk}/")
    assert page.context["map_choices"].everyone == []
    assert b'name="find"' in page.content
    line = ReconciliationLine.objects.get(reconciliation_import=imp, customer__isnull=True)
    url = f"{RECONCILIATION}{imp.pk}/map/"
    assert b"No customer matches" in client.post(url, {"line": line.pk, "find": "nobody.example"}).content
    assert b"Several customers match" in client.post(url, {"line": line.pk, "find": "Alpha Customer"}).content
    domain = tenant.other_customer.domain.upper()
    assert client.post(url, {"line": line.pk, "find": domain}).status_code == 302
    line.refresh_from_db()
    assert line.customer == tenant.other_customer


def test_usage_is_billed_with_a_markup_through_the_page(tenant: Tenant, client_for) -> None:
    _subscriptions(tenant)
    imp = _import(tenant, _recon_file(tenant))
    client = client_for(tenant.finance)
    url = f"{RECONCILIATION}{imp.pk}/bill-usage/"
    assert client.post(url, {"markup_percent": "-100"}).status_code == 400
    response = client.post(url, {"markup_percent": "20"})
    assert response.status_code == 302
    assert response["Location"] == f"{RECONCILIATION}{imp.pk}/#usage"
    invoice = Invoice.objects.get(partner=tenant.partner, status="draft")
    assert (invoice.customer, invoice.total) == (tenant.customer, _amount("14.82"))  # 12.35 + 20 %
    page = client.get(f"{RECONCILIATION}{imp.pk}/")
    text = _text(page.content)
    assert "Usage billed with a 20 % markup on 1 draft invoice" in text
    assert f"Draft #{invoice.pk} {tenant.customer.name} {tenant.customer.name} Draft 14.82 USD" in text
    assert "Billed 1" in text
    assert "Ready to bill 0" in text
    assert f"{tenant.customer.name} Cost 336.35 USD · invoiced 14.82 USD 336.35 USD 14.82 USD -321.53 USD" in text
    assert b"Add to draft invoices" not in page.content  # nothing left to bill
    assert "There was no usage left to bill." in _text(client.post(url, {"markup_percent": "20"}, follow=True).content)


def test_a_running_import_shows_its_progress(tenant: Tenant, client_for) -> None:
    imp = ReconciliationImport.objects.create(
        partner=tenant.partner, file_name="big.csv", file_sha256="0" * 64, status="running", total_lines=10000,
        processed_lines=4000, started_at=clock.now(),
    )  # fmt: skip
    client = client_for(tenant.finance)
    html = client.get(f"{RECONCILIATION}{imp.pk}/").content.decode()
    assert '<progress class="progress" max="100" value="20"' in html
    assert "4,000 of 10,000 lines checked" in _text(html.encode())
    assert f'data-poll-url="{RECONCILIATION}{imp.pk}/status/"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert client.get(f"{RECONCILIATION}{imp.pk}/status/").json() == {
        "status": "running", "status_label": "Running", "done": 4000, "total": 10000, "percent": 20,
        "download_url": None,
    }  # fmt: skip
    # Nothing can be mapped or billed before the import is done.
    assert client.post(f"{RECONCILIATION}{imp.pk}/bill-usage/", {"markup_percent": "1"}).status_code == 302
    assert not Invoice.objects.exists()


def test_another_partners_import_is_not_found(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    imp = _import(tenant, _recon_file(tenant))
    line = ReconciliationLine.objects.get(reconciliation_import=imp, customer__isnull=True)
    payable = MicrosoftPayable.objects.get(partner=tenant.partner)
    client = client_for(other_tenant.finance)
    for suffix in ("", "status/"):
        assert client.get(f"{RECONCILIATION}{imp.pk}/{suffix}").status_code == 404
    mapped = client.post(f"{RECONCILIATION}{imp.pk}/map/", {"line": line.pk, "customer": other_tenant.customer.pk})
    assert mapped.status_code == 404
    assert client.post(f"{RECONCILIATION}{imp.pk}/bill-usage/", {"markup_percent": "10"}).status_code == 404
    assert client.get(f"/staff/billing/payables/{payable.pk}/edit/").status_code == 404
    assert client.post(f"/staff/billing/payables/{payable.pk}/edit/", _payable_post()).status_code == 404
    assert b"G012345678.csv" not in client.get(RECONCILIATION).content
    assert b"346.35" not in client.get(DASHBOARD).content
    line.refresh_from_db()
    assert line.customer is None
    assert MicrosoftPayable.objects.get(pk=payable.pk).amount == _amount("346.35")


def test_the_dashboard_runs_a_fixed_number_of_queries(
    tenant: Tenant, aging_book: dict[str, Invoice], client_for, django_assert_max_num_queries
) -> None:
    client = client_for(tenant.finance)
    for period in ("2026-09", "2026-10", "2026-11"):
        _payable(tenant, period, "10.00", dt.date(2026, 12, 31))
    with django_assert_max_num_queries(12):
        assert client.get(DASHBOARD).status_code == 200
