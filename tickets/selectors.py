"""Reads of tickets for pages and the API, always through a Scope.

Customers never see internal notes nor their attachments: the message and attachment querysets
drop them for a customer scope (tickets.models), and these selectors only read through them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, BooleanField, Case, Count, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from billing.invoicing.models import Invoice
from partner_portal import clock
from partner_portal.models import STAFF_ROLES, Customer, Membership
from partner_portal.search import search_with_customer
from partner_portal.tenancy import Scope, get_scoped_or_404
from tickets.models import (
    CustomerSupportPlan,
    SupportOffering,
    SupportPlan,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketRating,
    TimeEntry,
)

# A ticket is "breaching soon" when a due time it has not met falls within this window.
NEAR_BREACH = dt.timedelta(hours=2)

# Sort keys the queue offers: name -> (model field, descending).
TICKET_SORTS: dict[str, tuple[str, bool]] = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "number": ("number", False),
    "-number": ("number", True),
    "severity": ("severity", False),
    "-severity": ("severity", True),
}

VIEWS = ("all", "mine", "unassigned", "breaching", "breached", "escalated", "active")


@dataclass(frozen=True)
class TicketFilters:
    search: str = ""  # subject, reference (T-000042 or 42), customer name or domain
    view: str = ""  # one of VIEWS: the queue's tabs
    status: str = ""
    category: str = ""
    severity: str = ""
    assignee_id: int | None = None
    customer_id: int | None = None


def _flags(now: dt.datetime) -> tuple[Q, Q]:
    """(breached, near breach): an unmet due time passed, or one due within NEAR_BREACH.

    The clock is stopped while waiting on the customer and after resolution, so those are never flagged.
    """
    running = Q(status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.ESCALATED])
    response_open = Q(first_responded_at__isnull=True, first_response_due__isnull=False)
    breached = running & (
        (response_open & Q(first_response_due__lte=now)) | Q(resolution_due__isnull=False, resolution_due__lte=now)
    )
    soon = now + NEAR_BREACH
    near = running & (
        (response_open & Q(first_response_due__gt=now, first_response_due__lte=soon))
        | Q(resolution_due__gt=now, resolution_due__lte=soon)
    )
    return breached, near & ~breached


def _due_flags(qs: QuerySet[Ticket], now: dt.datetime) -> QuerySet[Ticket]:
    """Annotate `breached` and `near_breach` (see _flags)."""
    breached, near = _flags(now)
    return qs.annotate(
        breached=Case(When(breached, then=Value(True)), default=Value(False), output_field=BooleanField()),
        near_breach=Case(When(near, then=Value(True)), default=Value(False), output_field=BooleanField()),
    )


def _search(qs: QuerySet[Ticket], scope: Scope, term: str) -> QuerySet[Ticket]:
    term = term.strip()
    own = Q(subject__icontains=term)
    digits = term.upper().removeprefix("T-").lstrip("0")
    if digits.isdigit():
        own |= Q(number=int(digits))
    return search_with_customer(qs, scope=scope, own=own, term=term)


def ticket_list(*, scope: Scope, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets the scope may see, with `breached` / `near_breach` flags; a customer sees its own."""
    now = clock.now()
    qs = _due_flags(Ticket.objects.for_scope(scope).select_related("customer", "assignee"), now)
    f = filters or TicketFilters()
    if f.search:
        qs = _search(qs, scope, f.search)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.assignee_id:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.view == "mine":
        qs = qs.filter(assignee_id=scope.user.pk).filter(status__in=Ticket.ACTIVE_STATUSES)
    elif f.view == "unassigned":
        qs = qs.filter(assignee__isnull=True, status__in=Ticket.ACTIVE_STATUSES)
    elif f.view == "breaching":
        breached, near = _flags(now)
        qs = qs.filter(breached | near)
    elif f.view == "breached":
        qs = qs.filter(_flags(now)[0])
    elif f.view == "escalated":
        qs = qs.filter(status=Ticket.Status.ESCALATED)
    elif f.view == "active":
        qs = qs.filter(status__in=Ticket.ACTIVE_STATUSES)
    return qs


@dataclass(frozen=True)
class QueueCount:
    """How many tickets a queue tab holds: exact up to QUEUE_COUNT_CAP, past it "1,000+"."""

    value: int
    more: bool = False

    def __bool__(self) -> bool:
        return self.value > 0

    def __str__(self) -> str:
        text = number_format(self.value, force_grouping=True)
        return f"{text}+" if self.more else text


# Counting every active ticket of a large partner on each request (100,000 in the benchmark) cost 44 ms;
# each tab stops counting here, read through its index.
QUEUE_COUNT_CAP = 1000


def ticket_queue_counts(*, scope: Scope) -> dict[str, QueueCount]:
    """How many tickets each queue tab holds, up to QUEUE_COUNT_CAP each, in one statement. Every tab
    holds active tickets only, so only those are read (through the partner and status index)."""
    breached, near = _flags(clock.now())
    active = Ticket.objects.for_scope(scope).filter(status__in=Ticket.ACTIVE_STATUSES).order_by()
    tabs = {
        "mine": active.filter(assignee_id=scope.user.pk),
        "unassigned": active.filter(assignee__isnull=True),
        "breaching": active.filter(breached | near),
        "escalated": active.filter(status=Ticket.Status.ESCALATED),
        "active": active,
    }
    parts: list[str] = []
    params: list[Any] = []
    for queryset in tabs.values():
        sql, sql_params = queryset.values("pk")[: QUEUE_COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS tab)")  # noqa: S608 (Django-compiled SQL, values as params)
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {
        name: QueueCount(min(count, QUEUE_COUNT_CAP), more=count > QUEUE_COUNT_CAP)
        for name, count in zip(tabs, row, strict=True)
    }


def ticket_get(*, scope: Scope, pk: int | str) -> Ticket:
    qs = _due_flags(
        Ticket.objects.select_related("customer", "partner", "assignee", "opened_by__membership").prefetch_related(
            Prefetch("invoices", queryset=Invoice.objects.for_scope(scope).order_by("-issue_date", "-pk")),
        ),
        clock.now(),
    )
    return get_scoped_or_404(qs, scope, pk=pk)


def ticket_rating(*, scope: Scope, ticket: Ticket) -> TicketRating | None:
    """The customer's rating of the ticket, if it has one."""
    return TicketRating.objects.for_scope(scope).filter(ticket=ticket).first()


def rating_link_ticket(*, ticket_id: int, partner_id: int) -> Ticket | None:
    """The ticket a rating link names (no sign-in: the signed token is the key), with its partner."""
    return Ticket.objects.select_related("partner", "customer").filter(pk=ticket_id, partner_id=partner_id).first()


def rating_get(*, ticket: Ticket) -> TicketRating | None:
    return TicketRating.objects.filter(partner_id=ticket.partner_id, ticket=ticket).first()


def ticket_messages(*, scope: Scope, ticket: Ticket) -> QuerySet[TicketMessage]:
    """The ticket's messages, oldest first, with their attachments; no internal notes for customers."""
    return (
        TicketMessage.objects.for_scope(scope)
        .filter(ticket=ticket)
        .select_related("author__membership")
        .prefetch_related(Prefetch("attachments", queryset=TicketAttachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


def ticket_message_get(*, scope: Scope, ticket: Ticket, pk: int | str) -> TicketMessage:
    return get_scoped_or_404(ticket_messages(scope=scope, ticket=ticket), scope, pk=pk)


def ticket_attachments(*, scope: Scope, ticket: Ticket) -> QuerySet[TicketAttachment]:
    """Files attached to the ticket itself (not to a message)."""
    return TicketAttachment.objects.for_scope(scope).filter(ticket=ticket, message__isnull=True).order_by("pk")


def attachment_get(*, scope: Scope, pk: int | str) -> TicketAttachment:
    """One attachment the scope may download (customers: their tickets, never internal notes)."""
    return get_scoped_or_404(TicketAttachment.objects.select_related("ticket", "message"), scope, pk=pk)


def ticket_time_entries(*, scope: Scope, ticket: Ticket) -> QuerySet[TimeEntry]:
    return (
        TimeEntry.objects.for_scope(scope)
        .filter(ticket=ticket)
        .select_related("agent", "billed_invoice")
        .order_by("worked_on", "pk")
    )


@dataclass(frozen=True)
class TimeTotals:
    billable_minutes: int
    non_billable_minutes: int
    billed_minutes: int


def ticket_time_totals(*, scope: Scope, ticket: Ticket) -> TimeTotals:
    totals = (
        TimeEntry.objects.for_scope(scope)
        .filter(ticket=ticket)
        .aggregate(
            billable_sum=Sum("minutes", filter=Q(billable=True)),
            non_billable_sum=Sum("minutes", filter=Q(billable=False)),
            billed_sum=Sum("minutes", filter=Q(billed_invoice__isnull=False)),
        )
    )
    return TimeTotals(
        billable_minutes=totals["billable_sum"] or 0,
        non_billable_minutes=totals["non_billable_sum"] or 0,
        billed_minutes=totals["billed_sum"] or 0,
    )


def ticket_invoice_choices(*, scope: Scope, customer_id: int) -> QuerySet[Invoice]:
    """Invoices a ticket of this customer can refer to: its own issued ones, newest first."""
    return (
        Invoice.objects.for_scope(scope)
        .filter(customer_id=customer_id)
        .exclude(status=Invoice.Status.DRAFT)
        .order_by("-issue_date", "-pk")
    )


def ticket_assignees(*, scope: Scope) -> QuerySet[Membership]:
    """Partner staff tickets can be assigned to."""
    return (
        Membership.objects.for_partner(scope.partner)
        .filter(customer__isnull=True, role__in=sorted(STAFF_ROLES), user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def support_offering_for(*, scope: Scope) -> SupportOffering:
    """The scope's partner's offering (created with defaults on first use), holidays prefetched."""
    from tickets.services import support_offering_get

    return support_offering_get(scope.partner)


def customer_ticket_summary(*, scope: Scope) -> dict[str, int]:
    """For the customer home card: how many of the scope's tickets are open, waiting on them, resolved."""
    return Ticket.objects.for_scope(scope).aggregate(
        open=Count("pk", filter=Q(status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.ESCALATED])),
        waiting=Count("pk", filter=Q(status=Ticket.Status.PENDING_CUSTOMER)),
        resolved=Count("pk", filter=Q(status=Ticket.Status.RESOLVED)),
    )


def customer_support_card(*, scope: Scope) -> dict[str, object]:
    """The support card of the customer home: the offering in short and the customer's ticket counts."""
    from tickets.presentation import offering_contacts, offering_hours, offering_price

    offering = support_offering_for(scope=scope)
    return {
        "offering": offering,
        "hours": [day for day in offering_hours(offering)],
        "price": offering_price(offering),
        "contacts": offering_contacts(offering),
        "tickets": customer_ticket_summary(scope=scope),
    }


# ---- Support plans --------------------------------------------------------------------------------

PLAN_SORTS: dict[str, tuple[str, bool]] = {
    "name": ("name", False),
    "-name": ("name", True),
    "-created": ("created_at", True),
    "created": ("created_at", False),
}


@dataclass(frozen=True)
class PlanFilters:
    search: str = ""
    price_model: str = ""


def support_plan_list(*, scope: Scope, filters: PlanFilters | None = None) -> QuerySet[SupportPlan]:
    """The partner's plans with how many customers have each, their SLA targets prefetched. Staff only:
    a customer scope gets none (customers read their own plan through `customer_plan_for`)."""
    filters = filters or PlanFilters()
    qs = SupportPlan.objects.for_scope(scope)
    if filters.search:
        qs = qs.filter(Q(name__icontains=filters.search) | Q(name_ru__icontains=filters.search))
    if filters.price_model:
        qs = qs.filter(price_model=filters.price_model)
    return qs.annotate(customer_count=Count("assignments")).prefetch_related("sla_targets")


def support_plan_get(*, scope: Scope, pk: int) -> SupportPlan:
    return get_scoped_or_404(SupportPlan.objects.prefetch_related("sla_targets"), scope, pk=pk)


def customer_plan_for(*, scope: Scope, customer: Customer) -> tuple[SupportPlan | None, bool]:
    """(the plan the customer is on, whether it is the partner's default) within the scope."""
    assignment = (
        CustomerSupportPlan.objects.for_scope(scope)
        .filter(customer=customer)
        .select_related("plan")
        .prefetch_related("plan__sla_targets")
        .first()
    )
    if assignment is not None:
        return assignment.plan, False
    default = SupportPlan.objects.filter(partner=scope.partner, is_default=True).prefetch_related("sla_targets").first()
    return default, default is not None


# ---- Customer satisfaction report ----------------------------------------------------------------


@dataclass(frozen=True)
class SatisfactionRow:
    """Ratings of one agent, product family or month: how many and their average score (None: none)."""

    key: str
    label: str
    count: int
    average: float | None


@dataclass(frozen=True)
class SatisfactionMonth:
    month: dt.date
    count: int
    average: float | None
    resolved: int  # tickets resolved (or closed) in the month
    rated: int  # of those, how many the customer rated

    @property
    def response_rate(self) -> float | None:
        return self.rated / self.resolved if self.resolved else None


@dataclass(frozen=True)
class SatisfactionReport:
    first_month: dt.date
    last_month: dt.date
    total: SatisfactionRow
    resolved: int
    rated: int
    agents: list[SatisfactionRow]
    families: list[SatisfactionRow]
    months: list[SatisfactionMonth]

    @property
    def response_rate(self) -> float | None:
        return self.rated / self.resolved if self.resolved else None


def _month_after(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def satisfaction_months_default(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, this one included: (first month, last month), each the 1st of its month."""
    last = today.replace(day=1)
    index = last.year * 12 + last.month - 1 - 11
    first = dt.date(index // 12, index % 12 + 1, 1)
    return first, last


def satisfaction_report(*, scope: Scope, first_month: dt.date, last_month: dt.date) -> SatisfactionReport:
    """Ratings of the partner's tickets given from `first_month` to `last_month` (months of the partner's
    time zone): count and average per agent, per product family and per month, and the response rate,
    ratings of tickets resolved in the period over those tickets. A fixed number of queries, all aggregates.
    """
    tz = ZoneInfo(scope.partner.time_zone or "UTC")
    start = dt.datetime.combine(first_month, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(_month_after(last_month), dt.time(), tzinfo=tz)
    ratings = TicketRating.objects.for_scope(scope).filter(created_at__gte=start, created_at__lt=end)
    summary = ratings.aggregate(count=Count("pk"), average=Avg("score"))
    agents = [
        SatisfactionRow(
            key=str(row["agent_id"] or ""),
            label=row["agent__full_name"] or row["agent__email"] or str(_("Unassigned")),
            count=row["count"],
            average=row["average"],
        )
        for row in ratings.values("agent_id", "agent__full_name", "agent__email")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by("agent__full_name", "agent__email", "agent_id")
    ]
    family_labels = dict(Ticket.ProductFamily.choices)
    families = [
        SatisfactionRow(
            key=row["product_family"],
            label=str(family_labels.get(row["product_family"], row["product_family"])),
            count=row["count"],
            average=row["average"],
        )
        for row in ratings.values("product_family")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by("product_family")
    ]
    by_month = {
        row["month"].date(): row
        for row in ratings.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by()
    }
    done = (
        Ticket.objects.for_scope(scope)
        .filter(status__in=(Ticket.Status.RESOLVED, Ticket.Status.CLOSED))
        .annotate(done_at=Coalesce("resolved_at", "closed_at"))
        .filter(done_at__gte=start, done_at__lt=end)
    )
    resolved_by_month = {
        row["month"].date(): row
        for row in done.annotate(month=TruncMonth("done_at", tzinfo=tz))
        .values("month")
        .annotate(resolved=Count("pk"), rated=Count("rating"))
        .order_by()
    }
    months: list[SatisfactionMonth] = []
    month = first_month
    while month <= last_month:
        r, d = by_month.get(month, {}), resolved_by_month.get(month, {})
        months.append(
            SatisfactionMonth(
                month=month,
                count=r.get("count", 0),
                average=r.get("average"),
                resolved=d.get("resolved", 0),
                rated=d.get("rated", 0),
            )
        )
        month = _month_after(month)
    return SatisfactionReport(
        first_month=first_month,
        last_month=last_month,
        total=SatisfactionRow(key="", label="", count=summary["count"], average=summary["average"]),
        resolved=sum(m.resolved for m in months),
        rated=sum(m.rated for m in months),
        agents=agents,
        families=families,
        months=months,
    )
