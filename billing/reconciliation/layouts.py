"""The kinds of Partner Center reconciliation file, their documented columns, and what the portal reads.

Each kind is told apart by its header (`detect_kind`), compared with the column lists Microsoft
documents on learn.microsoft.com (the page is beside each list). Columns are found by name, case and
surrounding blanks ignored, never by position: Microsoft adds, renames and reorders columns
(`ResellerMpnId` was `Tier2MpnId`), so unknown columns are ignored and only the columns a `Layout`
reads are required.

Invoice files are imported: they say what Microsoft invoiced, which is the payable. The usage-only
files (daily rated usage, billed usage aggregated) repeat charges that the new-commerce invoice
reconciliation file of the same invoice already holds; they are refused with a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

NEW_COMMERCE = "new_commerce"
LEGACY = "legacy"
LEGACY_USAGE = "legacy_usage"
DAILY_RATED_USAGE = "daily_rated_usage"
USAGE_AGGREGATED = "usage_aggregated"

# https://learn.microsoft.com/en-us/partner-center/billing/modern-invoice-reconciliation-file
NEW_COMMERCE_COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "InvoiceNumber", "MpnId",
    "ResellerMpnId", "OrderId", "OrderDate", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName",
    "ChargeType", "UnitPrice", "Quantity", "Subtotal", "TaxTotal", "Total", "Currency", "PriceAdjustmentDescription",
    "PublisherName", "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate", "ChargeEndDate",
    "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId", "BillableQuantity", "BillingFrequency",
    "PricingCurrency", "PCToBCExchangeRate", "PCToBCExchangeRateDate", "MeterDescription", "ReservationOrderId",
    "CreditReasonCode", "SubscriptionStartDate", "SubscriptionEndDate", "ReferenceId", "ProductQualifiers",
    "PromotionId", "ProductCategory",
)  # fmt: skip

# https://learn.microsoft.com/en-us/partner-center/billing/daily-rated-usage-recon-files
DAILY_RATED_USAGE_COLUMNS = (
    "PartnerId", "PartnerName", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "MpnId",
    "Tier2MpnId", "InvoiceNumber", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName",
    "PublisherName", "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate", "ChargeEndDate",
    "UsageDate", "MeterType", "MeterCategory", "MeterId", "MeterSubCategory", "MeterName", "MeterRegion", "Unit",
    "ResourceLocation", "ConsumedService", "ResourceGroup", "ResourceURI", "ChargeType", "UnitPrice", "Quantity",
    "UnitType", "BillingPreTaxTotal", "BillingCurrency", "PricingPreTaxTotal", "PricingCurrency", "ServiceInfo1",
    "ServiceInfo2", "Tags", "AdditionalInfo", "EffectiveUnitPrice", "PCToBCExchangeRate", "PCToBCExchangeRateDate",
    "EntitlementId", "EntitlementDescription", "PartnerEarnedCreditPercentage", "CreditPercentage", "CreditType",
    "BenefitOrderId", "BenefitId", "BenefitType",
)  # fmt: skip

# https://learn.microsoft.com/en-us/partner-center/billing/usage-aggregated-reconciliation-files
# (a companion of the invoice file for Azure consumption promotions: rows match the invoice file's by
# ProductId, SkuId and MeterId; PriceBenefits and PartnerPrice are its own columns and decide the kind.
# The other columns listed are those it shares with the daily rated usage file.)
USAGE_AGGREGATED_COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "InvoiceNumber", "ProductId", "SkuId", "MeterId", "ChargeStartDate",
    "ChargeEndDate", "PriceBenefits", "PartnerPrice", "EffectiveUnitPrice", "BillingPreTaxTotal", "BillingCurrency",
)  # fmt: skip

# https://learn.microsoft.com/en-us/partner-center/billing/license-based-recon-files
LEGACY_COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "MpnId", "ResellerMpnId", "OrderId", "SubscriptionId",
    "SyndicationPartnerSubscriptionNumber", "OfferId", "DurableOfferId", "OfferName", "SubscriptionStartDate",
    "SubscriptionEndDate", "ChargeStartDate", "ChargeEndDate", "ChargeType", "UnitPrice", "Quantity", "Amount",
    "TotalOtherDiscount", "Subtotal", "Tax", "TotalForCustomer", "Currency", "DomainName", "SubscriptionName",
    "SubscriptionDescription", "BillingCycleType",
)  # fmt: skip

# https://learn.microsoft.com/en-us/partner-center/billing/usage-based-recon-files
LEGACY_USAGE_COLUMNS = (
    "PartnerId", "PartnerName", "PartnerBillableAccountId", "CustomerCompanyName", "MpnId", "ResellerMpnId",
    "InvoiceNumber", "ChargeStartDate", "ChargeEndDate", "SubscriptionId", "SubscriptionName",
    "SubscriptionDescription", "OrderId", "ServiceName", "ServiceType", "ResourceGuid", "ResourceName", "Region",
    "Sku", "DetailLineItemId", "ConsumedQuantity", "IncludedQuantity", "OverageQuantity", "ListPrice",
    "PretaxCharges", "TaxAmount", "PostTaxTotal", "Currency", "PretaxEffectiveRate", "PostTaxEffectiveRate",
    "ChargeType", "CustomerId", "DomainName", "BillingCycleType", "Unit",
)  # fmt: skip

DOCUMENTED_COLUMNS: dict[str, tuple[str, ...]] = {
    NEW_COMMERCE: NEW_COMMERCE_COLUMNS,
    LEGACY: LEGACY_COLUMNS,
    LEGACY_USAGE: LEGACY_USAGE_COLUMNS,
    DAILY_RATED_USAGE: DAILY_RATED_USAGE_COLUMNS,
    USAGE_AGGREGATED: USAGE_AGGREGATED_COLUMNS,
}

# English names of the kinds, for sentences (translated where they are shown).
KIND_NAMES = {
    NEW_COMMERCE: "new-commerce invoice reconciliation file",
    LEGACY: "legacy license-based reconciliation file",
    LEGACY_USAGE: "legacy usage-based reconciliation file",
    DAILY_RATED_USAGE: "new-commerce daily rated usage file",
    USAGE_AGGREGATED: "new-commerce billed usage aggregated file",
}

# Kinds read but not imported, and why: each names the kind and the file to upload instead.
NOT_IMPORTED = {
    DAILY_RATED_USAGE: gettext_noop(
        "This is the new-commerce daily rated usage file: it lists Azure usage day by day and is not what "
        "Microsoft invoiced. Upload the new-commerce invoice reconciliation file of the same invoice instead: "
        "it holds the same usage charges, with the invoice's totals."
    ),
    USAGE_AGGREGATED: gettext_noop(
        "This is the new-commerce billed usage aggregated file, a companion that explains promotions and "
        "partner earned credit. Upload the new-commerce invoice reconciliation file of the same invoice instead: "
        "it holds what Microsoft invoiced."
    ),
}

# A column only this kind of file has decides at once (the aggregated file repeats many usage columns).
_DECISIVE = {USAGE_AGGREGATED: frozenset({"pricebenefits", "partnerprice"})}
_CUSTOMER_COLUMNS = frozenset({"customerid", "customercompanyname"})


def norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _markers() -> dict[str, frozenset[str]]:
    """Per kind, the documented columns no other kind has."""
    lowered = {kind: {c.lower() for c in columns} for kind, columns in DOCUMENTED_COLUMNS.items()}
    return {
        kind: frozenset(names - set().union(*(other for k, other in lowered.items() if k != kind)))
        for kind, names in lowered.items()
    }


MARKERS = _markers()


def detect_kind(header: Sequence[str]) -> str | None:
    """The kind of file this header belongs to (the one whose own columns it has most), or None."""
    names = {norm(h) for h in header}
    if not names & _CUSTOMER_COLUMNS:
        return None
    for kind, decisive in _DECISIVE.items():
        if names & decisive:
            return kind
    scores = {kind: len(names & markers) for kind, markers in MARKERS.items()}
    best = max(scores, key=lambda kind: scores[kind])  # the first on a tie: new commerce before the others
    return best if scores[best] else None


@dataclass(frozen=True)
class Layout:
    """Which column of a kind of file holds each field of a ChargeRow. A tuple means "the first of
    these the file has"; at least one of them is required."""

    customer_id: str = "CustomerId"
    customer_name: str = "CustomerName"
    customer_domain: str | None = None  # optional
    subscription_id: str = "SubscriptionId"
    product: tuple[str, ...] = ()
    charge_type: str = "ChargeType"
    charge_start: str = "ChargeStartDate"
    charge_end: str = "ChargeEndDate"
    unit_price: str = "UnitPrice"
    quantity: str = "Quantity"
    subtotal: str = "Subtotal"
    tax: str = "TaxTotal"
    total: str = "Total"
    currency: str = "Currency"
    meter: str | None = None  # optional; a meter makes a line usage
    usage: bool = False  # every line of the file is usage


LAYOUTS: dict[str, Layout] = {
    NEW_COMMERCE: Layout(
        customer_domain="CustomerDomainName", product=("ProductName", "SkuName"), meter="MeterDescription"
    ),
    LEGACY: Layout(customer_domain="DomainName", product=("OfferName",), tax="Tax", total="TotalForCustomer"),
    LEGACY_USAGE: Layout(
        customer_name="CustomerCompanyName",
        customer_domain="DomainName",
        product=("ServiceName", "SubscriptionDescription", "SubscriptionName"),
        unit_price="PretaxEffectiveRate",
        quantity="ConsumedQuantity",
        subtotal="PretaxCharges",
        tax="TaxAmount",
        total="PostTaxTotal",
        usage=True,
    ),
}
