"""What the partner owes Microsoft for a period: set by hand or from the period's reconciliation imports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.invoicing.models import ZERO
from billing.invoicing.services.generation import period_bounds
from billing.reconciliation.errors import PayableInvalid
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from partner_portal.money import quantize

# Microsoft invoices a billing period after it ends and the partner pays within 60 days of the
# invoice date (CSP direct-bill terms); without a date set by hand the payable is due then.
PAYMENT_TERMS = dt.timedelta(days=60)


def payable_default_due_date(period: str) -> dt.date:
    """The 1st of the month after the period, plus the 60 days CSP direct-bill partners have to pay."""
    _, last = period_bounds(period)
    return last + dt.timedelta(days=1) + PAYMENT_TERMS


def payable_from_imports(*, imp: ReconciliationImport, actor: User | None) -> MicrosoftPayable:
    """Create or update the payable of the import's period and currency from the imported files.

    Its amount is the total of the latest imported file of each kind for that period: a month's
    new-commerce and legacy invoices add up, and a corrected file of one kind replaces the earlier one.
    A due date set by hand is kept (and the payable says so); otherwise it is the default.
    """
    latest: dict[str, ReconciliationImport] = {}
    done = (
        ReconciliationImport.objects.for_partner(imp.partner)
        .filter(period=imp.period, currency=imp.currency, status=ReconciliationImport.Status.DONE)
        .order_by("-finished_at", "-pk")
    )
    for other in done:
        latest.setdefault(other.kind, other)
    amount = sum((i.total for i in latest.values()), ZERO)
    due = payable_default_due_date(imp.period)
    payable = (
        MicrosoftPayable.objects.select_for_update()
        .for_partner(imp.partner)
        .filter(period=imp.period, currency=imp.currency)
        .first()
    )
    if payable is None:
        try:
            with transaction.atomic():
                payable = MicrosoftPayable.objects.create(
                    partner=imp.partner, period=imp.period, currency=imp.currency, amount=amount, due_date=due,
                    source=MicrosoftPayable.Source.IMPORT, reconciliation_import=imp, imported_amount=amount,
                )  # fmt: skip
            audit_record(
                partner=imp.partner, actor=actor, action="microsoft_payable.imported", target=payable,
                data={"period": imp.period, "currency": imp.currency, "amount": str(amount), "previous_amount": None,
                      "due_date": due.isoformat(), "due_date_kept": False, "import": imp.pk},
            )  # fmt: skip
            return payable
        except IntegrityError:  # another import of the same period created it a moment ago
            payable = (
                MicrosoftPayable.objects.select_for_update()
                .for_partner(imp.partner)
                .get(period=imp.period, currency=imp.currency)
            )
    previous = payable.amount
    kept = payable.due_date_manual
    if kept:
        note = _("Due date %(date)s kept: it was set by hand.") % {"date": date_format(payable.due_date)}
        if note not in payable.notes:
            payable.notes = f"{payable.notes}\n{note}".strip()
    else:
        payable.due_date = due
    # An amount entered by hand stands until finance chooses the import's (microsoft_payable_choose):
    # the import's figure is kept beside it, and the payable's page shows the difference.
    manual_stands = payable.source == MicrosoftPayable.Source.MANUAL and payable.manual_amount is not None
    payable.imported_amount, payable.reconciliation_import = amount, imp
    if not manual_stands:
        payable.amount, payable.source = amount, MicrosoftPayable.Source.IMPORT
    payable.updated_at = clock.now()
    payable.save(update_fields=["amount", "imported_amount", "source", "reconciliation_import", "due_date", "notes",
                                "updated_at"])  # fmt: skip
    audit_record(
        partner=imp.partner, actor=actor, action="microsoft_payable.imported", target=payable,
        data={"period": imp.period, "currency": imp.currency, "amount": str(amount), "previous_amount": str(previous),
              "due_date": payable.due_date.isoformat(), "due_date_kept": kept, "import": imp.pk,
              "manual_amount_kept": manual_stands},
    )  # fmt: skip
    return payable


@transaction.atomic
def microsoft_payable_set(
    *,
    partner: Partner,
    actor: User | None,
    period: str,
    amount: Decimal,
    currency: str,
    due_date: dt.date,
    notes: str = "",
) -> MicrosoftPayable:
    """Enter what the partner owes Microsoft for a period by hand (create or replace), audited.

    Its due date then stays when a reconciliation file of the period is imported later."""
    if not is_period(period):
        raise PayableInvalid(_("The period must be a month as YYYY-MM, e.g. 2026-11."))
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise PayableInvalid(_("The currency must be a three-letter code such as USD."))
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PayableInvalid(_("The amount must be a decimal number."))
    amount = quantize(amount, currency)
    payable = (
        MicrosoftPayable.objects.select_for_update()
        .for_partner(partner)
        .filter(period=period, currency=currency)
        .first()
    )
    previous = payable.amount if payable is not None else None
    if payable is None:
        payable = MicrosoftPayable(partner=partner, period=period, currency=currency)
    payable.amount, payable.manual_amount, payable.due_date, payable.due_date_manual = amount, amount, due_date, True
    payable.source, payable.notes, payable.updated_at = MicrosoftPayable.Source.MANUAL, notes, clock.now()
    payable.save()
    audit_record(
        partner=partner, actor=actor, action="microsoft_payable.set", target=payable,
        data={"period": period, "currency": currency, "amount": str(amount),
              "previous_amount": str(previous) if previous is not None else None, "due_date": due_date.isoformat()},
    )  # fmt: skip
    return payable


@transaction.atomic
def microsoft_payable_choose(*, payable: MicrosoftPayable, actor: User | None, source: str) -> MicrosoftPayable:
    """Finance decides which figure stands when the amount entered by hand and the reconciliation
    files' differ: `source` "manual" or "import". Both stay on the payable; audited. Choosing the
    figure that already stands changes nothing."""
    payable = MicrosoftPayable.objects.select_for_update().get(pk=payable.pk)
    chosen = {
        MicrosoftPayable.Source.MANUAL: payable.manual_amount,
        MicrosoftPayable.Source.IMPORT: payable.imported_amount,
    }
    if source not in chosen:
        raise PayableInvalid(_("Choose the amount entered by hand or the imported one."))
    amount = chosen[MicrosoftPayable.Source(source)]
    if amount is None:
        raise PayableInvalid(_("This payable has no such amount to choose."))
    if payable.source == source and payable.amount == amount:
        return payable
    previous, previous_source = payable.amount, payable.source
    payable.amount, payable.source, payable.updated_at = amount, source, clock.now()
    payable.save(update_fields=["amount", "source", "updated_at"])
    audit_record(
        partner=payable.partner, actor=actor, action="microsoft_payable.chosen", target=payable,
        data={"period": payable.period, "currency": payable.currency, "source": source, "amount": str(amount),
              "previous_source": previous_source, "previous_amount": str(previous)},
    )  # fmt: skip
    return payable


def is_period(value: str) -> bool:
    try:
        period_bounds(value)
    except ValueError:
        return False
    return len(value) == 7
