"""Credit notes: the only way to correct an issued invoice."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing.invoicing.errors import CreditNoteInvalid
from billing.invoicing.models import ZERO, CreditNote, Invoice, NumberSeries
from billing.invoicing.services.numbering import number_next
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import User
from partner_portal.money import quantize


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, actor: User | None, amount: Decimal, reason: str) -> CreditNote:
    """Credit part or all of an open invoice's balance, with a number from the credit-note series."""
    invoice = Invoice.objects.select_for_update().select_related("partner", "customer").get(pk=invoice.pk)
    if not invoice.is_open:
        raise CreditNoteInvalid(_("Only an issued, unpaid or partly paid invoice can be credited."))
    if quantize(amount, invoice.currency) != amount or amount <= ZERO:
        raise CreditNoteInvalid(_("Enter an amount above zero in %(currency)s.") % {"currency": invoice.currency})
    if amount > invoice.balance:
        raise CreditNoteInvalid(
            _("%(amount)s is more than the balance of %(number)s (%(balance)s).")
            % {"amount": amount, "number": invoice.number, "balance": invoice.balance}
        )
    if not reason.strip():
        raise CreditNoteInvalid(_("Give a reason for the credit note."))
    issued_on = clock.today(invoice.partner.time_zone)
    note = CreditNote.objects.create(
        partner=invoice.partner, customer=invoice.customer, invoice=invoice, amount=amount, currency=invoice.currency,
        reason=reason.strip(), issue_date=issued_on, issued_by=actor, invoice_balance_after=invoice.balance - amount,
        number=number_next(partner=invoice.partner, kind=NumberSeries.Kind.CREDIT_NOTE, year=issued_on.year),
    )  # fmt: skip
    invoice.amount_credited += amount
    invoice.balance -= amount
    invoice.status = invoice.settled_status()
    invoice.save(update_fields=["amount_credited", "balance", "status"])
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="credit_note.issued", target=note,
        data={"number": note.number, "invoice": invoice.number, "amount": str(amount), "reason": note.reason},
    )  # fmt: skip
    return note
