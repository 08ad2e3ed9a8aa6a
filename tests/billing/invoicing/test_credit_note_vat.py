"""Credit notes as tax documents: net and VAT per category and rate, split to the cent."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing.invoicing.errors import CreditNoteInvalid
from billing.invoicing.models import CreditNote
from billing.invoicing.pdf import credit_note_html
from billing.invoicing.services import CreditLineInput, LineInput, credit_note_issue
from billing.invoicing.vat import VatBand, vat_bands_split
from tests.conftest import Tenant
from tests.factories.billing import issued, line

D = Decimal
MIXED = [VatBand("S", D("20"), D("100.00"), D("20.00")), VatBand("S", D("7"), D("50.00"), D("3.50"))]


def test_the_whole_gives_the_bands_back() -> None:
    assert vat_bands_split(bands=MIXED, amount=D("173.50"), currency="EUR") == MIXED


def test_a_part_is_split_in_proportion_with_the_remainder_on_the_largest_band() -> None:
    # 100 of 173.50: 120/173.5 → 69.16426…, 53.5/173.5 → 30.83573…; rounded 69.16 + 30.84 = 100.00
    parts = vat_bands_split(bands=MIXED, amount=D("100.00"), currency="EUR")
    assert parts == [VatBand("S", D("20"), D("57.63"), D("11.53")), VatBand("S", D("7"), D("28.82"), D("2.02"))]
    assert sum(p.net + p.tax for p in parts) == D("100.00")


def test_the_rounding_remainder_goes_to_the_largest_band() -> None:
    thirds = [VatBand("S", D("20"), D("10.00"), D("2.00"))] * 3
    # 10.00 of 36.00: each third is 3.333…, rounded 3.33; the remaining cent goes to one band only
    parts = vat_bands_split(bands=thirds, amount=D("10.00"), currency="EUR")
    assert [p.net + p.tax for p in parts] == [D("3.34"), D("3.33"), D("3.33")]
    assert sum(p.net + p.tax for p in parts) == D("10.00")


def test_a_zero_rated_band_keeps_no_vat_and_yen_have_no_cents() -> None:
    bands = [VatBand("S", D("10"), D("1000"), D("100")), VatBand("AE", D("0"), D("901"), D("0"), "Reverse charge")]
    parts = vat_bands_split(bands=bands, amount=D("1000"), currency="JPY")
    # 1100/2001 and 901/2001 of 1000 yen: 550 and 450; the S band's VAT is 100 × 550/1100
    assert parts == [
        VatBand("S", D("10"), D("500"), D("50")),
        VatBand("AE", D("0"), D("450"), D("0"), "Reverse charge"),
    ]


@pytest.mark.django_db
def test_a_partial_credit_stores_its_bands_and_the_invoice_reference(tenant: Tenant) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"), line("Books", "5", "10.00", "7"))
    assert invoice.total == D("173.50")
    note = credit_note_issue(invoice=invoice, actor=tenant.finance, amount=D("100.00"), reason="Returned")
    note = CreditNote.objects.get(pk=note.pk)
    assert (note.net_amount, note.tax_amount, note.amount) == (D("86.45"), D("13.55"), D("100.00"))
    assert note.vat_breakdown == [
        {"category": "S", "rate": "20.00", "net": "57.63", "tax": "11.53", "exemption": ""},
        {"category": "S", "rate": "7.00", "net": "28.82", "tax": "2.02", "exemption": ""},
    ]
    assert (note.invoice_number, note.invoice_issue_date) == (invoice.number, invoice.issue_date)


@pytest.mark.django_db
def test_a_credit_per_line(tenant: Tenant) -> None:
    invoice = issued(
        tenant.customer,
        line("Seats", "10", "10.00", "20"),
        LineInput(description="Export", quantity=D(3), unit_price=D("33.33"), tax_rate=D(0), vat_category="G",
                  vat_exemption_code="VATEX-EU-G"),
    )  # fmt: skip
    seats, export = invoice.lines.order_by("position")
    note = credit_note_issue(
        invoice=invoice,
        actor=tenant.finance,
        reason="Two seats and one export returned",
        lines=[CreditLineInput(line_id=seats.pk, quantity=D(2)), CreditLineInput(line_id=export.pk, quantity=D(1))],
    )
    assert (note.net_amount, note.tax_amount, note.amount) == (D("53.33"), D("4.00"), D("57.33"))
    assert [b.category for b in note.vat_bands] == ["S", "G"]
    assert note.vat_bands[1].exemption == "Export outside the EU (VATEX-EU-G)"
    with pytest.raises(CreditNoteInvalid):
        credit_note_issue(
            invoice=invoice, actor=tenant.finance, reason="Too many",
            lines=[CreditLineInput(line_id=seats.pk, quantity=D(11))],
        )  # fmt: skip


@pytest.mark.django_db
def test_a_line_is_credited_at_most_once_in_all_and_the_last_part_takes_exactly_the_rest(tenant: Tenant) -> None:
    # 3 × 33.33 at 20 %: the line is 99.99 net and 20.00 VAT; a third is 33.33 and 6.67 (rounded up)
    invoice = issued(tenant.customer, line("Seats", "3", "33.33", "20"), line("Support", "1", "500.00", "20"))
    seats, _support = invoice.lines.order_by("position")

    def credit(quantity: str) -> CreditNote:
        return credit_note_issue(
            invoice=invoice, actor=tenant.finance, reason="Seats returned",
            lines=[CreditLineInput(line_id=seats.pk, quantity=D(quantity))],
        )  # fmt: skip

    first, second = credit("1"), credit("1")
    assert (first.net_amount, first.tax_amount) == (D("33.33"), D("6.67"))
    with pytest.raises(CreditNoteInvalid, match="between 0 and 1 of"):
        credit("2")  # the invoice's balance would allow it; the line has only one seat left
    last = credit("1")
    assert (last.net_amount, last.tax_amount) == (D("33.33"), D("6.66"))  # the cent the rounding took
    assert sum(n.net_amount for n in (first, second, last)) == seats.amount
    assert sum(n.tax_amount for n in (first, second, last)) == seats.tax_amount
    with pytest.raises(CreditNoteInvalid, match="credited in full already"):
        credit("1")


@pytest.mark.django_db
def test_the_credit_page_offers_only_what_is_left_of_each_line(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"), line("Support", "1", "500.00", "20"))
    seats, support = invoice.lines.order_by("position")
    credit_note_issue(
        invoice=invoice, actor=tenant.finance, reason="Returned",
        lines=[CreditLineInput(line_id=seats.pk, quantity=D(4)), CreditLineInput(line_id=support.pk, quantity=D(1))],
    )  # fmt: skip
    client = client_for(tenant.finance)
    html = client.get(f"/staff/billing/invoices/{invoice.pk}/credit/").content.decode()
    assert "at most 6 (4 credited already)" in html
    response = client.post(
        f"/staff/billing/invoices/{invoice.pk}/credit/", {"reason": "Again", f"line_{seats.pk}": "7"}
    )
    assert response.status_code == 400  # the form again, with the error
    assert "less than or equal to 6" in response.content.decode()
    assert invoice.credit_notes.count() == 1


@pytest.mark.django_db
def test_the_api_credits_lines_and_answers_the_breakdown(tenant: Tenant, api_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"))
    seat = invoice.lines.get()
    client = api_for(tenant.finance)
    both = {"invoice": invoice.pk, "reason": "x", "amount": "1.00", "lines": [{"line": seat.pk, "quantity": "1"}]}
    assert client.post("/api/v1/credit-notes/", both, format="json").status_code == 400
    body = {"invoice": invoice.pk, "reason": "One seat", "lines": [{"line": seat.pk, "quantity": "1"}]}
    response = client.post("/api/v1/credit-notes/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["amount"], data["net_amount"], data["tax_amount"]) == ("12.00", "10.00", "2.00")
    assert data["invoice_number"] == invoice.number
    assert data["vat_breakdown"] == [{"category": "S", "rate": "20.00", "net": "10.00", "tax": "2.00", "exemption": ""}]


@pytest.mark.django_db
def test_the_page_and_pdf_show_net_vat_and_total(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"), line("Books", "5", "10.00", "7"))
    note = credit_note_issue(invoice=invoice, actor=tenant.finance, amount=D("100.00"), reason="Returned")
    page = client_for(tenant.finance).get(f"/staff/billing/credit-notes/{note.pk}/").content.decode()
    assert "57.63" in page
    assert "86.45" in page
    assert invoice.number in page
    html = credit_note_html(credit_note=note)
    assert "Tax 20% on 57.63" in html
    assert "Tax 7% on 28.82" in html
    assert "86.45" in html


@pytest.mark.django_db
def test_the_page_credits_chosen_lines(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"), line("Books", "5", "10.00", "7"))
    seats, books = invoice.lines.order_by("position")
    client = client_for(tenant.finance)
    url = f"/staff/billing/invoices/{invoice.pk}/credit/"
    assert "Or credit lines" in client.get(url).content.decode()
    both = {"amount": "10.00", f"line_{seats.pk}": "1", "reason": "Returned"}
    response = client.post(url, both)
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    response = client.post(url, {"amount": "", f"line_{books.pk}": "2", "reason": "Two books returned"})
    assert response.status_code == 302
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.net_amount, note.tax_amount, note.amount) == (D("20.00"), D("1.40"), D("21.40"))
    assert note.vat_breakdown == [{"category": "S", "rate": "7.00", "net": "20.00", "tax": "1.40", "exemption": ""}]


@pytest.mark.django_db
def test_a_note_by_lines_lists_the_lines_it_credits_on_its_page_and_pdf(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"), line("Books", "5", "10.00", "7"))
    seats, books = invoice.lines.order_by("position")
    note = credit_note_issue(
        invoice=invoice, actor=tenant.finance, reason="Returned",
        lines=[CreditLineInput(line_id=books.pk, quantity=D("2")), CreditLineInput(line_id=seats.pk, quantity=D("3"))],
    )  # fmt: skip
    page = client_for(tenant.finance).get(f"/staff/billing/credit-notes/{note.pk}/")
    rows = [
        (line.description, line.quantity, line.net, line.tax) for line in page.context["credited_lines"]
    ]  # the invoice's order
    assert rows == [("Seats", D("3"), D("30.00"), D("6.00")), ("Books", D("2"), D("20.00"), D("1.40"))]
    assert "Credited lines" in page.content.decode()
    html = credit_note_html(credit_note=note)
    assert "Credit against invoice" not in html  # the lines instead of one line for the whole note
    assert re.search(r"Seats<div class=\"line-period\">3 × 10\.00, tax 20%", html)
    assert re.search(r"Books<div class=\"line-period\">2 × 10\.00, tax 7%", html)


@pytest.mark.django_db
def test_a_note_by_amount_has_one_line_for_the_whole(tenant: Tenant) -> None:
    invoice = issued(tenant.customer, line("Seats", "10", "10.00", "20"))
    note = credit_note_issue(invoice=invoice, actor=tenant.finance, amount=D("12.00"), reason="Goodwill")
    assert "Credit against invoice" in credit_note_html(credit_note=note)
