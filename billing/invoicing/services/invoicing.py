"""Invoices: drafts, issuing with a gapless number, voiding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.invoicing.errors import (
    InvoiceAmountTooLarge,
    InvoiceDatesInvalid,
    InvoiceHasSettlements,
    InvoiceLineSubscriptionInvalid,
    InvoiceLineVatInvalid,
    InvoiceNotEditable,
    InvoiceTaxCurrencyInvalid,
    InvoiceTotalNegative,
    InvoiceVatCategoryMissing,
)
from billing.invoicing.models import ZERO, Invoice, InvoiceLine, NumberSeries
from billing.invoicing.services.listeners import customer_balances_changed, customer_balances_lock, document_issued
from billing.invoicing.services.numbering import number_next
from billing.invoicing.vat import UnitCode, vat_category_default, vat_line_problems
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MONEY_LIMIT, quantize
from subscriptions.models import Subscription

HUNDRED = Decimal(100)
# How far from today a draft's issue date may be set, either way (like a promise to pay: at most a year).
ISSUE_DATE_REACH = dt.timedelta(days=366)


class _Unchanged:
    """The default of an optional argument that may also be set to None (a date cleared)."""


UNCHANGED = _Unchanged()


class DraftReleaser(Protocol):
    def __call__(self, *, invoice: Invoice) -> None: ...


# Parts above invoicing bill their records onto drafts (reconciliation usage) and must let go of them
# when a draft is deleted. Invoicing does not import those parts (the layers contract in pyproject.toml):
# each one registers its release here, wired in one visible place, billing.apps.BillingConfig.ready().
_draft_releasers: list[DraftReleaser] = []


def invoice_draft_releaser_register(release: DraftReleaser) -> None:
    """Have `release(invoice=...)` run inside every draft deletion, before the draft is deleted."""
    if release not in _draft_releasers:
        _draft_releasers.append(release)


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = ZERO
    kind: str = InvoiceLine.Kind.MANUAL
    subscription: Subscription | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    # None: decided from the seller's and buyer's countries, the buyer's VAT number and the rate
    # (billing.invoicing.vat.vat_category_default); a code: as chosen.
    vat_category: str | None = None
    vat_exemption_reason: str = ""
    vat_exemption_code: str = ""
    unit_code: str = UnitCode.ONE


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, currency: str
) -> tuple[Decimal, Decimal]:
    """(net amount, tax) of one line, each rounded once, half-up, to the currency's minor unit.

    The rule: amount = round(quantity * unit price); tax = round(amount * rate / 100). Invoice totals
    are sums of these rounded figures, so they always equal the sum of the lines.
    """
    amount = quantize(quantity * unit_price, currency)
    return amount, quantize(amount * tax_rate / HUNDRED, currency)


def invoice_line_rows(invoice: Invoice, lines: Sequence[LineInput], *, first_position: int = 1) -> list[InvoiceLine]:
    """Unsaved InvoiceLine rows for `lines`, each amount and its tax rounded once (see line_amounts),
    each with its VAT category: as given, else the default for the invoice's seller and buyer. A category
    that does not fit its line is refused (InvoiceLineVatInvalid)."""
    rows = []
    for position, line in enumerate(lines, start=first_position):
        amount, tax = line_amounts(
            quantity=line.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate, currency=invoice.currency
        )
        category, reason, code = line.vat_category, line.vat_exemption_reason.strip(), line.vat_exemption_code
        if category is None:
            default = vat_category_default(
                seller_country=invoice.partner.country,
                buyer_country=invoice.customer.country,
                buyer_vat_id=invoice.customer.tax_id,
                rate=line.tax_rate,
            )
            category = default.category if default else ""
            code = code or (default.exemption_code if default else "")
        problems = vat_line_problems(
            category=category, rate=line.tax_rate, exemption_reason=reason, exemption_code=code
        )
        if problems:
            message = _("Line %(position)s: %(problem)s") % {
                "position": position - first_position + 1, "problem": next(iter(problems.values())),
            }  # fmt: skip
            raise InvoiceLineVatInvalid(message, fields={"lines": [message]})
        rows.append(
            InvoiceLine(
                partner_id=invoice.partner_id,
                invoice=invoice,
                position=position,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                vat_category=category,
                vat_exemption_reason=reason,
                vat_exemption_code=code,
                unit_code=line.unit_code or UnitCode.ONE,
                amount=amount,
                tax_amount=tax,
                subscription=line.subscription,
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )
    return rows


def _amounts_check(rows: Sequence[InvoiceLine]) -> None:
    """Every amount, and the invoice's total, must fit a money column (MONEY_LIMIT); a larger one is
    refused on the lines rather than failing in the database."""
    figures = [figure for r in rows for figure in (r.amount, r.tax_amount)]
    figures.append(sum((abs(r.amount) + abs(r.tax_amount) for r in rows), ZERO))
    if any(abs(figure) >= MONEY_LIMIT for figure in figures):
        message = _("The lines come to more than an invoice can hold (%(limit)s).") % {"limit": MONEY_LIMIT}
        raise InvoiceAmountTooLarge(message, fields={"lines": [message]})


def _subscriptions_check(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    """A line billed for a subscription names one of the invoice's own customer's subscriptions."""
    for position, line in enumerate(lines, start=1):
        if line.subscription is not None and line.subscription.customer_id != invoice.customer_id:
            message = _("Line %(position)s: the subscription is not one of this customer's.") % {"position": position}
            raise InvoiceLineSubscriptionInvalid(message, fields={"lines": [message]})


def invoice_dates_check(*, partner: Partner, issue_date: dt.date | None, due_date: dt.date | None) -> None:
    """The issue and due dates a draft may be given: an issue date within a year of today (in the
    partner's time zone) either way, and a due date on or after the issue date (today when none is
    set, as issuing then dates the invoice today). Refused with the field at fault."""
    today = clock.today(partner.time_zone)
    if issue_date is not None and abs(issue_date - today) > ISSUE_DATE_REACH:
        message = _("The issue date must be within a year of today (%(earliest)s to %(latest)s).") % {
            "earliest": date_format(today - ISSUE_DATE_REACH), "latest": date_format(today + ISSUE_DATE_REACH),
        }  # fmt: skip
        raise InvoiceDatesInvalid(message, fields={"issue_date": [message]})
    if due_date is not None and due_date < (issue_date or today):
        if issue_date is None:
            message = _("The due date cannot be before the issue date, today (%(date)s) unless one is set.") % {
                "date": date_format(today)
            }
        else:
            message = _("The due date cannot be before the issue date (%(date)s).") % {"date": date_format(issue_date)}
        raise InvoiceDatesInvalid(message, fields={"due_date": [message]})


def invoice_tax_currency_check(*, partner: Partner, currency: str, rate: Decimal | None) -> None:
    """The VAT exchange rate a draft may carry (units of the partner's accounting currency per unit of
    the invoice's): only on an invoice in another currency, and above zero. The invoice then states its
    VAT total in the accounting currency too (EN 16931 BT-111; VAT Directive art. 230)."""
    if rate is None:
        return
    if currency == partner.default_currency:
        message = _("The invoice is in %(currency)s, your accounting currency: there is nothing to convert.") % {
            "currency": currency
        }
        raise InvoiceTaxCurrencyInvalid(message, fields={"tax_currency_rate": [message]})
    if rate <= ZERO:
        message = _("Enter an exchange rate above zero.")
        raise InvoiceTaxCurrencyInvalid(message, fields={"tax_currency_rate": [message]})


def _write_lines(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    _subscriptions_check(invoice, lines)
    InvoiceLine.objects.filter(invoice=invoice).delete()
    rows = invoice_line_rows(invoice, lines)
    _amounts_check(rows)
    InvoiceLine.objects.bulk_create(rows)
    invoice.subtotal = sum((r.amount for r in rows), ZERO)
    invoice.tax_total = sum((r.tax_amount for r in rows), ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.balance = invoice.total


def invoice_total_check(invoice: Invoice) -> None:
    """The rule of negative amounts: a line may be negative (a discount) while the invoice's total is
    zero or more. A negative total is refused, for drafts and at issue; refunds are credit notes."""
    if invoice.total < ZERO:
        message = _(
            "The lines come to %(total)s %(currency)s. Discounts may reduce an invoice to zero but not "
            "below; to give money back, issue a credit note."
        ) % {"total": invoice.total, "currency": invoice.currency}
        raise InvoiceTotalNegative(message, fields={"lines": [message]})


def invoice_vat_categories_check(invoice: Invoice) -> None:
    """A line at 0 % must say which VAT category it is (zero rated, reverse charge, export…): a tax
    document cannot leave the reason for charging no VAT open. Lines with VAT are standard rated."""
    positions = [
        str(n)
        for n, line in enumerate(invoice.lines.order_by("position", "pk"), start=1)
        if not line.vat_category and line.tax_rate == 0
    ]
    if positions:
        message = _(
            "Choose the VAT category of line %(lines)s: at 0 %% an invoice must say whether it is zero rated, "
            "reverse charge, an export, exempt or outside the scope of VAT."
        ) % {"lines": ", ".join(positions)}
        raise InvoiceVatCategoryMissing(message, fields={"lines": [message]})


@transaction.atomic
def invoice_draft_create(
    *,
    partner: Partner,
    customer: Customer,
    actor: User | None,
    lines: Sequence[LineInput],
    notes: str = "",
    period: str = "",
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    tax_currency_rate: Decimal | None = None,
) -> Invoice:
    """A draft in the customer's currency. Drafts take no number and change freely until issued.
    `issue_date` and `due_date` override what issuing would set (today; today plus the credit days);
    `tax_currency_rate` converts its VAT total into the partner's accounting currency."""
    if customer.partner_id != partner.pk:
        raise ValueError("customer belongs to another partner")
    invoice_dates_check(partner=partner, issue_date=issue_date, due_date=due_date)
    invoice_tax_currency_check(partner=partner, currency=customer.currency, rate=tax_currency_rate)
    invoice = Invoice(
        partner=partner, customer=customer, currency=customer.currency, notes=notes, period=period,
        issue_date=issue_date, due_date=due_date, tax_currency_rate=tax_currency_rate,
    )  # fmt: skip
    invoice.save()
    _write_lines(invoice, lines)
    invoice_total_check(invoice)
    invoice.save(update_fields=["subtotal", "tax_total", "total", "balance"])
    audit_record(
        partner=partner, customer=customer, actor=actor, action="invoice.drafted", target=invoice,
        data={"total": str(invoice.total), "lines": len(lines), **_dates_data(invoice)},
    )  # fmt: skip
    return invoice


@transaction.atomic
def invoice_draft_update(
    *,
    invoice: Invoice,
    actor: User | None,
    lines: Sequence[LineInput] | None = None,
    notes: str | None = None,
    issue_date: dt.date | _Unchanged | None = UNCHANGED,
    due_date: dt.date | _Unchanged | None = UNCHANGED,
    tax_currency_rate: Decimal | _Unchanged | None = UNCHANGED,
) -> Invoice:
    """Replace a draft's lines, notes, date overrides and/or VAT exchange rate (None clears one).
    Anything but a draft is refused: issued is immutable."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("partner").get(pk=invoice.pk)
    if not invoice.is_draft:
        raise InvoiceNotEditable(
            _("Invoice %(number)s is issued and cannot change; issue a credit note.") % {"number": invoice.number}
        )
    if not isinstance(issue_date, _Unchanged):
        invoice.issue_date = issue_date
    if not isinstance(due_date, _Unchanged):
        invoice.due_date = due_date
    invoice_dates_check(partner=invoice.partner, issue_date=invoice.issue_date, due_date=invoice.due_date)
    if not isinstance(tax_currency_rate, _Unchanged):
        invoice_tax_currency_check(partner=invoice.partner, currency=invoice.currency, rate=tax_currency_rate)
        invoice.tax_currency_rate = tax_currency_rate
    if lines is not None:
        _write_lines(invoice, lines)
        invoice_total_check(invoice)
    if notes is not None:
        invoice.notes = notes
    invoice.save(
        update_fields=[
            "subtotal",
            "tax_total",
            "total",
            "balance",
            "notes",
            "issue_date",
            "due_date",
            "tax_currency_rate",
        ]
    )
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="invoice.draft_updated", target=invoice,
        data={"total": str(invoice.total), **_dates_data(invoice)},
    )  # fmt: skip
    return invoice


def _dates_data(invoice: Invoice) -> dict[str, str]:
    """A draft's date overrides and VAT exchange rate, for its audit event (none when not set)."""
    dates = {"issue_date": invoice.issue_date, "due_date": invoice.due_date}
    data = {name: value.isoformat() for name, value in dates.items() if value is not None}
    if invoice.tax_currency_rate is not None:
        data["tax_currency_rate"] = str(invoice.tax_currency_rate)
    return data


@transaction.atomic
def invoice_draft_delete(*, invoice: Invoice, actor: User | None) -> None:
    """Delete a draft. It never had a number, so nothing is lost from the series; issued invoices stay."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not invoice.is_draft:
        raise InvoiceNotEditable(
            _("Invoice %(number)s is issued and cannot be deleted; void it instead.") % {"number": invoice.number}
        )
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="invoice.draft_deleted", target=invoice,
        data={"total": str(invoice.total), "period": invoice.period},
    )  # fmt: skip
    # What other parts billed on this draft becomes billable again (usage from reconciliation files).
    for release in _draft_releasers:
        release(invoice=invoice)
    invoice.delete()


@transaction.atomic
def invoice_issue(*, invoice: Invoice, actor: User | None, issue_date: dt.date | None = None) -> Invoice:
    """Issue a draft: take the next number of the partner's series, fix the dates, freeze it, and
    apply the customer's available credit. Idempotent: issuing an issued invoice changes nothing.

    The dates: `issue_date` if given, else the draft's own issue date, else today; the draft's due date,
    else the issue date plus the customer's credit days. They are checked again (a day has passed, or
    a due date set alone is now before today)."""
    # The draft's row, then its customer's (the credit applied below is the customer's); the number is
    # the invoice series' own lock. Not the partner's: the partner's other work goes on meanwhile.
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=invoice.pk)
    if not invoice.is_draft:
        return invoice  # issued already: a retry must not take a second number
    customer_balances_lock(customer_id=invoice.customer_id)
    invoice_total_check(invoice)  # lines appended to the draft by other parts are held to it too
    invoice_vat_categories_check(invoice)
    issued_on = issue_date or invoice.issue_date or clock.today(invoice.partner.time_zone)
    due_on = invoice.due_date or issued_on + dt.timedelta(days=invoice.customer.credit_days)
    if invoice.issue_date is not None or invoice.due_date is not None:  # staff chose them: the rule holds
        invoice_dates_check(partner=invoice.partner, issue_date=issued_on, due_date=due_on)
    invoice.number = number_next(partner=invoice.partner, kind=NumberSeries.Kind.INVOICE, year=issued_on.year)
    invoice.status = Invoice.Status.ISSUED if invoice.balance > ZERO else Invoice.Status.PAID  # nothing owed
    invoice.issue_date = issued_on
    invoice.due_date = due_on
    invoice.issued_at = clock.now()
    invoice.save(update_fields=["number", "status", "issue_date", "due_date", "issued_at"])
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="invoice.issued", target=invoice,
        data={"number": invoice.number, "total": str(invoice.total), "due_date": invoice.due_date.isoformat()},
    )  # fmt: skip
    from billing.invoicing.services.payments import customer_credit_apply  # payments build on invoicing

    customer_credit_apply(invoice=invoice, actor=actor)
    customer_balances_changed(customer_ids=[invoice.customer_id])
    document_issued(kind="invoice", document=invoice)
    invoice.refresh_from_db()
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: User | None, reason: str) -> Invoice:
    """Void an issued invoice with nothing paid or credited on it; it keeps its number."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        return invoice
    customer_balances_lock(customer_id=invoice.customer_id)
    if invoice.is_draft:
        raise InvoiceNotEditable(_("A draft has no number to keep; delete or edit it instead of voiding."))
    if invoice.amount_paid or invoice.amount_credited:
        raise InvoiceHasSettlements(
            _("Invoice %(number)s has payments or credit notes; credit the rest instead of voiding.")
            % {"number": invoice.number}
        )
    if not reason.strip():
        raise InvoiceNotEditable(_("Give a reason for voiding."))
    invoice.status, invoice.balance = Invoice.Status.VOID, ZERO
    invoice.voided_at, invoice.void_reason = clock.now(), reason.strip()
    invoice.save(update_fields=["status", "balance", "voided_at", "void_reason"])
    audit_record(
        partner=invoice.partner, customer=invoice.customer, actor=actor, action="invoice.voided", target=invoice,
        data={"number": invoice.number, "reason": invoice.void_reason},
    )  # fmt: skip
    customer_balances_changed(customer_ids=[invoice.customer_id])
    return invoice
