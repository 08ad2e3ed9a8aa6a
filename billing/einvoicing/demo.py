"""The e-invoicing cases of `manage.py seed_demo`, issued by the Belgian demo partner (Woodgrove): a
domestic invoice at the standard rate, one at several rates with an exempt line, a reverse-charge
invoice to a German business, an export to the United States, a dollar invoice stating its tax in
euros, and a credit note for part of the first. Each is a complete EN 16931 document: its UBL, CII
and Factur-X pass the CEN and Peppol rules (tests/billing/einvoicing/test_demo_documents.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.invoicing.models import Invoice
from billing.invoicing.services import LineInput, credit_note_issue, invoice_draft_create, invoice_issue
from partner_portal import clock
from partner_portal.demo import DemoCore

PARTNER = "woodgrove"


def _line(description: str, quantity: str, price: str, rate: str, **fields: str) -> LineInput:
    return LineInput(
        description=description, quantity=Decimal(quantity), unit_price=Decimal(price), tax_rate=Decimal(rate),
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def seed_demo(core: DemoCore) -> None:
    partner = core.partners.get(PARTNER)
    if partner is None or Invoice.objects.filter(partner=partner).exists():
        return
    finance = core.users["finance@woodgrove.example"]
    c = core.customers
    today = clock.today(partner.time_zone)

    def issue(domain: str, *lines: LineInput, days_ago: int, rate: str | None = None) -> Invoice:
        draft = invoice_draft_create(
            partner=partner, customer=c[domain], actor=finance, lines=list(lines),
            tax_currency_rate=Decimal(rate) if rate else None,
        )  # fmt: skip
        return invoice_issue(invoice=draft, actor=finance, issue_date=today - dt.timedelta(days=days_ago))

    domestic = issue(
        "janssens.example",
        _line("Microsoft 365 E3", "10", "36.00", "21.00"),
        _line("Teams Phone Standard", "3", "7.3333", "21.00", unit_code="MON"),
        days_ago=12,
    )
    issue(
        "janssens.example",
        _line("Microsoft 365 E5", "4", "57.00", "21.00"),
        _line("Printed user manuals", "2", "12.50", "6.00"),
        _line(
            "Training voucher",
            "1",
            "80.00",
            "0.00",
            vat_category="E",
            vat_exemption_code="VATEX-EU-132",
            vat_exemption_reason="Exempt: vocational training",
        ),
        days_ago=5,
    )
    issue("muster.example", _line("Azure plan", "1", "1250.00", "0.00"), days_ago=9)  # reverse charge (AE)
    issue("acme.example", _line("Dynamics 365 Sales", "5", "95.00", "0.00"), days_ago=7)  # export (G)
    issue("dupont.example", _line("Microsoft 365 Business Premium", "8", "22.00", "21.00"), days_ago=3, rate="0.92")
    credit_note_issue(invoice=domestic, actor=finance, reason="Two seats cancelled", amount=Decimal("87.12"))
