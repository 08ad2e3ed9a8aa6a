"""Adding charges to a draft without rewriting it: the hand-off for support charges (tickets app).

`invoice_draft_update` replaces every line of a draft; charges that other records point at (billed
support time, billed usage) need their lines to stay put. This appends new lines after the existing
ones and updates the totals, so the existing lines and the links to them are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from billing.invoicing.services.invoicing import LineInput, invoice_line_rows
from partner_portal.audit import audit_record
from partner_portal.models import User


@transaction.atomic
def invoice_draft_lines_append(
    *, invoice: Invoice, lines: Sequence[LineInput], actor: User | None
) -> list[InvoiceLine] | None:
    """Append `lines` to a draft (totals kept equal to the sum of lines). None when it is no longer a
    draft: issued invoices never change, so the caller bills the charges elsewhere."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not invoice.is_draft:
        return None
    last = InvoiceLine.objects.filter(invoice=invoice).order_by("-position").values_list("position", flat=True).first()
    rows = invoice_line_rows(invoice, lines, first_position=(last or 0) + 1)
    created = InvoiceLine.objects.bulk_create(rows)
    invoice.subtotal += sum((r.amount for r in rows), ZERO)
    invoice.tax_total += sum((r.tax_amount for r in rows), ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.balance = invoice.total - invoice.amount_paid - invoice.amount_credited
    invoice.save(update_fields=["subtotal", "tax_total", "total", "balance"])
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="invoice.draft_updated",
        target=invoice, data={"total": str(invoice.total), "lines_added": len(rows)},
    )  # fmt: skip
    return created
