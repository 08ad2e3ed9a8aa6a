"""Partner Center reconciliation import, the Microsoft payable, usage billing, margins, API and job."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import invoice_issue, invoice_void, invoices_generate
from billing.reconciliation import parsing
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.selectors import (
    CustomerMargin,
    SubscriptionMargin,
    UnmatchedCustomer,
    reconciliation_margin_by_customer,
    reconciliation_margin_by_subscription,
    reconciliation_unmatched_customers,
    reconciliation_unmatched_lines,
)
from billing.reconciliation.services import (
    microsoft_payable_set,
    reconciliation_import_create,
    reconciliation_import_run,
    reconciliation_import_submit,
    reconciliation_line_map,
    reconciliation_usage_bill,
)
from billing.reconciliation.tasks import reconciliation_import_run_task
from partner_portal import clock
from partner_portal.models import AuditEvent
from partner_portal.tenancy import scope_for_user
from tests.conftest import Tenant
from tests.factories.reconciliation import (
    LEGACY_HEADER,
    NEW_COMMERCE_HEADER,
    csv_bytes,
    legacy_row,
    nce_row,
    subscription,
)

pytestmark = pytest.mark.django_db

E3_ID = "5b0c6a3e-6f1b-4a7e-9d55-0c8f2a7b1e01"
AZURE_ID = "8f2e4d6c-1a3b-4c5d-8e9f-a0b1c2d3e4f5"
UNKNOWN_SUB = "0f0f0f0f-1111-4222-8333-444455556666"
FOURTH_COFFEE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
AT = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def _frozen():
    with clock.frozen(AT):
        yield


def _subs(tenant: Tenant):
    e3 = subscription(tenant.customer, microsoft_id=E3_ID, price="40.00", tax_rate="20.00")
    azure = subscription(
        tenant.customer, microsoft_id=AZURE_ID, product="Azure plan", quantity=1, price="0", cost="0", tax_rate="20.00"
    )
    return e3, azure


def _nce_rows(tenant: Tenant) -> list[dict[str, str]]:
    one, two = str(tenant.customer.tenant_id).upper(), str(tenant.other_customer.tenant_id)
    return [
        nce_row(customer_id=one, subscription_id=E3_ID.upper(), unit_price="36.00", quantity="10",
                subtotal="360.00", tax="72.00", total="432.00", start="11/3/2026", end="12/2/2026"),
        nce_row(customer_id=one, subscription_id=AZURE_ID, product="Azure plan", sku="Azure plan", charge_type="Usage",
                unit_price="0.0520", quantity="237.5", subtotal="12.35", tax="2.47", total="14.82",
                meter="D2 v3/D2s v3 - Compute Hours"),
        nce_row(customer_id=two, customer_name="Alpha Customer Two", subscription_id=UNKNOWN_SUB,
                product="Microsoft 365 Business Basic", unit_price="6.00", quantity="3", subtotal="18.00",
                total="18.00"),
        nce_row(customer_id=FOURTH_COFFEE, customer_name="Fourth Coffee", domain="fourthcoffee.onmicrosoft.com",
                subscription_id=str(uuid.UUID(int=7)), unit_price="36.00", quantity="1", subtotal="36.00", tax="7.20",
                total="43.20"),
        nce_row(customer_id=one, subscription_id=E3_ID, charge_type="removeQuantity", unit_price="36.00",
                quantity="-1", subtotal="-36.00", tax="-7.20", total="-43.20", start="11/03/2026", end="12/2/2026"),
    ]  # fmt: skip


def _nce_file(tenant: Tenant) -> bytes:
    return csv_bytes(
        NEW_COMMERCE_HEADER, _nce_rows(tenant), extra_columns=["InvoiceLineItemType"], bom=True, trailing_comma=True
    )


def _upload(tenant: Tenant, content: bytes, period: str | None = None) -> ReconciliationImport:
    return reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name="G012345678.csv", content=content, period=period
    )


def _shown(errors: list[dict]) -> list[dict]:
    """The errors as a page shows them in English: row, column and sentence."""
    return [{"row": e["row"], "column": e["column"], "message": e["message"]} for e in errors]


def _lines(imp: ReconciliationImport) -> list[ReconciliationLine]:
    return list(ReconciliationLine.objects.filter(reconciliation_import=imp).order_by("row_number"))


# --- parsing ----------------------------------------------------------------------------------------------


def test_dates_are_month_day_year_with_or_without_leading_zeros() -> None:
    assert parsing.parse_date("11/3/2026") == dt.date(2026, 11, 3)
    assert parsing.parse_date("11/03/2026") == dt.date(2026, 11, 3)
    assert parsing.parse_date("1/31/2027 12:00:00 AM") == dt.date(2027, 1, 31)
    assert parsing.parse_date("") is None
    for bad in ("13/1/2026", "2/30/2026", "3-11-2026", "Nov 3 2026"):
        with pytest.raises(ValueError, match="is not a date"):
            parsing.parse_date(bad)


def test_numbers_are_decimal_with_a_dot_and_may_be_negative() -> None:
    assert parsing.parse_decimal("-36.00") == Decimal("-36.00")
    assert parsing.parse_decimal("0.000016") == Decimal("0.000016")
    assert parsing.parse_decimal(" 12 ") == Decimal(12)
    for bad in ("1,000.00", "1e", "NaN", "Infinity", "12,5", "", "$5", "1.2E-05.1"):
        with pytest.raises(ValueError, match="number"):
            parsing.parse_decimal(bad)


def test_the_kind_of_file_is_told_by_its_header() -> None:
    assert parsing.detect_kind(NEW_COMMERCE_HEADER) == parsing.NEW_COMMERCE
    assert parsing.detect_kind(LEGACY_HEADER) == parsing.LEGACY
    assert parsing.detect_kind([" customerid ", "SKUNAME", "taxtotal"]) == parsing.NEW_COMMERCE
    assert parsing.detect_kind(["Name", "Amount"]) is None


def test_both_kinds_map_to_one_row_shape() -> None:
    customer = "2b1a0000-0000-4000-8000-000000000001"
    nce = csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=customer, sku="E3 (no Teams)", product="")])
    legacy = csv_bytes(LEGACY_HEADER, [legacy_row(customer_id=customer.upper())])
    kind, rows = parsing.read_charges(nce.decode().splitlines(keepends=True))
    (row,) = list(rows)
    assert kind == parsing.NEW_COMMERCE
    assert row == parsing.ChargeRow(
        row_number=2, customer_id=customer, customer_name="Northwind Traders",
        customer_domain="northwind.onmicrosoft.com", subscription_id="", product="E3 (no Teams)", charge_type="new",
        charge_start=dt.date(2026, 11, 1), charge_end=dt.date(2026, 11, 30), unit_price=Decimal("36.0000"),
        quantity=Decimal("10.0000"), subtotal=Decimal("360.00"), tax=Decimal("0.00"), total=Decimal("360.00"),
        currency="USD", is_usage=False,
    )  # fmt: skip
    kind, rows = parsing.read_charges(legacy.decode().splitlines(keepends=True))
    (row,) = list(rows)
    assert kind == parsing.LEGACY
    assert (row.customer_id, row.customer_domain, row.product, row.subtotal, row.tax, row.total) == (
        customer, "adatum.onmicrosoft.com", "Office 365 E1", Decimal("40.00"), Decimal("8.00"), Decimal("48.00"),
    )  # fmt: skip


# --- import -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("_frozen")
def test_a_new_commerce_file_is_imported_and_matched(tenant: Tenant) -> None:
    e3, azure = _subs(tenant)
    imp = _upload(tenant, _nce_file(tenant))
    assert (imp.status, imp.kind, imp.period, imp.currency, imp.total) == (
        "done", "new_commerce", "2026-11", "USD", Decimal("464.82"),
    )  # fmt: skip
    assert (imp.total_lines, imp.processed_lines, imp.matched_lines, imp.unmatched_lines, imp.percent) == (
        5, 5, 4, 1, 100,
    )  # fmt: skip
    assert imp.errors == []
    lines = _lines(imp)
    assert [(x.row_number, x.customer, x.subscription) for x in lines] == [
        (2, tenant.customer, e3),  # tenant ID and subscription ID in upper case still match
        (3, tenant.customer, azure),
        (4, tenant.other_customer, None),  # a subscription the portal does not know
        (5, None, None),
        (6, tenant.customer, e3),
    ]
    usage = lines[1]
    assert (usage.is_usage, usage.unit_price, usage.quantity, usage.subtotal, usage.tax_total, usage.total) == (
        True, Decimal("0.0520"), Decimal("237.5000"), Decimal("12.35"), Decimal("2.47"), Decimal("14.82"),
    )  # fmt: skip
    assert (lines[0].charge_start, lines[4].charge_start, lines[4].quantity, lines[4].total) == (
        dt.date(2026, 11, 3), dt.date(2026, 11, 3), Decimal("-1.0000"), Decimal("-43.20"),
    )  # fmt: skip
    assert lines[0].ms_customer_id == str(tenant.customer.tenant_id)
    assert (lines[0].is_usage, lines[0].product) == (False, "Microsoft 365 E3")
    e3.refresh_from_db()
    assert (e3.unit_cost, e3.unit_price) == (Decimal("36.0000"), Decimal("40.0000"))  # subscriptions untouched
    actions = list(AuditEvent.objects.filter(partner=tenant.partner).order_by("pk").values_list("action", flat=True))
    assert actions == ["reconciliation.uploaded", "microsoft_payable.imported", "reconciliation.imported"]
    imported = AuditEvent.objects.get(action="reconciliation.imported")
    assert imported.data == {
        "kind": "new_commerce", "period": "2026-11", "currency": "USD", "total": "464.82", "lines": 5, "matched": 4,
        "unmatched": 1, "payable": MicrosoftPayable.objects.get().pk,
    }  # fmt: skip


def test_a_legacy_file_with_reseller_mpn_id_is_imported(tenant: Tenant) -> None:
    sub = subscription(tenant.customer, microsoft_id=E3_ID, product="Office 365 E1")
    header = ["ResellerMpnId" if c == "Tier2MpnId" else c for c in LEGACY_HEADER]
    rows = [
        legacy_row(customer_id=str(tenant.customer.tenant_id), subscription_id=E3_ID, start="10/1/2026",
                   end="10/31/2026"),
        legacy_row(customer_id=str(tenant.customer.tenant_id), subscription_id=E3_ID, charge_type="Activation fee",
                   quantity="1", unit_price="8.00", subtotal="8.00", tax="1.60", total="9.60", start="10/17/2026",
                   end="10/31/2026"),
    ]  # fmt: skip
    imp = _upload(tenant, csv_bytes(header, rows, extra_columns=["PartnerName"], trailing_comma=True))
    assert (imp.status, imp.kind, imp.period, imp.total, imp.matched_lines) == (
        "done", "legacy", "2026-10", Decimal("57.60"), 2,
    )  # fmt: skip
    assert [(x.customer, x.subscription, x.product, x.tax_total, x.is_usage) for x in _lines(imp)] == [
        (tenant.customer, sub, "Office 365 E1", Decimal("8.00"), False),
        (tenant.customer, sub, "Office 365 E1", Decimal("1.60"), False),
    ]


def test_a_period_given_at_upload_wins_over_the_charge_dates(tenant: Tenant) -> None:
    imp = _upload(tenant, _nce_file(tenant), period="2026-12")
    assert imp.period == "2026-12"
    assert MicrosoftPayable.objects.get().period == "2026-12"


def test_unmatched_lines_are_listed_then_mapped(tenant: Tenant) -> None:
    e3 = subscription(tenant.other_customer, microsoft_id=E3_ID)
    stranger = "c0ffee00-0000-4000-8000-000000000042"
    rows = [
        nce_row(customer_id=stranger, customer_name="Fourth Coffee", domain="fourthcoffee.example", subtotal="36.00",
                total="36.00", subscription_id=E3_ID),
        nce_row(customer_id=str(tenant.customer.tenant_id), subtotal="10.00", total="10.00"),
        nce_row(customer_id=stranger, customer_name="Fourth Coffee", domain="fourthcoffee.example", subtotal="4.00",
                total="4.00", subscription_id=str(uuid.UUID(int=9))),
    ]  # fmt: skip
    imp = _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, rows))
    scope = scope_for_user(tenant.finance)
    unmatched = list(reconciliation_unmatched_lines(scope=scope, reconciliation_import=imp))
    assert [x.row_number for x in unmatched] == [2, 4]
    assert reconciliation_unmatched_customers(scope=scope, reconciliation_import=imp) == [
        UnmatchedCustomer(ms_customer_id=stranger, customer_name="Fourth Coffee", customer_domain="fourthcoffee.example",
                          lines=2, subtotal=Decimal("40.00"), first_line_id=unmatched[0].pk),
    ]  # fmt: skip

    mapped = reconciliation_line_map(line=unmatched[0], customer=tenant.other_customer, actor=tenant.finance)

    assert mapped == 2
    assert [(x.customer, x.subscription) for x in _lines(imp)] == [
        (tenant.other_customer, e3),  # its subscription is matched among the mapped customer's
        (tenant.customer, None),
        (tenant.other_customer, None),
    ]
    imp.refresh_from_db()
    assert (imp.matched_lines, imp.unmatched_lines) == (3, 0)
    assert reconciliation_unmatched_customers(scope=scope, reconciliation_import=imp) == []
    tenant.other_customer.refresh_from_db()
    assert str(tenant.other_customer.tenant_id) != stranger  # only the lines are mapped
    event = AuditEvent.objects.get(action="reconciliation.mapped")
    assert (event.customer, event.data) == (
        tenant.other_customer,
        {"ms_customer_id": stranger, "customer": tenant.other_customer.pk, "lines": 2, "subscriptions": 1},
    )
    from billing.reconciliation.errors import ReconciliationInvalid

    with pytest.raises(ReconciliationInvalid):  # matched already
        reconciliation_line_map(line=unmatched[0], customer=tenant.customer, actor=tenant.finance)


def test_a_line_cannot_be_mapped_to_another_partners_customer(tenant: Tenant, other_tenant: Tenant) -> None:
    from billing.reconciliation.errors import ReconciliationInvalid

    imp = _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=FOURTH_COFFEE)]))
    with pytest.raises(ReconciliationInvalid):
        reconciliation_line_map(line=_lines(imp)[0], customer=other_tenant.customer, actor=tenant.finance)
    assert _lines(imp)[0].customer is None


def test_bad_rows_refuse_the_whole_file_with_every_error(tenant: Tenant) -> None:
    one = str(tenant.customer.tenant_id)
    rows = [
        nce_row(customer_id=one),
        nce_row(customer_id=one, start="13/45/2026"),
        nce_row(customer_id=one, subtotal="1,000.00"),
        nce_row(customer_id=""),
        nce_row(customer_id=one, currency="EUR"),
        nce_row(customer_id="not-a-guid", quantity="1e", end="2026/11/30"),
    ]
    imp = _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, rows))
    assert imp.status == "refused"
    assert _shown(imp.errors) == [
        {"row": 3, "column": "ChargeStartDate", "message": "'13/45/2026' is not a date (M/D/YYYY)."},
        {"row": 4, "column": "Subtotal", "message": "'1,000.00' is not a number."},
        {"row": 5, "column": "CustomerId", "message": "The Microsoft customer ID is missing."},
        {"row": 6, "column": "Currency", "message": "The currency EUR differs from the file's currency USD."},
        {"row": 7, "column": "CustomerId", "message": "'not-a-guid' is not a Microsoft customer ID (a GUID)."},
        {"row": 7, "column": "ChargeEndDate", "message": "'2026/11/30' is not a date (M/D/YYYY)."},
        {"row": 7, "column": "Quantity", "message": "'1e' is not a number."},
    ]
    assert (imp.total_lines, imp.processed_lines, imp.matched_lines, imp.percent) == (6, 6, 0, 100)
    assert ReconciliationLine.objects.count() == 0
    assert MicrosoftPayable.objects.count() == 0
    assert AuditEvent.objects.get(action="reconciliation.refused").data == {
        "errors": 7,
        "first": "'13/45/2026' is not a date (M/D/YYYY).",
    }


def test_a_missing_column_refuses_the_file_naming_it(tenant: Tenant) -> None:
    header = [c for c in NEW_COMMERCE_HEADER if c not in ("TaxTotal", "ChargeEndDate")]
    imp = _upload(tenant, csv_bytes(header, [nce_row(customer_id=str(tenant.customer.tenant_id))]))
    assert imp.status == "refused"
    assert _shown(imp.errors) == [
        {"row": 1, "column": "ChargeEndDate", "message": "The column ChargeEndDate is missing."},
        {"row": 1, "column": "TaxTotal", "message": "The column TaxTotal is missing."},
    ]
    assert (imp.total_lines, ReconciliationLine.objects.count(), MicrosoftPayable.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: a header row is expected."),
        (b"Name,Amount\r\nContoso,12.00\r\n", "This is not a Partner Center reconciliation file"),
        (csv_bytes(NEW_COMMERCE_HEADER, []), "The file has a header but no charge rows."),
        (b"\x00\x01\x02\x03binary\xff", "The file is neither text (UTF-8, or UTF-16 with its byte order mark)"),
        (b"PK\x03\x04not really a zip", "The file is a ZIP archive but not an Excel workbook"),
    ],
)
def test_files_that_are_not_reconciliation_files_are_refused(tenant: Tenant, content: bytes, message: str) -> None:
    imp = _upload(tenant, content)
    assert imp.status == "refused"
    assert imp.errors[0]["row"] == 1
    assert imp.errors[0]["message"].startswith(message)


def test_the_same_file_twice_is_the_same_import(tenant: Tenant) -> None:
    content = _nce_file(tenant)
    first = reconciliation_import_submit(
        partner=tenant.partner, actor=tenant.finance, file_name="a.csv", content=content, period=None
    )
    counts = (ReconciliationLine.objects.count(), MicrosoftPayable.objects.count(), AuditEvent.objects.count())
    again = reconciliation_import_submit(
        partner=tenant.partner, actor=tenant.admin, file_name="copy of a.csv", content=content, period="2026-10"
    )
    assert (first.created, again.created) == (True, False)
    assert again.reconciliation_import.pk == first.reconciliation_import.pk
    assert (again.reconciliation_import.file_name, again.reconciliation_import.period) == ("a.csv", "2026-11")
    assert (ReconciliationLine.objects.count(), MicrosoftPayable.objects.count(), AuditEvent.objects.count()) == counts
    assert ReconciliationImport.objects.count() == 1


def test_another_partner_may_import_the_same_file(tenant: Tenant, other_tenant: Tenant) -> None:
    content = _nce_file(tenant)
    mine, theirs = _upload(tenant, content), _upload(other_tenant, content)
    assert mine.pk != theirs.pk
    assert (mine.matched_lines, theirs.matched_lines) == (4, 0)  # their customers have other tenant IDs


# --- the Microsoft payable ----------------------------------------------------------------------------------


def test_the_payable_is_the_files_total_due_60_days_after_the_period(tenant: Tenant) -> None:
    imp = _upload(tenant, _nce_file(tenant))
    payable = MicrosoftPayable.objects.get()
    assert (payable.partner, payable.period, payable.currency, payable.amount) == (
        tenant.partner, "2026-11", "USD", Decimal("464.82"),
    )  # fmt: skip
    assert (payable.due_date, payable.source, payable.reconciliation_import, payable.due_date_manual) == (
        dt.date(2027, 1, 30), "import", imp, False,
    )  # fmt: skip


def test_an_import_keeps_a_due_date_set_by_hand_and_says_so(tenant: Tenant) -> None:
    manual = microsoft_payable_set(
        partner=tenant.partner, actor=tenant.finance, period="2026-11", amount=Decimal("450"), currency="usd",
        due_date=dt.date(2027, 1, 15), notes="From the Partner Center invoice PDF.",
    )  # fmt: skip
    assert (manual.amount, manual.currency, manual.source) == (Decimal("450.00"), "USD", "manual")
    _upload(tenant, _nce_file(tenant))
    payable = MicrosoftPayable.objects.get()
    # The amount entered by hand still stands; the file's is kept beside it for finance to choose.
    assert (payable.pk, payable.amount, payable.source, payable.due_date) == (
        manual.pk, Decimal("450.00"), "manual", dt.date(2027, 1, 15),
    )  # fmt: skip
    assert (payable.manual_amount, payable.imported_amount, payable.difference) == (
        Decimal("450.00"), Decimal("464.82"), Decimal("14.82"),
    )  # fmt: skip
    assert payable.notes == "From the Partner Center invoice PDF.\nDue date Jan 15, 2027 kept: it was set by hand."
    event = AuditEvent.objects.get(action="microsoft_payable.imported")
    assert (event.data["previous_amount"], event.data["amount"], event.data["due_date_kept"]) == (
        "450.00", "464.82", True,
    )  # fmt: skip
    assert event.data["manual_amount_kept"] is True


def test_a_months_legacy_and_new_commerce_files_add_up(tenant: Tenant) -> None:
    one = str(tenant.customer.tenant_id)
    _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=one, subtotal="100.00", total="120.00")]))
    _upload(tenant, csv_bytes(LEGACY_HEADER, [legacy_row(customer_id=one)]))  # 48.00
    assert MicrosoftPayable.objects.get().amount == Decimal("168.00")
    # A corrected new-commerce file of the month replaces the first one.
    _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=one, subtotal="90.00", total="108.00")]))
    assert MicrosoftPayable.objects.get().amount == Decimal("156.00")


def test_a_payable_is_entered_by_hand_and_replaced(tenant: Tenant) -> None:
    from billing.reconciliation.errors import PayableInvalid

    microsoft_payable_set(
        partner=tenant.partner, actor=tenant.admin, period="2026-10", amount=Decimal("100.005"), currency="EUR",
        due_date=dt.date(2026, 12, 30),
    )  # fmt: skip
    payable = microsoft_payable_set(
        partner=tenant.partner, actor=tenant.admin, period="2026-10", amount=Decimal("120"), currency="EUR",
        due_date=dt.date(2026, 12, 31),
    )  # fmt: skip
    assert list(MicrosoftPayable.objects.values_list("amount", "due_date")) == [
        (Decimal("120.00"), dt.date(2026, 12, 31))
    ]
    events = AuditEvent.objects.filter(action="microsoft_payable.set").order_by("pk")
    assert [(e.data["previous_amount"], e.data["amount"]) for e in events] == [(None, "100.01"), ("100.01", "120.00")]
    assert payable.due_date_manual
    with pytest.raises(PayableInvalid):
        microsoft_payable_set(
            partner=tenant.partner, actor=tenant.admin, period="2026-13", amount=Decimal(1), currency="EUR",
            due_date=dt.date(2026, 12, 31),
        )  # fmt: skip


# --- usage billing ------------------------------------------------------------------------------------------


def test_usage_is_billed_once_with_the_markup(tenant: Tenant) -> None:
    _subs(tenant)
    imp = _upload(tenant, _nce_file(tenant))

    invoices = reconciliation_usage_bill(reconciliation_import=imp, actor=tenant.finance, markup_percent=Decimal(15))

    (invoice,) = invoices
    assert (invoice.customer, invoice.status, invoice.period, invoice.currency) == (tenant.customer, "draft", "", "USD")
    assert invoice.notes == "Microsoft cloud usage, November 2026."
    (line,) = invoice.lines.all()
    # 12.35 x 1.15 = 14.2025 (unit price, four places); amount 14.20; tax 20 % of the Azure plan: 2.84.
    assert (line.kind, line.description, line.quantity, line.unit_price, line.amount, line.tax_amount) == (
        "usage", "Azure plan (1 Nov 2026–30 Nov 2026)", Decimal("1.0000"), Decimal("14.2025"), Decimal("14.20"),
        Decimal("2.84"),
    )  # fmt: skip
    assert (line.subscription.microsoft_subscription_id, line.period_start, line.period_end) == (
        AZURE_ID, dt.date(2026, 11, 1), dt.date(2026, 11, 30),
    )  # fmt: skip
    assert invoice.total == Decimal("17.04")
    usage = ReconciliationLine.objects.get(is_usage=True)
    assert (usage.billed_invoice_line, usage.billed_invoice) == (line, invoice)

    assert reconciliation_usage_bill(reconciliation_import=imp, actor=tenant.finance, markup_percent=Decimal(15)) == []
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1
    assert AuditEvent.objects.filter(action="reconciliation.usage_billed").count() == 1  # the second did nothing


def test_usage_of_a_later_file_joins_the_same_draft_and_keeps_the_earlier_links(tenant: Tenant) -> None:
    _subs(tenant)
    first = _upload(tenant, _nce_file(tenant))
    (invoice,) = reconciliation_usage_bill(reconciliation_import=first, actor=None, markup_percent=Decimal(0))
    later = _upload(
        tenant,
        csv_bytes(
            NEW_COMMERCE_HEADER,
            [
                nce_row(customer_id=str(tenant.customer.tenant_id), subscription_id=AZURE_ID, product="Azure plan",
                        charge_type="usage", subtotal="5.00", total="5.00", start="11/15/2026", end="11/30/2026",
                        meter="Blob storage"),
                nce_row(customer_id=str(tenant.customer.tenant_id), subscription_id=AZURE_ID, product="Azure plan",
                        charge_type="usage", subtotal="0.00", total="0.00", meter="Free tier"),
            ],
        ),
    )  # fmt: skip
    (again,) = reconciliation_usage_bill(reconciliation_import=later, actor=None, markup_percent=Decimal(0))
    assert again.pk == invoice.pk
    assert [(x.position, x.unit_price) for x in again.lines.order_by("position")] == [
        (1, Decimal("12.3500")),
        (2, Decimal("5.0000")),
    ]
    links = dict(
        ReconciliationLine.objects.filter(subtotal__gt=0, is_usage=True).values_list(
            "subtotal", "billed_invoice_line__position"
        )
    )
    assert links == {Decimal("12.35"): 1, Decimal("5.00"): 2}  # the first link follows its rewritten line
    assert ReconciliationLine.objects.get(subtotal=0, reconciliation_import=later).billed_at is None  # zero: not billed


def test_usage_goes_on_the_generated_draft_of_the_period(tenant: Tenant) -> None:
    _subs(tenant)
    (generated_id,) = invoices_generate(partner=tenant.partner, period="2026-11").created
    imp = _upload(tenant, _nce_file(tenant))
    (invoice,) = reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(20))
    assert invoice.pk == generated_id
    assert [(x.kind, x.amount) for x in invoice.lines.order_by("position")] == [
        ("subscription", Decimal("0.00")),  # the Azure plan itself
        ("subscription", Decimal("400.00")),  # Microsoft 365 E3: 10 x 40.00
        ("usage", Decimal("14.82")),  # 12.35 x 1.20
    ]


def test_only_a_done_import_is_billed(tenant: Tenant) -> None:
    from billing.reconciliation.errors import ReconciliationInvalid

    imp = _upload(tenant, b"Name\r\nx\r\n")
    with pytest.raises(ReconciliationInvalid):
        reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(10))


# --- margins ------------------------------------------------------------------------------------------------


def test_margin_per_customer_and_subscription(tenant: Tenant, django_assert_num_queries) -> None:
    e3, azure = _subs(tenant)
    (generated_id,) = invoices_generate(partner=tenant.partner, period="2026-11").created
    imp = _upload(tenant, _nce_file(tenant))
    scope = scope_for_user(tenant.finance)
    one, two = tenant.customer, tenant.other_customer

    with django_assert_num_queries(3):
        by_customer = reconciliation_margin_by_customer(scope=scope, reconciliation_import=imp)
    assert by_customer == [
        # cost 360.00 + 12.35 - 36.00; billed: the generated invoice's 400.00 (E3) + 0.00 (Azure plan)
        CustomerMargin(one.pk, one.name, "USD", Decimal("336.35"), Decimal("400.00"), Decimal("63.65")),
        CustomerMargin(two.pk, two.name, "USD", Decimal("18.00"), Decimal("0.00"), Decimal("-18.00")),
    ]

    reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(20))  # +14.82

    with django_assert_num_queries(3):
        by_subscription = reconciliation_margin_by_subscription(scope=scope, reconciliation_import=imp)
    assert by_subscription == [
        SubscriptionMargin(azure.pk, AZURE_ID, "Azure plan", one.pk, one.name, "USD", Decimal("12.35"),
                           Decimal("14.82"), Decimal("2.47")),
        SubscriptionMargin(e3.pk, E3_ID, "Microsoft 365 E3", one.pk, one.name, "USD", Decimal("324.00"),
                           Decimal("400.00"), Decimal("76.00")),
        SubscriptionMargin(None, UNKNOWN_SUB, "Microsoft 365 Business Basic", two.pk, two.name, "USD",
                           Decimal("18.00"), Decimal("0.00"), Decimal("-18.00")),
    ]  # fmt: skip
    assert reconciliation_margin_by_customer(scope=scope, reconciliation_import=imp)[0].margin == Decimal("78.47")

    invoice = invoice_issue(invoice=Invoice.objects.get(pk=generated_id), actor=None)
    invoice_void(invoice=invoice, actor=None, reason="Wrong quantities")
    assert reconciliation_margin_by_customer(scope=scope, reconciliation_import=imp)[0] == CustomerMargin(
        one.pk, one.name, "USD", Decimal("336.35"), Decimal("0.00"), Decimal("-336.35")
    )


def test_margins_are_for_the_imports_partner_staff_only(tenant: Tenant, other_tenant: Tenant) -> None:
    imp = _upload(tenant, _nce_file(tenant))
    assert (
        reconciliation_margin_by_customer(scope=scope_for_user(other_tenant.finance), reconciliation_import=imp) == []
    )
    assert (
        reconciliation_margin_by_subscription(scope=scope_for_user(tenant.customer_admin), reconciliation_import=imp)
        == []
    )


# --- the job ------------------------------------------------------------------------------------------------


def test_a_large_file_is_imported_by_the_job_after_commit(
    tenant: Tenant, settings, django_capture_on_commit_callbacks
) -> None:
    settings.RECONCILIATION_INLINE_MAX_LINES = 2
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        imp = _upload(tenant, _nce_file(tenant))
    assert (imp.status, imp.kind, imp.total_lines, imp.percent) == ("pending", "new_commerce", 5, 0)
    assert ReconciliationLine.objects.count() == 0
    assert len(scheduled) == 1
    scheduled[0]()  # the worker (eager in tests)
    imp.refresh_from_db()
    assert (imp.status, imp.matched_lines) == ("done", 4)


def test_the_job_claims_an_import_once(tenant: Tenant, settings, django_capture_on_commit_callbacks) -> None:
    settings.RECONCILIATION_INLINE_MAX_LINES = 0
    with django_capture_on_commit_callbacks(execute=False):
        imp = _upload(tenant, _nce_file(tenant))
    assert reconciliation_import_run_task.delay(import_id=imp.pk).get() == "done"
    events = AuditEvent.objects.count()
    assert reconciliation_import_run_task.delay(import_id=imp.pk).get() == "done"  # a no-op
    assert reconciliation_import_run(import_id=imp.pk).status == "done"
    assert (ReconciliationLine.objects.count(), MicrosoftPayable.objects.count(), AuditEvent.objects.count()) == (
        5, 1, events,
    )  # fmt: skip


def test_an_import_another_worker_runs_is_left_alone_until_it_is_stale(
    tenant: Tenant, settings, django_capture_on_commit_callbacks
) -> None:
    settings.RECONCILIATION_INLINE_MAX_LINES = 0
    with django_capture_on_commit_callbacks(execute=False):
        imp = _upload(tenant, _nce_file(tenant))
    with clock.frozen(AT):
        ReconciliationImport.objects.filter(pk=imp.pk).update(status="running", started_at=AT)
        assert reconciliation_import_run(import_id=imp.pk).status == "running"
        assert ReconciliationLine.objects.count() == 0
    with clock.frozen(AT + dt.timedelta(hours=2)):  # its worker died: the import is taken over
        assert reconciliation_import_run(import_id=imp.pk).status == "done"
    assert ReconciliationLine.objects.count() == 5


def test_a_failed_run_goes_back_to_pending_and_a_new_upload_retries_it(
    tenant: Tenant, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from billing.reconciliation.services import imports as service

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    real = service._write
    monkeypatch.setattr(service, "_write", broken)
    content = _nce_file(tenant)
    with pytest.raises(RuntimeError):
        _upload(tenant, content)
    imp = ReconciliationImport.objects.get()
    assert (imp.status, imp.started_at, ReconciliationLine.objects.count()) == ("pending", None, 0)
    monkeypatch.setattr(service, "_write", real)
    with django_capture_on_commit_callbacks(execute=True) as scheduled:
        again = _upload(tenant, content)
    assert (again.pk, len(scheduled)) == (imp.pk, 1)
    imp.refresh_from_db()
    assert (imp.status, imp.matched_lines) == ("done", 4)


def test_progress_is_written_while_the_file_is_checked(tenant: Tenant, monkeypatch) -> None:
    from billing.reconciliation.services import imports as service

    seen: list[tuple[str, int, int, int]] = []
    real = service._write

    def spy(imp, **kwargs):
        fresh = ReconciliationImport.objects.get(pk=imp.pk)
        seen.append((fresh.status, fresh.processed_lines, fresh.total_lines, fresh.percent))
        return real(imp, **kwargs)

    monkeypatch.setattr(service, "BATCH", 2)
    monkeypatch.setattr(service, "_write", spy)
    imp = _upload(tenant, _nce_file(tenant))
    # Rows 2..6 were checked (row 6 last reported) before any line was written: half way.
    assert seen == [("running", 5, 5, 50)]
    assert (imp.status, imp.percent, ReconciliationLine.objects.count()) == ("done", 100, 5)


def test_matching_is_set_based(tenant: Tenant) -> None:
    """The queries of an import do not grow with its lines (no query per line)."""
    subscription(tenant.customer, microsoft_id=E3_ID)
    one = str(tenant.customer.tenant_id)

    def queries(n: int, period: str) -> int:
        rows = [nce_row(customer_id=one if i % 2 else str(uuid.uuid4()), subscription_id=E3_ID, subtotal=f"{n}.{i:02d}")
                for i in range(n)]  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, rows), period=period)
        return len(ctx.captured_queries)

    assert queries(5, "2026-11") == queries(40, "2026-12")  # each makes its period's payable


# --- API ----------------------------------------------------------------------------------------------------

URL = "/api/v1/reconciliation-imports/"


def _file(content: bytes, name: str = "G012345678.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_finance_uploads_a_file_through_the_api(tenant: Tenant, api_for) -> None:
    _subs(tenant)
    client = api_for(tenant.finance)
    content = _nce_file(tenant)
    response = client.post(URL, {"file": _file(content), "period": "2026-11"}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("status", "kind", "period", "total", "currency", "total_lines", "matched_lines",
                                 "unmatched_lines", "errors", "percent", "file_name")} == {
        "status": "done", "kind": "new_commerce", "period": "2026-11", "total": "464.82", "currency": "USD",
        "total_lines": 5, "matched_lines": 4, "unmatched_lines": 1, "errors": [], "percent": 100,
        "file_name": "G012345678.csv",
    }  # fmt: skip
    assert {k: body["payable"][k] for k in ("period", "amount", "currency", "due_date", "source")} == {
        "period": "2026-11", "amount": "464.82", "currency": "USD", "due_date": "2027-01-30", "source": "import",
    }  # fmt: skip
    assert body["unmatched_customers"] == [
        {"ms_customer_id": FOURTH_COFFEE, "customer_name": "Fourth Coffee",
         "customer_domain": "fourthcoffee.onmicrosoft.com", "lines": 1, "subtotal": "36.00",
         "first_line_id": ReconciliationLine.objects.get(customer=None).pk},
    ]  # fmt: skip

    again = client.post(URL, {"file": _file(content, "again.csv")}, format="multipart")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])

    listed = client.get(URL).json()["results"]
    assert [(x["id"], x["payable"]["amount"], x["unmatched_customers"]) for x in listed] == [
        (body["id"], "464.82", None)
    ]
    detail = client.get(f"{URL}{body['id']}/")
    assert (detail.status_code, detail.json()["matched_lines"]) == (200, 4)


def test_a_refused_file_answers_with_its_errors(tenant: Tenant, api_for) -> None:
    content = csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id), total="ten")])
    response = api_for(tenant.admin).post(URL, {"file": _file(content)}, format="multipart")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["errors"], response.json()["payable"]) == (
        "refused", [{"row": 2, "column": "Total", "message": "'ten' is not a number."}], None,
    )  # fmt: skip


def test_upload_errors_are_json_per_field(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    assert client.post(URL, {}, format="multipart").json()["fields"] == {"file": ["No file was submitted."]}
    bad_period = client.post(URL, {"file": _file(b"x"), "period": "2026-13"}, format="multipart")
    assert (bad_period.status_code, bad_period.json()["fields"]) == (
        400,
        {"period": ["Give the period as YYYY-MM, e.g. 2026-11."]},
    )
    empty = client.post(URL, {"file": _file(b"")}, format="multipart")
    assert empty.status_code == 400
    assert list(empty.json()["fields"]) == ["file"]
    assert ReconciliationImport.objects.count() == 0


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_agents_and_customers_may_not_upload_or_read(tenant: Tenant, api_for, role: str) -> None:
    imp = _upload(tenant, _nce_file(tenant))
    client = api_for(getattr(tenant, role))
    other = csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id))])
    assert client.post(URL, {"file": _file(other)}, format="multipart").status_code == 403
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{imp.pk}/").status_code == 403
    assert ReconciliationImport.objects.count() == 1


def test_another_partner_sees_no_import(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    imp = _upload(tenant, _nce_file(tenant))
    line = ReconciliationLine.objects.filter(customer=None).first()
    client = api_for(other_tenant.finance)
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{imp.pk}/").status_code == 404
    assert client.get(f"{URL}{imp.pk}/margins/").status_code == 404
    mapped = client.post(f"{URL}{imp.pk}/map/", {"line": line.pk, "customer": other_tenant.customer.pk})
    assert mapped.status_code == 404
    assert client.post(f"{URL}{imp.pk}/bill-usage/", {"markup_percent": "10"}).status_code == 404
    line.refresh_from_db()
    assert line.customer is None


def test_lines_are_mapped_usage_billed_and_margins_read_through_the_api(tenant: Tenant, api_for) -> None:
    _subs(tenant)
    imp = _upload(tenant, _nce_file(tenant))
    line = ReconciliationLine.objects.get(customer=None)
    client = api_for(tenant.finance)

    foreign = client.post(f"{URL}{imp.pk}/map/", {"line": line.pk, "customer": 999999})
    assert (foreign.status_code, list(foreign.json()["fields"])) == (400, ["customer"])
    mapped = client.post(f"{URL}{imp.pk}/map/", {"line": line.pk, "customer": tenant.other_customer.pk})
    assert (mapped.status_code, mapped.json()) == (200, {"lines_mapped": 1})
    twice = client.post(f"{URL}{imp.pk}/map/", {"line": line.pk, "customer": tenant.other_customer.pk})
    assert (twice.status_code, twice.json()["fields"]) == (400, {"line": ["This line is matched already."]})

    billed = client.post(f"{URL}{imp.pk}/bill-usage/", {"markup_percent": "20.00"})
    assert billed.status_code == 200
    assert [(x["customer"], x["status"], x["total"]) for x in billed.json()] == [(tenant.customer.pk, "draft", "17.78")]
    assert client.post(f"{URL}{imp.pk}/bill-usage/", {"markup_percent": "20.00"}).json() == []

    margins = client.get(f"{URL}{imp.pk}/margins/").json()
    assert [(x["customer_name"], x["cost"], x["billed"], x["margin"]) for x in margins["customers"]] == [
        ("Alpha Customer One", "336.35", "14.82", "-321.53"),
        ("Alpha Customer Two", "54.00", "0.00", "-54.00"),
    ]


def test_numbers_too_large_for_the_columns_are_row_errors(tenant: Tenant) -> None:
    huge = "9" * 40 + ".00"
    rows = [nce_row(customer_id=str(tenant.customer.tenant_id), subtotal=huge, quantity="123456789012345")]
    imp = _upload(tenant, csv_bytes(NEW_COMMERCE_HEADER, rows))
    assert _shown(imp.errors) == [
        {"row": 2, "column": "Quantity", "message": "'123456789012345' is too large."},
        {"row": 2, "column": "Subtotal", "message": f"'{huge}' is too large."},
    ]


# --- the command ------------------------------------------------------------------------------------------


def test_the_command_imports_a_file_here_and_now(tenant: Tenant, tmp_path, settings) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.RECONCILIATION_INLINE_MAX_LINES = 0  # the command never leaves it to a worker
    path = tmp_path / "G012345678.csv"
    path.write_bytes(_nce_file(tenant))
    out = StringIO()
    call_command("import_reconciliation", str(path), partner=tenant.partner.slug, stdout=out)
    imp = ReconciliationImport.objects.get()
    assert out.getvalue() == (
        f"import #{imp.pk} done: new_commerce, period 2026-11, 5 lines, 4 matched, 1 unmatched, total 464.82 USD\n"
    )
    again = StringIO()
    call_command("import_reconciliation", str(path), partner=tenant.partner.slug, stdout=again)
    assert again.getvalue().startswith(f"G012345678.csv was imported before as import #{imp.pk}.\n")

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id="")]))
    with pytest.raises(CommandError, match="refused"):
        call_command("import_reconciliation", str(bad), partner=tenant.partner.slug, stdout=StringIO())
    with pytest.raises(CommandError, match="no partner"):
        call_command("import_reconciliation", str(bad), partner="nobody", stdout=StringIO())


def test_usage_in_another_currency_than_the_customers_is_left_unbilled(tenant: Tenant) -> None:
    tenant.customer.currency = "EUR"
    tenant.customer.save(update_fields=["currency"])
    _subs(tenant)
    imp = _upload(tenant, _nce_file(tenant))
    assert reconciliation_usage_bill(reconciliation_import=imp, actor=None, markup_percent=Decimal(10)) == []
    assert Invoice.objects.count() == 0
    assert ReconciliationLine.objects.get(is_usage=True).billed_at is None
    assert AuditEvent.objects.get(action="reconciliation.usage_billed").data == {
        "markup_percent": "10", "lines": 0, "invoices": [], "skipped_other_currency": 1,
    }  # fmt: skip


def test_the_list_takes_the_same_queries_for_one_import_or_many(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    one = str(tenant.customer.tenant_id)

    def upload(i: int) -> None:
        _upload(
            tenant,
            csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=one, subtotal=f"{i}.00")]),
            period=f"2026-{i:02d}",
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    upload(1)
    few = queries()
    for i in range(2, 6):
        upload(i)
    assert len(client.get(URL).json()["results"]) == 5
    assert queries() == few


def test_deleting_the_draft_makes_its_usage_billable_again(tenant: Tenant) -> None:
    from billing.invoicing.services import invoice_draft_delete

    _subs(tenant)
    imp = _upload(tenant, _nce_file(tenant))
    (invoice,) = reconciliation_usage_bill(reconciliation_import=imp, actor=tenant.finance, markup_percent=Decimal(15))
    invoice_draft_delete(invoice=invoice, actor=tenant.finance)
    usage = ReconciliationLine.objects.get(is_usage=True)
    assert (usage.billed_invoice, usage.billed_invoice_line, usage.billed_at) == (None, None, None)
    (again,) = reconciliation_usage_bill(reconciliation_import=imp, actor=tenant.finance, markup_percent=Decimal(15))
    assert again.total == Decimal("17.04")
