"""Invoice and credit-note PDFs: what the customer reads, in their language, offline, stable.

Each PDF render takes a fraction of a second, so most checks share a few renders and the rest
look at the HTML the PDF is made of.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from billing.invoicing.models import Invoice
from billing.invoicing.pdf import (
    credit_note_html,
    credit_note_pdf,
    credit_note_pdf_filename,
    invoice_html,
    invoice_pdf,
    invoice_pdf_filename,
)
from billing.invoicing.services import credit_note_issue, invoice_void, payment_record
from partner_portal import clock
from tests.conftest import Tenant, require
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db

INSTRUCTIONS = ["Bank transfer to Alpha Partners Ltd", "IBAN GB33 BUKB 2020 1555 5555 55"]


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler extracts it, non-breaking spaces as plain ones."""
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8").replace("\xa0", " ")


def invoice_balance(invoice: Invoice) -> Decimal:
    return Invoice.objects.values_list("balance", flat=True).get(pk=invoice.pk)


@pytest.fixture
def partner_details(tenant: Tenant) -> Tenant:
    partner = tenant.partner
    partner.address = "1 Harbour Exchange Square\nLondon E14 9GE"
    partner.payment_instructions = "\n".join(INSTRUCTIONS)
    partner.support_phone = "+44 20 7946 0000"
    partner.save()
    customer = tenant.customer
    customer.billing_contact, customer.address, customer.country = "Nancy Davolio", "4 Market Street\nSeattle", "US"
    customer.tax_id = "US-94-1234567"
    customer.save()
    return tenant


def test_issued_invoice_pdf_shows_what_the_customer_needs_to_pay(partner_details: Tenant) -> None:
    invoice = issued(partner_details.customer, on=dt.date(2026, 11, 2))  # 10 x 36.00 at 20%

    pdf = invoice_pdf(invoice=invoice)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert invoice.number == "INV-2026-000001"
    for expected in [
        "INV-2026-000001",
        "Alpha Customer One",
        "Nancy Davolio",
        "US-94-1234567",
        str(partner_details.customer.tenant_id),
        partner_details.customer.domain,
        "Alpha Partners",
        partner_details.partner.microsoft_partner_id,
        "360.00 USD",  # subtotal
        "72.00 USD",  # tax
        "432.00 USD",  # total and balance due
        "Due by Dec 2, 2026",
        "Nov 2, 2026",
        *INSTRUCTIONS,
        "Payment reference INV-2026-000001",
        "support@alpha.example",
        "+44 20 7946 0000",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert "DRAFT" not in text
    assert invoice_pdf_filename(invoice) == "INV-2026-000001.pdf"


def test_the_same_invoice_renders_to_the_same_bytes(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)

    assert invoice_pdf(invoice=invoice) == invoice_pdf(invoice=Invoice.objects.get(pk=invoice.pk))


def test_russian_customer_gets_the_document_in_russian(tenant: Tenant) -> None:
    customer = CustomerFactory(
        partner=tenant.partner,
        name="ООО «Ромашка»",
        address="ул. Тверская, д. 12\nМосква, 125009",
        currency="RUB",
        language="ru",
    )
    invoice = issued(
        customer, line("Microsoft 365 E3 — годовая подписка", "1", "1234.50", "0"), on=dt.date(2026, 11, 2)
    )

    html = invoice_html(invoice=invoice)
    text = pdf_text(invoice_pdf(invoice=invoice))

    assert '<html lang="ru">' in html
    assert "ООО «Ромашка»" in text
    assert "ул. Тверская, д. 12" in text
    assert "Microsoft 365 E3 — годовая подписка" in text
    assert "1 234,50 RUB" in text  # Russian grouping and decimal comma
    assert "02.12.2026" in text  # dates in Russian: the language was active while rendering


def test_payment_instructions_follow_the_customers_language_when_the_partner_wrote_both(
    partner_details: Tenant, client_for
) -> None:
    partner = partner_details.partner
    partner.payment_instructions_ru = "Банковский перевод на счёт Alpha Partners, IBAN GB00 TEST 0000 0000."
    partner.save()
    russian = CustomerFactory(partner=partner, name="ООО «Ромашка»", currency="RUB", language="ru")
    in_russian = pdf_text(invoice_pdf(invoice=issued(russian, on=dt.date(2026, 11, 2))))
    assert "Банковский перевод на счёт Alpha Partners" in in_russian
    assert INSTRUCTIONS[0] not in in_russian
    in_english = pdf_text(invoice_pdf(invoice=issued(partner_details.customer, on=dt.date(2026, 11, 2))))
    assert INSTRUCTIONS[0] in in_english
    assert "Банковский перевод" not in in_english

    client = client_for(partner_details.customer_admin)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/my/"})
    assert "Банковский перевод на счёт Alpha Partners" in client.get("/my/").content.decode()
    partner.payment_instructions_ru = ""  # no Russian text: the one the partner wrote
    partner.save()
    assert INSTRUCTIONS[0] in client.get("/my/").content.decode()


def test_english_customer_gets_english_html(tenant: Tenant) -> None:
    assert '<html lang="en">' in invoice_html(invoice=issued(tenant.customer))


def test_draft_is_marked_not_valid_and_named_by_its_id(tenant: Tenant) -> None:
    invoice = draft(tenant.customer)

    text = pdf_text(invoice_pdf(invoice=invoice))

    assert "DRAFT — not a valid invoice." in text
    assert "INV-" not in text
    assert "432.00 USD" in text
    assert invoice_pdf_filename(invoice) == f"draft-{invoice.pk}.pdf"


def test_void_invoice_is_marked_void_with_its_reason(tenant: Tenant) -> None:
    invoice = invoice_void(invoice=issued(tenant.customer), actor=None, reason="Raised against the wrong customer")

    html = invoice_html(invoice=invoice)

    assert 'class="watermark watermark-void"' in html
    assert "Raised against the wrong customer" in html
    assert "How to pay" not in html


def test_payments_and_credit_notes_are_listed_on_the_invoice(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("100.00"),
        received_on=dt.date(2026, 11, 10), reference="BACS 88213",
    )  # fmt: skip
    credit_note_issue(invoice=invoice, actor=None, amount=Decimal("32.00"), reason="Two seats cancelled")
    invoice.refresh_from_db()

    html = invoice_html(invoice=invoice)

    assert "−100.00\xa0USD" in html  # amount paid
    assert "−32.00\xa0USD" in html  # credited
    assert "300.00\xa0USD" in html  # balance due
    assert "BACS 88213" in html
    assert "CN-2026-000001" in html


def test_credit_note_pdf_names_itself_the_invoice_and_the_new_balance(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    with clock.frozen(dt.date(2026, 11, 12)):
        note = credit_note_issue(invoice=invoice, actor=None, amount=Decimal("32.00"), reason="Two seats cancelled")

    text = pdf_text(credit_note_pdf(credit_note=note))

    for expected in [
        "CN-2026-000001",
        "INV-2026-000001",
        "Nov 12, 2026",
        "32.00 USD",
        "Two seats cancelled",
        "432.00 USD",  # invoice total and balance before
        "400.00 USD",  # the invoice's new balance
        "Alpha Customer One",
    ]:
        assert expected in text, expected
    assert credit_note_pdf_filename(note) == "CN-2026-000001.pdf"


def test_credit_note_keeps_the_balance_it_left_after_later_payments(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    with clock.frozen(dt.datetime(2026, 11, 12, 9, 0, tzinfo=dt.UTC)):
        note = credit_note_issue(invoice=invoice, actor=None, amount=Decimal("32.00"), reason="Two seats cancelled")
    with clock.frozen(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)):
        payment_record(
            partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("400.00"),
            received_on=dt.date(2026, 11, 20),
        )  # fmt: skip

    html = credit_note_html(credit_note=note)

    assert invoice_balance(invoice) == Decimal("0.00")
    new_balance = re.search(r'<tr class="balance-row"><th>[^<]*</th><td>([^<]*)</td>', html)
    assert new_balance is not None
    assert new_balance[1] == "400.00\xa0USD"


def test_documents_reference_nothing_outside_themselves(tenant: Tenant) -> None:
    html = invoice_html(invoice=issued(tenant.customer))

    assert "url(" not in html
    assert " src=" not in html
    assert " href=" not in html
    assert "counter(page)" in html
    assert "counter(pages)" in html


@pytest.mark.parametrize(
    ("language", "template", "expected"),
    [
        ("en", "{{ v|money:'USD' }}", "1,234.50\xa0USD"),
        ("ru", "{{ v|money:'RUB' }}", "1\xa0234,50\xa0RUB"),
        ("en", "{{ v|money:'JPY' }}", "1,235\xa0JPY"),  # no minor unit: rounded half-up
        ("en", "{{ v|money_amount:'EUR' }}", "1,234.50"),
        ("en", "{{ q|quantity }}", "2.5"),
        ("ru", "{{ q|quantity }}", "2,5"),
        ("en", "{{ p|unit_price:'USD' }}", "0.125"),
        ("en", "{{ r|percent }}", "20"),
        ("en", "{{ none|money:'USD' }}", ""),
    ],
)
def test_money_filters_format_decimals_in_the_active_language(language: str, template: str, expected: str) -> None:
    context = Context(
        {"v": Decimal("1234.50"), "q": Decimal("2.5000"), "p": Decimal("0.1250"), "r": Decimal("20.00"), "none": None}
    )
    with translation.override(language):
        assert Template("{% load money %}" + template).render(context) == expected


def test_the_renderer_fetches_no_url_even_if_a_template_asks(caplog: pytest.LogCaptureFixture) -> None:
    from billing.invoicing.pdf import _pdf  # the guard itself: a template slip must not reach the network or disk

    pdf = _pdf('<p>x<img src="https://example.invalid/logo.png"><img src="file:///etc/hostname"></p>')

    assert pdf.startswith(b"%PDF-")
    refused = [r.getMessage() for r in caplog.records if "disallowed protocol" in r.getMessage()]
    assert len(refused) == 2
