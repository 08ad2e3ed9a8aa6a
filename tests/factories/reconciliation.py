"""Partner Center reconciliation files for tests, written with csv.writer from real header lists."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Sequence
from decimal import Decimal

from partner_portal.models import Customer
from subscriptions.models import Subscription

PARTNER_TENANT = "3d4c5b6a-0000-4000-8000-00000000cafe"

# The new-commerce invoice reconciliation file, as Partner Center exports it.
NEW_COMMERCE_HEADER = [
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "InvoiceNumber", "MpnId",
    "Tier2MpnId", "OrderId", "OrderDate", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName",
    "ChargeType", "UnitPrice", "Quantity", "Subtotal", "TaxTotal", "Total", "Currency",
    "PriceAdjustmentDescription", "PublisherName", "PublisherId", "SubscriptionDescription", "SubscriptionId",
    "ChargeStartDate", "ChargeEndDate", "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId",
    "BillableQuantity", "BillingFrequency", "PricingCurrency", "PCToBCExchangeRate", "PCToBCExchangeRateDate",
    "MeterDescription", "ReservationOrderId", "CreditReasonCode", "SubscriptionStartDate", "SubscriptionEndDate",
    "ReferenceId", "ProductQualifiers", "PromotionId", "ProductCategory",
]  # fmt: skip

# The legacy license-based reconciliation file.
LEGACY_HEADER = [
    "PartnerId", "CustomerId", "CustomerName", "MpnId", "Tier2MpnId", "OrderId", "SubscriptionId",
    "SyndicationPartnerSubscriptionNumber", "OfferId", "DurableOfferId", "OfferName", "SubscriptionStartDate",
    "SubscriptionEndDate", "ChargeStartDate", "ChargeEndDate", "ChargeType", "UnitPrice", "Quantity", "Amount",
    "TotalOtherDiscount", "Subtotal", "Tax", "TotalForCustomer", "Currency", "DomainName", "SubscriptionName",
    "SubscriptionDescription", "BillingCycleType", "Region",
]  # fmt: skip


def nce_row(
    *,
    customer_id: str,
    customer_name: str = "Northwind Traders",
    domain: str = "northwind.onmicrosoft.com",
    subscription_id: str = "",
    product: str = "Microsoft 365 E3",
    sku: str = "Microsoft 365 E3",
    charge_type: str = "new",
    unit_price: str = "36.00",
    quantity: str = "10",
    subtotal: str = "360.00",
    tax: str = "0.00",
    total: str = "360.00",
    currency: str = "USD",
    start: str = "11/1/2026",
    end: str = "11/30/2026",
    meter: str = "",
) -> dict[str, str]:
    return {
        "PartnerId": PARTNER_TENANT, "CustomerId": customer_id, "CustomerName": customer_name,
        "CustomerDomainName": domain, "CustomerCountry": "US", "InvoiceNumber": "G012345678", "MpnId": "4000001",
        "Tier2MpnId": "", "OrderId": "ZvQ1rOq2hfXbh", "OrderDate": "10/28/2026", "ProductId": "CFQ7TTC0LFLX",
        "SkuId": "0001", "AvailabilityId": "CFQ7TTC0LDPB", "SkuName": sku, "ProductName": product,
        "ChargeType": charge_type, "UnitPrice": unit_price, "Quantity": quantity, "Subtotal": subtotal,
        "TaxTotal": tax, "Total": total, "Currency": currency, "PriceAdjustmentDescription": "",
        "PublisherName": "Microsoft Corporation", "PublisherId": "", "SubscriptionDescription": product,
        "SubscriptionId": subscription_id, "ChargeStartDate": start, "ChargeEndDate": end,
        "TermAndBillingCycle": "One-Year commitment for monthly/yearly billing", "EffectiveUnitPrice": unit_price,
        "UnitType": "Licenses", "AlternateId": "a1b2c3d4e5f6", "BillableQuantity": quantity,
        "BillingFrequency": "Monthly", "PricingCurrency": currency, "PCToBCExchangeRate": "1",
        "PCToBCExchangeRateDate": "10/1/2026", "MeterDescription": meter, "ReservationOrderId": "",
        "CreditReasonCode": "", "SubscriptionStartDate": "1/1/2026", "SubscriptionEndDate": "12/31/2026",
        "ReferenceId": "", "ProductQualifiers": "", "PromotionId": "", "ProductCategory": "",
    }  # fmt: skip


def legacy_row(
    *,
    customer_id: str,
    customer_name: str = "A. Datum Corporation",
    domain: str = "adatum.onmicrosoft.com",
    subscription_id: str = "",
    offer: str = "Office 365 E1",
    charge_type: str = "Cycle fee",
    unit_price: str = "8.00",
    quantity: str = "5",
    subtotal: str = "40.00",
    tax: str = "8.00",
    total: str = "48.00",
    currency: str = "USD",
    start: str = "11/1/2026",
    end: str = "11/30/2026",
) -> dict[str, str]:
    return {
        "PartnerId": PARTNER_TENANT, "CustomerId": customer_id, "CustomerName": customer_name, "MpnId": "4000001",
        "Tier2MpnId": "", "OrderId": "B4C7D5E8", "SubscriptionId": subscription_id,
        "SyndicationPartnerSubscriptionNumber": "", "OfferId": "91FD106F-4B2C-4938-95AC-F54F74E9A239",
        "DurableOfferId": "91FD106F-4B2C-4938-95AC-F54F74E9A239", "OfferName": offer,
        "SubscriptionStartDate": "1/1/2026", "SubscriptionEndDate": "12/31/2026", "ChargeStartDate": start,
        "ChargeEndDate": end, "ChargeType": charge_type, "UnitPrice": unit_price, "Quantity": quantity,
        "Amount": subtotal, "TotalOtherDiscount": "0", "Subtotal": subtotal, "Tax": tax, "TotalForCustomer": total,
        "Currency": currency, "DomainName": domain, "SubscriptionName": offer, "SubscriptionDescription": offer,
        "BillingCycleType": "Monthly", "Region": "US",
    }  # fmt: skip


def csv_bytes(
    header: Sequence[str],
    rows: Sequence[dict[str, str]],
    *,
    extra_columns: Sequence[str] = (),
    bom: bool = False,
    trailing_comma: bool = False,
) -> bytes:
    """A reconciliation file: the header, then each row by column name; extra columns get a value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = [*header, *extra_columns]
    writer.writerow([*columns, ""] if trailing_comma else columns)
    for row in rows:
        values = [row.get(c, "") if c in header else f"extra {c}" for c in columns]
        writer.writerow([*values, ""] if trailing_comma else values)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def subscription(
    customer: Customer,
    *,
    microsoft_id: str | None = None,
    product: str = "Microsoft 365 E3",
    quantity: int = 10,
    price: str = "40.00",
    cost: str = "36.00",
    tax_rate: str = "0.00",
) -> Subscription:
    return Subscription.objects.create(
        partner=customer.partner, customer=customer, product=product, quantity=quantity,
        microsoft_subscription_id=microsoft_id or str(uuid.uuid4()), unit_price=Decimal(price),
        unit_cost=Decimal(cost), tax_rate=Decimal(tax_rate), start_date=dt.date(2026, 1, 1),
    )  # fmt: skip
