"""Credit notes: the only way to correct an issued invoice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from billing.invoicing.errors import CreditNoteInvalid
from billing.invoicing.models import ZERO, CreditNote, Invoice, InvoiceLine, NumberSeries
from billing.invoicing.services.invoicing import line_amounts
from billing.invoicing.services.listeners import customer_balances_changed, customer_balances_lock, document_issued
from billing.invoicing.services.numbering import number_next
from billing.invoicing.vat import VatBand, vat_bands, vat_bands_json, vat_bands_split
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import User
from partner_portal.money import quantize


@dataclass(frozen=True)
class CreditLineInput:
    """Part of one line of the credited invoice: `quantity` of its units at its price and VAT."""

    line_id: int
    quantity: Decimal


@dataclass(frozen=True)
class LineCredited:
    """What earlier credit notes took off one invoice line."""

    quantity: Decimal = ZERO
    net: Decimal = ZERO
    tax: Decimal = ZERO


def lines_credited(invoice: Invoice) -> dict[int, LineCredited]:
    """Per invoice line, the quantity, net and VAT that the invoice's credit notes by lines credited."""
    credited: dict[int, LineCredited] = {}
    for entries in CreditNote.objects.filter(invoice=invoice).values_list("credited_lines", flat=True):
        for entry in entries:
            before = credited.get(entry["line"], LineCredited())
            credited[entry["line"]] = LineCredited(
                quantity=before.quantity + Decimal(entry["quantity"]),
                net=before.net + Decimal(entry["net"]),
                tax=before.tax + Decimal(entry["tax"]),
            )
    return credited


def _credited_lines(invoice: Invoice, lines: Sequence[CreditLineInput]) -> tuple[list[VatBand], list[dict[str, Any]]]:
    """The VAT bands of the chosen lines and quantities, and what the note credits of each line.

    Each line's net and VAT are rounded once as on the invoice; a line is credited at most once in all,
    so the note that credits what is left of a line takes exactly the rest of its figures."""
    by_id = {line.pk: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    earlier = lines_credited(invoice)
    parts: list[InvoiceLine] = []
    entries: list[dict[str, Any]] = []
    for n, chosen in enumerate(lines, start=1):
        line = by_id.get(chosen.line_id)
        if line is None:
            raise CreditNoteInvalid(
                _("Line %(n)s is not a line of invoice %(number)s.") % {"n": n, "number": invoice.number},
                fields={"lines": [_("Choose lines of the credited invoice.")]},
            )
        before = earlier.get(line.pk, LineCredited())
        left = line.quantity - before.quantity
        if left <= 0:
            message = _("“%(description)s” has been credited in full already.") % {"description": line.description}
            raise CreditNoteInvalid(message, fields={"lines": [message]})
        if chosen.quantity <= 0 or chosen.quantity > left:
            message = _("Credit between 0 and %(quantity)s of “%(description)s”.") % {
                "quantity": left.normalize(), "description": line.description,
            }  # fmt: skip
            raise CreditNoteInvalid(message, fields={"lines": [message]})
        if chosen.quantity == left:
            net, tax = line.amount - before.net, line.tax_amount - before.tax
        else:
            net, tax = line_amounts(
                quantity=chosen.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate, currency=invoice.currency
            )
        parts.append(
            InvoiceLine(
                vat_category=line.vat_category,
                tax_rate=line.tax_rate,
                amount=net,
                tax_amount=tax,
                vat_exemption_reason=line.vat_exemption_reason,
                vat_exemption_code=line.vat_exemption_code,
            )
        )
        entries.append({"line": line.pk, "quantity": str(chosen.quantity), "net": str(net), "tax": str(tax)})
    if not parts:
        raise CreditNoteInvalid(_("Choose at least one line to credit."), fields={"lines": [_("Choose a line.")]})
    return vat_bands(parts), entries


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    actor: User | None,
    reason: str,
    amount: Decimal | None = None,
    lines: Sequence[CreditLineInput] | None = None,
) -> CreditNote:
    """Credit part or all of an open invoice's balance, with a number from the credit-note series.

    Either an `amount` (VAT included), split across the invoice's VAT bands in proportion to them, or
    `lines` of the invoice with quantities. The note keeps its net, VAT per category and rate, and the
    credited invoice's number and issue date for good."""
    # The invoice's row, then its customer's (what one customer owes changes one write at a time); the
    # number is the credit-note series' own lock. Not the partner's: the partner's other work goes on.
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=invoice.pk)
    if not invoice.is_open:
        raise CreditNoteInvalid(_("Only an issued, unpaid or partly paid invoice can be credited."))
    customer_balances_lock(customer_id=invoice.customer_id)
    if (amount is None) == (lines is None):
        raise ValueError("give either an amount or lines")
    credited_lines: list[dict[str, Any]] = []
    if lines is not None:
        bands, credited_lines = _credited_lines(invoice, lines)
        amount = sum((b.net + b.tax for b in bands), ZERO)
    else:
        assert amount is not None  # noqa: S101 - one of the two, checked above
        bands = []
    if quantize(amount, invoice.currency) != amount or amount <= ZERO:
        raise CreditNoteInvalid(_("Enter an amount above zero in %(currency)s.") % {"currency": invoice.currency})
    if amount > invoice.balance:
        raise CreditNoteInvalid(
            _("%(amount)s is more than the balance of %(number)s (%(balance)s).")
            % {"amount": amount, "number": invoice.number, "balance": invoice.balance}
        )
    if not reason.strip():
        raise CreditNoteInvalid(_("Give a reason for the credit note."))
    if lines is None:
        bands = vat_bands_split(bands=vat_bands(invoice.lines.all()), amount=amount, currency=invoice.currency)
    issued_on = clock.today(invoice.partner.time_zone)
    note = CreditNote.objects.create(
        partner=invoice.partner, customer=invoice.customer, invoice=invoice, amount=amount, currency=invoice.currency,
        net_amount=sum((b.net for b in bands), ZERO), tax_amount=sum((b.tax for b in bands), ZERO),
        vat_breakdown=vat_bands_json(bands), credited_lines=credited_lines, invoice_number=invoice.number, invoice_issue_date=invoice.issue_date,
        reason=reason.strip(), issue_date=issued_on, issued_by=actor, invoice_balance_after=invoice.balance - amount,
        number=number_next(partner=invoice.partner, kind=NumberSeries.Kind.CREDIT_NOTE, year=issued_on.year),
    )  # fmt: skip
    invoice.amount_credited += amount
    invoice.balance -= amount
    invoice.status = invoice.settled_status()
    invoice.save(update_fields=["amount_credited", "balance", "status"])
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="credit_note.issued", target=note,
        data={"number": note.number, "invoice": invoice.number, "amount": str(amount), "reason": note.reason,
              "net": str(note.net_amount), "vat": str(note.tax_amount)},
    )  # fmt: skip
    customer_balances_changed(customer_ids=[invoice.customer_id])
    document_issued(kind="credit_note", document=note)
    return note
