"""Every documented kind of Partner Center reconciliation file, as partners have them: detected by its
header, imported into what it means or refused by name; `;`, BOM, UTF-16, scientific notation, .xlsx."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from billing.reconciliation import layouts, parsing
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from billing.reconciliation.services import reconciliation_import_create, reconciliation_usage_bill
from tests.conftest import Tenant
from tests.factories.reconciliation import PARTNER_TENANT, subscription

pytestmark = pytest.mark.django_db

E3_ID = "5b0c6a3e-6f1b-4a7e-9d55-0c8f2a7b1e01"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _row(kind: str, customer_id: str, **values: str) -> dict[str, str]:
    """A realistic charge row of each documented kind (sample values as Microsoft's pages give them)."""
    common = {
        "PartnerId": PARTNER_TENANT, "PartnerName": "Contoso Cloud Partners", "CustomerId": customer_id,
        "CustomerName": "Northwind Traders", "CustomerDomainName": "northwind.onmicrosoft.com",
        "CustomerCountry": "US", "MpnId": "4000001", "ResellerMpnId": "", "Tier2MpnId": "",
        "InvoiceNumber": "G012345678", "ChargeStartDate": "11/1/2026", "ChargeEndDate": "11/30/2026",
    }  # fmt: skip
    rows = {
        layouts.NEW_COMMERCE: {
            "OrderId": "ZvQ1rOq2hfXbh", "OrderDate": "10/28/2026", "ProductId": "CFQ7TTC0LFLX", "SkuId": "0001",
            "AvailabilityId": "CFQ7TTC0LDPB", "SkuName": "Microsoft 365 E3", "ProductName": "Microsoft 365 E3",
            "ChargeType": "new", "UnitPrice": "36.00", "Quantity": "10", "Subtotal": "360.00", "TaxTotal": "72.00",
            "Total": "432.00", "Currency": "USD", "PublisherName": "Microsoft Corporation",
            "SubscriptionDescription": "Microsoft 365 E3", "SubscriptionId": E3_ID,
            "TermAndBillingCycle": "One-Year commitment for monthly/yearly billing", "EffectiveUnitPrice": "36.00",
            "UnitType": "Licenses", "BillableQuantity": "10", "BillingFrequency": "Monthly",
            "PricingCurrency": "USD", "PCToBCExchangeRate": "1", "PCToBCExchangeRateDate": "10/1/2026",
        },
        layouts.LEGACY: {
            "CustomerName": "A. Datum Corporation", "OrderId": "B4C7D5E8", "SubscriptionId": "usCBMgAAAAAAAAIA",
            "SyndicationPartnerSubscriptionNumber": E3_ID, "OfferId": "91FD106F-4B2C-4938-95AC-F54F74E9A239",
            "DurableOfferId": "91FD106F-4B2C-4938-95AC-F54F74E9A239", "OfferName": "Office 365 E1",
            "SubscriptionStartDate": "1/1/2026", "SubscriptionEndDate": "12/31/2026", "ChargeType": "Cycle fee",
            "UnitPrice": "8.00", "Quantity": "5", "Amount": "40.00", "TotalOtherDiscount": "0",
            "Subtotal": "40.00", "Tax": "8.00", "TotalForCustomer": "48.00", "Currency": "USD",
            "DomainName": "adatum.onmicrosoft.com", "SubscriptionName": "Office 365 E1",
            "SubscriptionDescription": "Office 365 E1", "BillingCycleType": "Monthly",
        },
        layouts.LEGACY_USAGE: {
            "PartnerBillableAccountId": "1010578050", "CustomerCompanyName": "Tailspin Toys",
            "SubscriptionId": "usCBMgAAAAAAAAIA", "SubscriptionName": "Microsoft Azure",
            "SubscriptionDescription": "Microsoft Azure", "OrderId": "566890604832738111",
            "ServiceName": "VIRTUAL MACHINES", "ServiceType": "Standard_D1 VM (Non-Windows)",
            "ResourceGuid": "DA41BC5F-C52D-4464-8A8D-8C8DCC43503B", "ResourceName": "Compute Hours",
            "Region": "US West", "Sku": "", "DetailLineItemId": "1", "ConsumedQuantity": "1.2E-05",
            "IncludedQuantity": "0", "OverageQuantity": "1.2E-05", "ListPrice": "0.0520", "PretaxCharges": "12.35",
            "TaxAmount": "2.47", "PostTaxTotal": "14.82", "Currency": "USD", "PretaxEffectiveRate": "0.0520",
            "PostTaxEffectiveRate": "0.0624", "ChargeType": "Usage", "DomainName": "tailspin.onmicrosoft.com",
            "BillingCycleType": "Monthly", "Unit": "Hours",
        },
        layouts.DAILY_RATED_USAGE: {
            "ProductId": "DZH318Z0BNZ5", "SkuId": "006G", "AvailabilityId": "DZH318Z08B80", "SkuName": "Tables",
            "ProductName": "Tables", "PublisherName": "Microsoft", "SubscriptionDescription": "Azure plan",
            "SubscriptionId": E3_ID, "UsageDate": "11/3/2026", "MeterType": "1/10K Transactions",
            "MeterCategory": "Storage", "MeterId": "de54ab8e-1f04-4c47-a2d5-b3c0ec3e6a94",
            "MeterSubCategory": "Tables", "MeterName": "LRS Batch Write Operations", "MeterRegion": "US West",
            "Unit": "10K", "ResourceLocation": "westus", "ConsumedService": "Microsoft.Storage",
            "ResourceGroup": "rg-web", "ResourceURI": "/subscriptions/x/resourceGroups/rg-web", "ChargeType": "new",
            "UnitPrice": "0.0036", "Quantity": "1.2E-05", "UnitType": "1/10K", "BillingPreTaxTotal": "0.01",
            "BillingCurrency": "USD", "PricingPreTaxTotal": "0.01", "PricingCurrency": "USD",
            "EffectiveUnitPrice": "0.0036", "PCToBCExchangeRate": "1", "PCToBCExchangeRateDate": "10/1/2026",
            "EntitlementId": E3_ID, "EntitlementDescription": "Azure plan", "PartnerEarnedCreditPercentage": "15",
            "CreditPercentage": "0",
        },
        layouts.USAGE_AGGREGATED: {
            "ProductId": "DZH318Z0BNZ5", "SkuId": "006G", "MeterId": "de54ab8e-1f04-4c47-a2d5-b3c0ec3e6a94",
            "PriceBenefits": "PROMO-AZ-2026", "PartnerPrice": "0.0031", "EffectiveUnitPrice": "0.0029",
            "BillingPreTaxTotal": "12.35", "BillingCurrency": "USD",
        },
    }  # fmt: skip
    return {**common, **rows[kind], **values}


def _csv(
    kind: str, rows: list[dict[str, str]], *, delimiter: str = ",", encoding: str = "utf-8", bom: bytes = b""
) -> bytes:
    columns = layouts.DOCUMENTED_COLUMNS[kind]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return bom + out.getvalue().encode(encoding)


def _upload(tenant: Tenant, content: bytes, name: str = "recon.csv") -> ReconciliationImport:
    return reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name=name, content=content, period=None
    )


def _payable(tenant: Tenant) -> MicrosoftPayable:
    return MicrosoftPayable.objects.get(partner=tenant.partner, period="2026-11", currency="USD")


@pytest.mark.parametrize("kind", list(layouts.DOCUMENTED_COLUMNS))
def test_every_documented_header_is_told_apart(kind: str) -> None:
    assert parsing.detect_kind(layouts.DOCUMENTED_COLUMNS[kind]) == kind
    assert parsing.detect_kind([c.upper() for c in layouts.DOCUMENTED_COLUMNS[kind]]) == kind


def test_a_new_commerce_invoice_file_becomes_the_payable(tenant: Tenant) -> None:
    imp = _upload(tenant, _csv(layouts.NEW_COMMERCE, [_row(layouts.NEW_COMMERCE, str(tenant.customer.tenant_id))]))
    assert (imp.status, imp.kind, imp.total, imp.matched_lines) == ("done", "new_commerce", Decimal("432.00"), 1)
    assert _payable(tenant).amount == Decimal("432.00")


def test_a_legacy_license_based_file_becomes_the_payable(tenant: Tenant) -> None:
    sub = subscription(tenant.customer, microsoft_id="usCBMgAAAAAAAAIA")
    imp = _upload(tenant, _csv(layouts.LEGACY, [_row(layouts.LEGACY, str(tenant.customer.tenant_id))]))
    assert (imp.status, imp.kind, imp.total) == ("done", "legacy", Decimal("48.00"))
    line = ReconciliationLine.objects.get(reconciliation_import=imp)
    assert (line.customer, line.subscription, line.product, line.is_usage) == (
        tenant.customer,
        sub,
        "Office 365 E1",
        False,
    )
    assert _payable(tenant).amount == Decimal("48.00")


def test_a_legacy_usage_based_file_is_imported_as_usage_of_its_customer(tenant: Tenant) -> None:
    rows = [_row(layouts.LEGACY_USAGE, str(tenant.customer.tenant_id).upper())]
    imp = _upload(tenant, _csv(layouts.LEGACY_USAGE, rows))
    assert (imp.status, imp.kind, imp.total) == ("done", "legacy_usage", Decimal("14.82"))
    line = ReconciliationLine.objects.get(reconciliation_import=imp)
    assert (line.customer, line.customer_name, line.product, line.is_usage) == (
        tenant.customer,
        "Tailspin Toys",
        "VIRTUAL MACHINES",
        True,
    )
    assert (line.subtotal, line.tax_total, line.total, line.unit_price) == (
        Decimal("12.35"),
        Decimal("2.47"),
        Decimal("14.82"),
        Decimal("0.0520"),
    )
    assert _payable(tenant).amount == Decimal("14.82")


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        (layouts.DAILY_RATED_USAGE, "This is the new-commerce daily rated usage file"),
        (layouts.USAGE_AGGREGATED, "This is the new-commerce billed usage aggregated file"),
    ],
)
def test_usage_only_files_are_refused_by_name_saying_what_to_upload(tenant: Tenant, kind: str, named: str) -> None:
    imp = _upload(tenant, _csv(kind, [_row(kind, str(tenant.customer.tenant_id))]))
    assert (imp.status, imp.kind) == ("refused", kind)
    assert imp.errors[0]["message"].startswith(named)
    assert "Upload the new-commerce invoice reconciliation file of the same invoice instead" in imp.errors[0]["message"]
    assert ReconciliationLine.objects.count() == MicrosoftPayable.objects.count() == 0


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom"),
    [
        (";", "utf-8", codecs.BOM_UTF8),  # Excel, Russian or German locale, "CSV UTF-8"
        (";", "utf-8", b""),
        ("\t", "utf-16-le", codecs.BOM_UTF16_LE),  # Excel's "Unicode text"
        ("\t", "utf-16-be", codecs.BOM_UTF16_BE),
        ("\t", "utf-8", b""),
    ],
)
def test_files_resaved_by_excel_are_read(tenant: Tenant, delimiter: str, encoding: str, bom: bytes) -> None:
    row = _row(layouts.NEW_COMMERCE, str(tenant.customer.tenant_id), CustomerName="Société Générale; Ёлка")
    imp = _upload(tenant, _csv(layouts.NEW_COMMERCE, [row], delimiter=delimiter, encoding=encoding, bom=bom))
    assert (imp.status, imp.kind, imp.total) == ("done", "new_commerce", Decimal("432.00"))
    assert ReconciliationLine.objects.get(reconciliation_import=imp).customer_name == "Société Générale; Ёлка"


def test_numbers_in_scientific_notation_are_read_exactly(tenant: Tenant) -> None:
    assert parsing.parse_decimal("1.2E-05") == Decimal("0.000012")
    assert parsing.parse_decimal("-3.6e+01") == Decimal("-36")
    row = _row(layouts.NEW_COMMERCE, str(tenant.customer.tenant_id), UnitPrice="3.6E+01", Quantity="1.25E+02",
               Subtotal="4.5E+03", TaxTotal="0", Total="4.5E+03")  # fmt: skip
    imp = _upload(tenant, _csv(layouts.NEW_COMMERCE, [row]))
    assert imp.status == "done", imp.errors
    line = ReconciliationLine.objects.get(reconciliation_import=imp)
    assert (line.unit_price, line.quantity, line.total) == (Decimal("36"), Decimal("125"), Decimal("4500.00"))


def _xlsx(kind: str, rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(layouts.DOCUMENTED_COLUMNS[kind]))
    for row in rows:
        sheet.append(row)
    book.create_sheet("Notes").append(["not read"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_workbook_is_read_from_its_first_sheet(tenant: Tenant) -> None:
    values = _row(layouts.LEGACY_USAGE, str(tenant.customer.tenant_id))
    # Excel's dates have no time zone.
    start, end = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30, 23, 59)  # noqa: DTZ001
    cells: dict[str, object] = {
        **values, "ChargeStartDate": start, "ChargeEndDate": end,
        "ConsumedQuantity": 1.2e-05, "PretaxEffectiveRate": 0.052, "PretaxCharges": 12.35, "TaxAmount": 2.47,
        "PostTaxTotal": 14.82, "DetailLineItemId": 1,
    }  # fmt: skip
    content = _xlsx(layouts.LEGACY_USAGE, [[cells.get(c) for c in layouts.LEGACY_USAGE_COLUMNS]])
    assert parsing.read_charges(content)[0] == layouts.LEGACY_USAGE
    imp = _upload(tenant, content, name="usage.xlsx")
    assert (imp.status, imp.kind, imp.total, imp.period) == ("done", "legacy_usage", Decimal("14.82"), "2026-11")
    line = ReconciliationLine.objects.get(reconciliation_import=imp)
    assert (line.charge_start, line.charge_end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (line.subtotal, line.unit_price, line.customer) == (Decimal("12.35"), Decimal("0.0520"), tenant.customer)
    _, charges = parsing.read_charges(content)
    assert [c.quantity for c in charges if isinstance(c, parsing.ChargeRow)] == [Decimal("0.0000")]


def test_a_workbook_of_another_kind_is_refused_by_name(tenant: Tenant) -> None:
    values = _row(layouts.DAILY_RATED_USAGE, str(tenant.customer.tenant_id))
    imp = _upload(
        tenant, _xlsx(layouts.DAILY_RATED_USAGE, [[values.get(c) for c in layouts.DAILY_RATED_USAGE_COLUMNS]])
    )
    assert (imp.status, imp.kind) == ("refused", "daily_rated_usage")
    assert "daily rated usage" in imp.errors[0]["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: a header row is expected."),
        (codecs.BOM_UTF16_LE, "The file is empty: a header row is expected."),
        (b"PK\x03\x04\x14\x00", "The file is a ZIP archive but not an Excel"),
        (b"%PDF-1.7\n\x00\x00\x00binary", "The file is neither text"),
        (b"CustomerCompanyName;Currency\r\nTailspin;USD\r\n", "The column CustomerId is missing."),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_nothing_stored(tenant: Tenant, content: bytes, message: str) -> None:
    imp = _upload(tenant, content)
    assert imp.status == "refused"
    assert imp.errors[0]["message"].startswith(message), imp.errors
    assert ReconciliationLine.objects.count() == MicrosoftPayable.objects.count() == 0


def test_an_empty_workbook_is_refused(tenant: Tenant) -> None:
    out = io.BytesIO()
    Workbook().save(out)
    imp = _upload(tenant, out.getvalue(), name="empty.xlsx")
    assert imp.status == "refused"
    assert imp.errors[0]["message"] == "The file is empty: a header row is expected."


def _refused_in(tenant: Tenant, language: str) -> ReconciliationImport:
    header_only = [c for c in layouts.NEW_COMMERCE_COLUMNS if c != "TaxTotal"]
    row = _row(layouts.NEW_COMMERCE, str(tenant.customer.tenant_id))
    out = io.StringIO()
    csv.writer(out).writerows([header_only, [row.get(c, "") for c in header_only]])
    with translation.override(language):
        return _upload(tenant, out.getvalue().encode())


@pytest.mark.parametrize(("uploaded_in", "viewed_in"), [("ru", "en"), ("en", "ru")])
def test_parser_messages_are_shown_in_the_readers_language(
    tenant: Tenant, client_for, api_for, uploaded_in: str, viewed_in: str
) -> None:
    imp = _refused_in(tenant, uploaded_in)
    english, russian = "The column TaxTotal is missing.", "Нет столбца TaxTotal."
    expected, other = (english, russian) if viewed_in == "en" else (russian, english)
    tenant.finance.language = viewed_in  # the reader's saved language
    tenant.finance.save(update_fields=["language"])
    html = client_for(tenant.finance).get(reverse("reconciliation_detail", args=[imp.pk])).content.decode()
    assert expected in html
    assert other not in html
    api = api_for(tenant.finance).get(f"/api/v1/reconciliation-imports/{imp.pk}/", HTTP_ACCEPT_LANGUAGE=viewed_in)
    assert api.json()["errors"][0]["message"] == expected


def test_a_refused_kind_is_named_in_russian_when_read_in_russian(tenant: Tenant) -> None:
    kind = layouts.DAILY_RATED_USAGE
    imp = _upload(tenant, _csv(kind, [_row(kind, str(tenant.customer.tenant_id))]))
    with translation.override("ru"):
        assert imp.shown_errors[0]["message"].startswith("Это файл ежедневного потребления новой коммерции")
    assert imp.shown_errors[0]["message"].startswith("This is the new-commerce daily rated usage file")


def test_a_file_resaved_by_excel_in_german_or_russian_has_decimal_commas_and_dotted_dates(tenant: Tenant) -> None:
    row = _row(
        layouts.NEW_COMMERCE, str(tenant.customer.tenant_id), UnitPrice="36,00", Quantity="10", Subtotal="360,00",
        TaxTotal="68,40", Total="428,40", ChargeStartDate="01.11.2026", ChargeEndDate="30.11.2026",
        EffectiveUnitPrice="1,2E-05",
    )  # fmt: skip
    imp = _upload(tenant, _csv(layouts.NEW_COMMERCE, [row], delimiter=";", bom=codecs.BOM_UTF8))
    assert (imp.status, imp.total, imp.period) == ("done", Decimal("428.40"), "2026-11"), imp.errors
    line = ReconciliationLine.objects.get(reconciliation_import=imp)
    assert (line.unit_price, line.subtotal, line.charge_end) == (
        Decimal("36"),
        Decimal("360.00"),
        dt.date(2026, 11, 30),
    )
    assert parsing.parse_decimal("-1,2E-05", decimal_comma=True) == Decimal("-0.000012")
    with pytest.raises(ValueError, match="not a number"):
        parsing.parse_decimal("36,00")  # a comma-separated file never has decimal commas


def test_legacy_usage_is_billed_on_to_its_customer_with_a_markup(tenant: Tenant) -> None:
    rows = [
        _row(layouts.LEGACY_USAGE, str(tenant.customer.tenant_id)),
        _row(layouts.LEGACY_USAGE, str(tenant.customer.tenant_id), ServiceName="STORAGE", PretaxCharges="1.00",
             TaxAmount="0.20", PostTaxTotal="1.20"),
    ]  # fmt: skip
    imp = _upload(tenant, _csv(layouts.LEGACY_USAGE, rows))
    (invoice,) = reconciliation_usage_bill(reconciliation_import=imp, actor=tenant.finance, markup_percent=Decimal(10))
    assert (invoice.customer, invoice.status, invoice.currency) == (tenant.customer, "draft", "USD")
    lines = list(invoice.lines.order_by("position"))
    # 12.35 x 1.10 = 13.585 (four places), amount 13.59; 1.00 x 1.10 = 1.10.
    assert [(line.kind, line.description, line.unit_price, line.amount) for line in lines] == [
        ("usage", "VIRTUAL MACHINES (1 Nov 2026–30 Nov 2026)", Decimal("13.5850"), Decimal("13.59")),
        ("usage", "STORAGE (1 Nov 2026–30 Nov 2026)", Decimal("1.1000"), Decimal("1.10")),
    ]
    assert ReconciliationLine.objects.filter(reconciliation_import=imp, billed_invoice=invoice).count() == 2
