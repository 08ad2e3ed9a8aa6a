"""Invoice and credit-note PDFs: a Django template rendered in the customer's language, then WeasyPrint.

- Language: the whole template renders inside `translation.override(customer.language)`, so words,
  dates ("2 декабря 2026 г.") and numbers ("1 234,50") follow the customer, not the request.
- Offline: the stylesheet is read from the static files on disk and inlined; the URL fetcher refuses
  every URL, so rendering never waits on the network and a document cannot call out.
- Deterministic: the output depends on the rows only. The PDF's creation date is the document's own
  issue time, never "now", and WeasyPrint writes no random file identifier unless asked, so the
  same invoice renders to the same bytes (handy for caching and for bulk exports).

Callers pass objects they have already scoped (e.g. from `billing.invoicing.selectors.invoice_get`);
rendering does no tenancy checks of its own. Rendering is slow next to a page (tens to hundreds of
milliseconds): web views may call it directly for one document, bulk exports belong in a job.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import weasyprint
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from weasyprint.text.fonts import FontConfiguration

from billing.invoicing.models import ZERO, CreditNote, Invoice, InvoiceLine
from billing.invoicing.selectors import credit_note_lines
from billing.invoicing.vat import vat_bands, vat_in_accounting_currency
from partner_portal.models import Customer, Partner

STYLESHEET = "billing/pdf.css"


class PdfStylesheetMissing(RuntimeError):
    """static/billing/pdf.css is not where the static file finders look."""


@dataclass(frozen=True)
class TaxBand:
    """The lines taxed at one rate: their net amount and tax (each line rounded on its own)."""

    rate: Decimal
    net: Decimal
    tax: Decimal


# --- Public API -----------------------------------------------------------------------------------


def invoice_html(*, invoice: Invoice) -> str:
    """The invoice as a standalone HTML document in the customer's language (what the PDF is made of)."""
    lines = list(invoice.lines.all())  # Meta.ordering is by position; uses a prefetch when there is one
    issued = not invoice.is_draft  # only an issued invoice can have payments and credit notes
    context = {
        "invoice": invoice,
        "lines": lines,
        "tax_bands": _tax_bands(lines),
        "vat_bands": vat_bands(lines),
        "billing_month": _billing_month(invoice.period),
        "allocations": (
            list(
                invoice.allocations.active()
                .select_related("payment")
                .order_by("payment__received_on", "created_at", "pk")
            )
            if issued
            else []
        ),
        "credit_notes": list(invoice.credit_notes.order_by("issue_date", "pk")) if issued else [],
        "vat_accounting": invoice.tax_in_accounting_currency,
        "document_number": invoice.number,
        "created_at": invoice.issued_at or invoice.created_at,
        # How to pay is shown only while something is payable: not on drafts, paid or void invoices.
        "open_statuses": Invoice.OPEN_STATUSES,
    }
    return _render(
        "billing/invoicing/pdf/invoice.html", partner=invoice.partner, customer=invoice.customer, context=context
    )


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The invoice as PDF bytes. Drafts carry a "not a valid invoice" mark, void invoices a VOID mark."""
    return _pdf(invoice_html(invoice=invoice))


def invoice_pdf_filename(invoice: Invoice) -> str:
    """ "INV-2026-000042.pdf"; a draft, which has no number yet: "draft-17.pdf"."""
    return f"{invoice.number}.pdf" if invoice.number else f"draft-{invoice.pk}.pdf"


def credit_note_html(*, credit_note: CreditNote) -> str:
    """The credit note as a standalone HTML document in the customer's language."""
    invoice = credit_note.invoice
    balance_after = credit_note.invoice_balance_after
    context = {
        "credit_note": credit_note,
        "invoice": invoice,
        "balance_before": balance_after + credit_note.amount,
        "balance_after": balance_after,
        "vat_bands": credit_note.vat_bands,
        "vat_accounting": vat_in_accounting_currency(
            tax=credit_note.tax_amount,
            currency=credit_note.currency,
            accounting_currency=credit_note.partner.default_currency,
            rate=invoice.tax_currency_rate,
        ),
        "credited_lines": credit_note_lines(credit_note=credit_note),
        "document_number": credit_note.number,
        "created_at": credit_note.created_at,
    }
    return _render(
        "billing/invoicing/pdf/credit_note.html",
        partner=credit_note.partner,
        customer=credit_note.customer,
        context=context,
    )


def credit_note_pdf(*, credit_note: CreditNote) -> bytes:
    """The credit note as PDF bytes: its number, the invoice it credits, amount, reason, new balance."""
    return _pdf(credit_note_html(credit_note=credit_note))


def credit_note_pdf_filename(note: CreditNote) -> str:
    """ "CN-2026-000007.pdf"."""
    return f"{note.number}.pdf"


# --- Rendering ------------------------------------------------------------------------------------


def _render(template_name: str, *, partner: Partner, customer: Customer, context: dict[str, Any]) -> str:
    with translation.override(customer.language):
        return render_to_string(
            template_name,
            {
                **context,
                "partner": partner,
                "customer": customer,
                "stylesheet": _stylesheet(),
                "page_counter": _page_counter_css(),
            },
        )


def pdf_document(html: str) -> weasyprint.Document:
    """The laid-out document of a page of `invoice_html` or `credit_note_html`, ready for `write_pdf`
    (the Factur-X PDF adds its attachment and metadata to it)."""
    # No URL is fetched: the stylesheet is inlined and the templates reference nothing else. An
    # empty allow-list turns any slip (an <img src="https://...">) into a logged refusal, not a request.
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    html_document = weasyprint.HTML(string=html, base_url=_stylesheet_path().parent.as_uri(), url_fetcher=fetcher)
    return html_document.render(font_config=_font_config())


@functools.cache
def _font_config() -> FontConfiguration:
    """The fonts, looked up once per process (a worker renders many documents)."""
    return FontConfiguration()


def _pdf(html: str) -> bytes:
    pdf: bytes = pdf_document(html).write_pdf()
    return pdf


@functools.cache
def _stylesheet_path() -> Path:
    found = finders.find(STYLESHEET)
    if not found or isinstance(found, list):
        raise PdfStylesheetMissing(f"{STYLESHEET} not found by the static file finders")
    return Path(found)


def _stylesheet() -> SafeString:
    # Our own static file, inlined into a <style> element: safe by construction.
    return mark_safe(_stylesheet_text())  # noqa: S308


@functools.cache
def _stylesheet_text() -> str:
    """The stylesheet, read once per process."""
    return _stylesheet_path().read_text(encoding="utf-8")


def _page_counter_css() -> SafeString:
    """The translated "Page X of Y" as a CSS `content` value, for the page footer.

    Translators get one sentence with placeholders and may reorder it ("Страница %(page)s из
    %(pages)s"); the placeholders become CSS counters and the words become escaped CSS strings.
    """
    sentence = gettext("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", sentence):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    # Every piece is either a fixed counter() or a string escaped by _css_string: safe in <style>.
    return mark_safe(" ".join(parts))  # noqa: S308


def _css_string(text: str) -> str:
    """`text` as a double-quoted CSS string that cannot end the string or the <style> element."""
    escaped = "".join(f"\\{ord(ch):x} " if ch in '\\"<>&\n\r' else ch for ch in text)
    return f'"{escaped}"'


# --- Figures --------------------------------------------------------------------------------------


def _tax_bands(lines: list[InvoiceLine]) -> list[TaxBand]:
    """Net and tax per tax rate, highest rate first: the tax summary an invoice shows under its lines."""
    bands: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        net, tax = bands.get(line.tax_rate, (ZERO, ZERO))
        bands[line.tax_rate] = (net + line.amount, tax + line.tax_amount)
    return [TaxBand(rate=rate, net=net, tax=tax) for rate, (net, tax) in sorted(bands.items(), reverse=True)]


def _billing_month(period: str) -> dt.date | None:
    """The first day of an invoice's billing period ("2026-11"), for a localised "November 2026"."""
    try:
        year, month = (int(part) for part in period.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return None
