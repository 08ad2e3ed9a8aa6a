"""Monthly invoices from subscriptions: one per customer and period, pro-rated by day.

Pro-rating: a subscription billed for part of a month, or whose quantity changes inside it, gets one
line per stretch of days with the same quantity. Its quantity is licences * days / days in the month,
rounded half-up to four places; the line amount is then rounded once like any other line.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import formats, translation

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services.invoicing import LineInput, invoice_draft_create, invoice_issue
from partner_portal import clock
from partner_portal.jobs import for_each_partner
from partner_portal.models import Customer, Partner, User
from subscriptions.models import Subscription, SubscriptionQuantityChange

FOUR_PLACES = Decimal("0.0001")


@dataclass
class GenerationResult:
    period: str
    created: list[int] = field(default_factory=list)  # invoice ids
    skipped_existing: int = 0
    issued: int = 0


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a "YYYY-MM" period."""
    try:
        year, month = (int(x) for x in period.split("-"))
        first = dt.date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"not a period (YYYY-MM): {period!r}") from exc
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def previous_period(today: dt.date) -> str:
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last_month:%Y-%m}"


def _stretches(sub: Subscription, first: dt.date, last: dt.date) -> Iterator[tuple[dt.date, dt.date, int]]:
    """(from, to, quantity) for each stretch of the period the subscription is billed at one quantity."""
    start, end = max(sub.start_date, first), min(sub.end_date or last, last)
    if start > end:
        return
    changes: list[SubscriptionQuantityChange] = list(sub.quantity_changes.all())  # prefetched, by date
    if not changes:
        yield start, end, sub.quantity
        return
    # The quantity in force on `start`, then each change that falls inside the stretch.
    current = next((c.quantity for c in reversed(changes) if c.effective_on <= start), changes[0].quantity)
    cursor = start
    for change in changes:
        if start < change.effective_on <= end:
            yield cursor, change.effective_on - dt.timedelta(days=1), current
            cursor, current = change.effective_on, change.quantity
    yield cursor, end, current


def subscription_lines(sub: Subscription, period: str) -> list[LineInput]:
    first, last = period_bounds(period)
    days_in_month = Decimal((last - first).days + 1)
    lines = []
    for start, end, quantity in _stretches(sub, first, last):
        if quantity == 0:
            continue
        days = (end - start).days + 1
        whole = start == first and end == last
        billed = (
            Decimal(quantity)
            if whole
            else (Decimal(quantity) * days / days_in_month).quantize(FOUR_PLACES, ROUND_HALF_UP)
        )
        span = (
            ""
            if whole
            else f" ({formats.date_format(start, 'j M')}–{formats.date_format(end, 'j M')}, {quantity} × {days}/{days_in_month})"
        )
        lines.append(
            LineInput(
                description=f"{sub.product} — {formats.date_format(first, 'F Y')}{span}",
                quantity=billed,
                unit_price=sub.unit_price,
                tax_rate=sub.tax_rate,
                kind=InvoiceLine.Kind.SUBSCRIPTION,
                subscription=sub,
                period_start=start,
                period_end=end,
            )
        )
    return lines


def invoices_generate(
    *, partner: Partner, period: str, issue: bool = False, actor: User | None = None, issue_date: dt.date | None = None
) -> GenerationResult:
    """Create one invoice per customer of `partner` for `period` from its subscriptions.

    Idempotent: a customer that already has an invoice for the period is skipped (a unique
    constraint holds this even when two runs race). With `issue`, new invoices are issued at once.
    Set-based reads: one query for the period's subscriptions (with their quantity history), one
    for the invoices that already exist.
    """
    first, last = period_bounds(period)
    result = GenerationResult(period=period)
    subs = (
        Subscription.objects.for_partner(partner)
        .filter(start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .exclude(status=Subscription.Status.CANCELLED, end_date__isnull=True)
        .select_related("customer")
        .prefetch_related(
            Prefetch("quantity_changes", queryset=SubscriptionQuantityChange.objects.order_by("effective_on"))
        )
        .order_by("customer_id", "product", "pk")
    )
    by_customer: dict[int, list[Subscription]] = defaultdict(list)
    customers: dict[int, Customer] = {}
    for sub in subs:
        by_customer[sub.customer_id].append(sub)
        customers[sub.customer_id] = sub.customer
    done = set(Invoice.objects.for_partner(partner).filter(period=period).values_list("customer_id", flat=True))
    for customer_id, customer_subs in by_customer.items():
        if customer_id in done:
            result.skipped_existing += 1
            continue
        customer = customers[customer_id]
        with translation.override(customer.language):
            lines = [line for sub in customer_subs for line in subscription_lines(sub, period)]
        if not lines:
            continue
        try:
            with transaction.atomic():
                invoice = invoice_draft_create(
                    partner=partner, customer=customer, actor=actor, lines=lines, period=period
                )
                if issue:
                    invoice_issue(invoice=invoice, actor=actor, issue_date=issue_date)
                    result.issued += 1
        except IntegrityError:
            result.skipped_existing += 1  # a concurrent run created it first
            continue
        result.created.append(invoice.pk)
    return result


def invoices_generate_all(
    *, period: str | None = None, partner_slug: str | None = None, issue: bool = False
) -> list[tuple[Partner, GenerationResult]]:
    """Generate every partner's invoices (or the one named) for `period`, by default each partner's
    previous month in its own time zone. Idempotent like `invoices_generate`; the task and the command call this."""
    return for_each_partner(
        lambda p: invoices_generate(partner=p, period=period or previous_period(clock.today(p.time_zone)), issue=issue),
        slug=partner_slug,
    )
