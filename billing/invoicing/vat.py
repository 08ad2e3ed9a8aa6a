"""VAT categories of invoice lines (UNCL5305, as EN 16931 uses them): the default a line gets from the
seller's and buyer's countries and VAT numbers, and the rules a category holds a line to.

Pure functions: no database, no clock. The services and the editor's form apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner_portal.einvoice_fields import EU_MEMBER_STATES
from partner_portal.money import quantize


class VatCategory(models.TextChoices):
    """UNCL5305 duty or tax category codes, the subset EN 16931 allows."""

    STANDARD = "S", gettext_lazy("Standard rate")
    ZERO = "Z", gettext_lazy("Zero rated")
    EXEMPT = "E", gettext_lazy("Exempt from VAT")
    REVERSE_CHARGE = "AE", gettext_lazy("Reverse charge")
    INTRA_COMMUNITY = "K", gettext_lazy("Intra-community supply")
    EXPORT = "G", gettext_lazy("Export outside the EU")
    OUTSIDE_SCOPE = "O", gettext_lazy("Outside the scope of VAT")


class VatExemptionCode(models.TextChoices):
    """VATEX codes (CEF VAT exemption reason code list) a line may state beside or instead of a reason."""

    EU_AE = "VATEX-EU-AE", gettext_lazy("Reverse charge")
    EU_IC = "VATEX-EU-IC", gettext_lazy("Intra-community supply")
    EU_G = "VATEX-EU-G", gettext_lazy("Export outside the EU")
    EU_O = "VATEX-EU-O", gettext_lazy("Not subject to VAT")
    EU_132 = "VATEX-EU-132", gettext_lazy("Exempt based on article 132 of Council Directive 2006/112/EC")
    EU_143 = "VATEX-EU-143", gettext_lazy("Exempt based on article 143 of Council Directive 2006/112/EC")
    EU_148 = "VATEX-EU-148", gettext_lazy("Exempt based on article 148 of Council Directive 2006/112/EC")
    EU_151 = "VATEX-EU-151", gettext_lazy("Exempt based on article 151 of Council Directive 2006/112/EC")
    EU_309 = "VATEX-EU-309", gettext_lazy("Exempt based on article 309 of Council Directive 2006/112/EC")


class UnitCode(models.TextChoices):
    """UN/ECE Recommendation 20 unit codes of a line's quantity."""

    ONE = "C62", gettext_lazy("Unit (licence)")
    HOUR = "HUR", gettext_lazy("Hour")
    DAY = "DAY", gettext_lazy("Day")
    MONTH = "MON", gettext_lazy("Month")
    YEAR = "ANN", gettext_lazy("Year")


# Categories that carry no VAT (rate 0), and those of them that must say why.
ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})
NEEDS_EXEMPTION = frozenset({"E", "AE", "K", "G", "O"})


@dataclass(frozen=True)
class VatDefault:
    category: str
    exemption_code: str = ""


def vat_category_default(
    *, seller_country: str, buyer_country: str, buyer_vat_id: str, rate: Decimal
) -> VatDefault | None:
    """The category a line gets unless staff choose one; None when nothing can be decided (a 0 % line
    then needs staff to choose before the invoice is issued).

    - a rate above 0 is standard rated (S);
    - at 0 %: seller and buyer in the same country is zero rated (Z); a buyer in another EU member
      state with a VAT number is reverse charge (AE, VATEX-EU-AE); a buyer outside the EU is an export
      (G, VATEX-EU-G). Anything else (a country unknown, an EU buyer without a VAT number) is left open.
    """
    if rate > 0:
        return VatDefault("S")
    seller, buyer = seller_country.strip().upper(), buyer_country.strip().upper()
    if not seller or not buyer:
        return None
    if seller == buyer:
        return VatDefault("Z")
    if buyer in EU_MEMBER_STATES:
        return VatDefault("AE", VatExemptionCode.EU_AE) if buyer_vat_id.strip() else None
    return VatDefault("G", VatExemptionCode.EU_G)


def vat_line_problems(*, category: str, rate: Decimal, exemption_reason: str, exemption_code: str) -> dict[str, str]:
    """What is wrong with a line's category for its rate, per field (none: it holds). A blank category
    is allowed on a draft; issuing refuses it at 0 % (invoice_issue)."""
    if not category:
        return {}
    if category == "S" and rate <= 0:
        return {"vat_category": _("A standard rated line needs a tax rate above 0 %.")}
    if category in ZERO_RATE_CATEGORIES and rate != 0:
        label = VatCategory(category).label
        return {"tax_rate": _("A line of the category “%(category)s” has a tax rate of 0 %%.") % {"category": label}}
    if category in NEEDS_EXEMPTION and not exemption_reason.strip() and not exemption_code:
        return {"vat_exemption_reason": _("Give an exemption reason or a VATEX code for this VAT category.")}
    return {}


@dataclass(frozen=True)
class VatBand:
    """The lines of one VAT category and rate: their net amount and VAT (each line rounded on its own),
    and why no VAT is charged where the category carries none."""

    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    exemption: str = ""

    @property
    def category_label(self) -> str:
        return str(VatCategory(self.category).label) if self.category else _("VAT category not chosen")


class _Taxed(Protocol):
    vat_category: str
    tax_rate: Decimal
    amount: Decimal
    tax_amount: Decimal
    vat_exemption_reason: str
    vat_exemption_code: str


def exemption_text(*, reason: str, code: str) -> str:
    """The exemption as a reader sees it: the reason typed, else the VATEX code's meaning."""
    if reason.strip():
        return reason.strip()
    return f"{VatExemptionCode(code).label} ({code})" if code else ""


def vat_bands(lines: Iterable[_Taxed]) -> list[VatBand]:
    """The VAT breakdown of an invoice (EN 16931 BG-23): net and VAT per category and rate, highest rate
    first, each with the exemption reasons of its lines."""
    sums: dict[tuple[str, Decimal], list[Decimal]] = {}
    reasons: dict[tuple[str, Decimal], list[str]] = {}
    for line in lines:
        key = (line.vat_category, line.tax_rate)
        figures = sums.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
        figures[0] += line.amount
        figures[1] += line.tax_amount
        text = exemption_text(reason=line.vat_exemption_reason, code=line.vat_exemption_code)
        if text and text not in reasons.setdefault(key, []):
            reasons[key].append(text)
    return [
        VatBand(category=category, rate=rate, net=net, tax=tax, exemption="; ".join(reasons.get((category, rate), [])))
        for (category, rate), (net, tax) in sorted(sums.items(), key=lambda item: (-item[0][1], item[0][0]))
    ]


def vat_bands_split(*, bands: Sequence[VatBand], amount: Decimal, currency: str) -> list[VatBand]:
    """The part `amount` (VAT included) of a document whose VAT breakdown is `bands`, split across the
    bands in proportion to their totals, each rounded to the currency's minor unit, the rounding
    remainder on the largest band; within a band, VAT in proportion to the band's VAT and the net the
    rest. The parts add up to `amount` exactly, and the whole gives the bands back unchanged."""
    totals = [band.net + band.tax for band in bands]
    whole = sum(totals, Decimal("0.00"))
    if amount == whole:
        return list(bands)
    if whole <= 0:
        raise ValueError("nothing to split")
    shares = [quantize(amount * total / whole, currency) for total in totals]
    largest = max(range(len(bands)), key=lambda i: abs(totals[i]))
    shares[largest] += amount - sum(shares, Decimal(0))
    parts = []
    for band, total, share in zip(bands, totals, shares, strict=True):
        tax = quantize(band.tax * share / total, currency) if total else Decimal("0.00")
        parts.append(VatBand(band.category, band.rate, share - tax, tax, band.exemption))
    return parts


def vat_bands_json(bands: Iterable[VatBand]) -> list[dict[str, str]]:
    """Bands as stored with a document: amounts as strings, so no float ever holds money."""
    return [
        {"category": b.category, "rate": str(b.rate), "net": str(b.net), "tax": str(b.tax), "exemption": b.exemption}
        for b in bands
    ]


def vat_in_accounting_currency(
    *, tax: Decimal, currency: str, accounting_currency: str, rate: Decimal | None
) -> tuple[str, Decimal] | None:
    """The VAT total in the seller's accounting currency (EN 16931 BT-6 and BT-111; VAT Directive
    art. 230), when the document is in another currency and states an exchange rate: `rate` units of
    the accounting currency per unit of the document's. Rounded half-up to the accounting currency."""
    if rate is None or not accounting_currency or accounting_currency == currency:
        return None
    return accounting_currency, quantize(Decimal(tax) * Decimal(rate), accounting_currency)
