"""Reads of the finance pages: receivables by age, what came in, and what is owed to Microsoft against them.

Finance composes the parts below it: receivables from billing.invoicing, payables from billing.reconciliation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from billing.invoicing.models import AGING_BUCKETS as AGING_BUCKETS_BY_KEY
from billing.invoicing.models import ZERO, Invoice, InvoiceQuerySet, Payment
from billing.reconciliation.models import MicrosoftPayable
from billing.reconciliation.selectors import microsoft_payables
from partner_portal import clock
from partner_portal.tenancy import Scope


@dataclass(frozen=True)
class CurrencyReceivables:
    """Receivables in one currency: amounts of different currencies are never added together."""

    currency: str
    open_balance: Decimal
    overdue: Decimal
    overdue_invoices: int
    collected_this_month: Decimal


@dataclass(frozen=True)
class ReceivablesSummary:
    by_currency: list[CurrencyReceivables]
    month_start: dt.date
    today: dt.date

    @property
    def overdue_invoices(self) -> int:
        return sum(line.overdue_invoices for line in self.by_currency)


def receivables_summary(*, scope: Scope) -> ReceivablesSummary:
    """What customers owe, what is overdue and what came in this calendar month (partner's time zone),
    one line per currency (at least one: the partner's default currency, at zero). Two aggregate
    queries, whatever the number of invoices."""
    today = clock.today(scope.partner.time_zone)
    month_start = today.replace(day=1)
    overdue = InvoiceQuerySet.overdue_condition(today)
    invoices = (
        Invoice.objects.for_scope(scope)
        .open()
        .order_by()
        .values("currency")
        .annotate(
            open_balance=Sum("balance"),
            overdue=Sum("balance", filter=overdue),
            overdue_invoices=Count("pk", filter=overdue),
        )
    )
    collected = (
        Payment.objects.for_scope(scope)
        .live()
        .filter(received_on__gte=month_start, received_on__lte=today)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    by_invoices = {row["currency"]: row for row in invoices}
    by_payments = {row["currency"]: row["total"] or ZERO for row in collected}
    lines = []
    for currency in sorted(by_invoices.keys() | by_payments.keys()):
        row = by_invoices.get(currency, {})
        lines.append(
            CurrencyReceivables(
                currency=currency,
                open_balance=row.get("open_balance") or ZERO,
                overdue=row.get("overdue") or ZERO,
                overdue_invoices=row.get("overdue_invoices") or 0,
                collected_this_month=by_payments.get(currency, ZERO),
            )
        )
    if not lines:  # nothing owed or collected: say so in the partner's own currency
        currency = scope.partner.default_currency
        lines.append(CurrencyReceivables(currency, ZERO, ZERO, 0, ZERO))
    return ReceivablesSummary(by_currency=lines, month_start=month_start, today=today)


AGING_BUCKETS = tuple(AGING_BUCKETS_BY_KEY)  # the bucket keys, in order


@dataclass(frozen=True)
class AgingBucket:
    key: str  # one of AGING_BUCKETS
    amount: Decimal
    invoices: int


@dataclass(frozen=True)
class CurrencyAging:
    """Open balances of one currency by how long they are past due (currencies are never added)."""

    currency: str
    buckets: tuple[AgingBucket, ...]  # in AGING_BUCKETS order, every bucket present

    @property
    def total(self) -> Decimal:
        return sum((b.amount for b in self.buckets), ZERO)

    @property
    def invoices(self) -> int:
        return sum(b.invoices for b in self.buckets)

    @property
    def overdue(self) -> Decimal:
        return sum((b.amount for b in self.buckets if b.key != "current"), ZERO)

    def amount(self, key: str) -> Decimal:
        return next(b.amount for b in self.buckets if b.key == key)


def receivables_aging(*, scope: Scope) -> list[CurrencyAging]:
    """The open balance of issued and partly paid invoices, bucketed by days past due in the partner's
    time zone (current, 1–30, 31–60, 61–90, over 90), one entry per currency, in one aggregate query.
    Empty when nothing is open."""
    today = clock.today(scope.partner.time_zone)
    annotations: dict[str, Any] = {}
    for key in AGING_BUCKETS:
        condition = InvoiceQuerySet.aging_condition(key, today)
        annotations[f"amount_{key}"] = Sum("balance", filter=condition)
        annotations[f"count_{key}"] = Count("pk", filter=condition)
    rows = Invoice.objects.for_scope(scope).open().order_by().values("currency").annotate(**annotations)
    return [
        CurrencyAging(
            currency=row["currency"],
            buckets=tuple(
                AgingBucket(key=key, amount=row[f"amount_{key}"] or ZERO, invoices=row[f"count_{key}"])
                for key in AGING_BUCKETS
            ),
        )
        for row in sorted(rows, key=lambda r: r["currency"])
    ]


@dataclass(frozen=True)
class CurrencyCollected:
    currency: str
    this_month: Decimal
    last_month: Decimal
    payments_this_month: int
    payments_last_month: int


@dataclass(frozen=True)
class Collected:
    """Payments received this calendar month (to today) and last month, in the partner's time zone."""

    by_currency: list[CurrencyCollected]
    today: dt.date
    month_start: dt.date
    last_month_start: dt.date

    def this_month(self, currency: str) -> Decimal:
        return next((c.this_month for c in self.by_currency if c.currency == currency), ZERO)


def payments_collected(*, scope: Scope) -> Collected:
    """What customers paid this month and last month, one line per currency (one aggregate query)."""
    today = clock.today(scope.partner.time_zone)
    month_start = today.replace(day=1)
    last_month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    this_month = Q(received_on__gte=month_start)
    last_month = Q(received_on__lt=month_start)
    rows = (
        Payment.objects.for_scope(scope)
        .live()
        .filter(received_on__gte=last_month_start, received_on__lte=today)
        .order_by()
        .values("currency")
        .annotate(
            this_sum=Sum("amount", filter=this_month),
            last_sum=Sum("amount", filter=last_month),
            this_count=Count("pk", filter=this_month),
            last_count=Count("pk", filter=last_month),
        )
    )
    lines = [
        CurrencyCollected(
            currency=row["currency"],
            this_month=row["this_sum"] or ZERO,
            last_month=row["last_sum"] or ZERO,
            payments_this_month=row["this_count"],
            payments_last_month=row["last_count"],
        )
        for row in sorted(rows, key=lambda r: r["currency"])
    ]
    return Collected(by_currency=lines, today=today, month_start=month_start, last_month_start=last_month_start)


@dataclass(frozen=True)
class PayableCoverage:
    """An upcoming Microsoft payable against what should come in before it is due.

    The rule, per currency: cash collected this month plus the open balances of invoices due on or
    before the payable's due date must reach what is due to Microsoft by that date (this payable and
    the earlier upcoming ones of the same currency, so the same receivables never cover two bills).
    """

    payable: MicrosoftPayable
    receivables_due: Decimal  # open balances in the payable's currency due on or before its due date
    collected: Decimal  # payments received this month in that currency
    due_to_microsoft: Decimal  # this payable and the upcoming ones due before it, same currency
    days_left: int  # until the due date, in the partner's time zone

    @property
    def cover(self) -> Decimal:
        return self.receivables_due + self.collected

    @property
    def covered(self) -> bool:
        return self.cover >= self.due_to_microsoft

    @property
    def shortfall(self) -> Decimal:
        return max(self.due_to_microsoft - self.cover, ZERO)

    @property
    def cumulative(self) -> bool:
        """True when earlier payables of the same currency are counted in `due_to_microsoft`."""
        return bool(self.due_to_microsoft != self.payable.amount)


@dataclass(frozen=True)
class PayablesOutlook:
    upcoming: list[PayableCoverage]  # due today or later, soonest first
    past: list[MicrosoftPayable]  # due date passed, latest first
    today: dt.date

    @property
    def uncovered(self) -> list[PayableCoverage]:
        return [c for c in self.upcoming if not c.covered]


def microsoft_payables_outlook(*, scope: Scope, collected: Collected | None = None, past: int = 6) -> PayablesOutlook:
    """What is due to Microsoft and when, each upcoming payable with its cover (see PayableCoverage).

    The model has no "paid" state: a payable whose due date has passed is listed as past. Three
    queries (the payables, past payables and one aggregate of receivables), plus one for `collected`
    when not given."""
    today = clock.today(scope.partner.time_zone)
    collected = collected or payments_collected(scope=scope)
    payables = microsoft_payables(scope=scope)
    upcoming = list(payables.filter(due_date__gte=today).order_by("due_date", "currency", "pk"))
    recent = list(payables.filter(due_date__lt=today).order_by("-due_date", "currency", "pk")[:past])
    due_by: dict[int, Decimal] = {}
    if upcoming:
        sums = {
            f"due_{p.pk}": Sum("balance", filter=Q(currency=p.currency, due_date__lte=p.due_date)) for p in upcoming
        }
        totals = Invoice.objects.for_scope(scope).open().aggregate(**sums)
        due_by = {p.pk: totals[f"due_{p.pk}"] or ZERO for p in upcoming}
    running: dict[str, Decimal] = {}
    coverage = []
    for payable in upcoming:  # soonest first: each one adds to what is due by its date
        running[payable.currency] = running.get(payable.currency, ZERO) + payable.amount
        coverage.append(
            PayableCoverage(
                payable=payable,
                receivables_due=due_by[payable.pk],
                collected=collected.this_month(payable.currency),
                due_to_microsoft=running[payable.currency],
                days_left=(payable.due_date - today).days,
            )
        )
    return PayablesOutlook(upcoming=coverage, past=recent, today=today)
