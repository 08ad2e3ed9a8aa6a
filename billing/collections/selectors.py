"""Reads of collections for the staff pages and the customer's banner, always through a Scope.

The overview is set-based: one query for the page of customers (the overdue figures from the
customer's CustomerCollections row, which the daily run keeps; the rest subqueries), one for the count, and a fixed handful for what the page shows of each row (its last notice, its open
invoices, the notices already sent for them), whatever the number of customers. "Next action and
when" is billing.collections.next_steps, on the run's own rules, so the page says what the run will do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from billing.collections.models import (
    DEFAULT_STEPS,
    NOTHING_OVERDUE,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerCollections,
    Notice,
    NoticeTemplate,
)
from billing.collections.next_steps import Decisions, NextAction, OpenInvoice, next_action, next_suspension
from billing.invoicing.models import ZERO, Invoice
from partner_portal import clock
from partner_portal.models import Customer, Partner
from partner_portal.tenancy import Scope, get_scoped_or_404
from subscriptions.models import Subscription

Action = CollectionStep.Action
COLLECTIONS = "collections"
# A suspension this close (days) is announced to the customer before it happens.
SUSPENSION_WARNING_DAYS = 7

# ---- The policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """A step as the pages and the rules see it (saved or from DEFAULT_STEPS)."""

    offset_days: int
    action: str


@dataclass(frozen=True)
class PolicyView:
    policy: CollectionPolicy  # unsaved (pk None) while the partner still has the default policy
    steps: list[StepView]

    @property
    def is_default(self) -> bool:
        return self.policy.pk is None


def collection_policy_read(*, partner: Partner) -> PolicyView:
    """The partner's policy and its steps by offset; the default one (unsaved) when none was saved.
    Reading never creates it: that is `collection_policy_get`'s job. One query: the policy's row once
    per step (joined), in order of offset."""
    rows = list(
        CollectionPolicy.objects.filter(partner=partner)
        .annotate(step_offset=F("steps__offset_days"), step_action=F("steps__action"))
        .order_by("step_offset")
    )
    if not rows:
        default = CollectionPolicy(partner=partner)
        return PolicyView(policy=default, steps=[StepView(o, str(a)) for o, a in DEFAULT_STEPS])
    steps = [StepView(r.step_offset, r.step_action) for r in rows if r.step_offset is not None]  # type: ignore[attr-defined]
    return PolicyView(policy=rows[0], steps=steps)


# ---- The staff overview ----------------------------------------------------------------------------

# Sorts by an amount, which keep the list to one currency (the partner's own unless one is chosen).
OVERVIEW_MONEY_SORTS = frozenset({"-overdue", "overdue"})

# Sort keys of the overview: name -> (annotation or field, descending).
OVERVIEW_SORTS: dict[str, tuple[str, bool]] = {
    "-overdue": ("sort_overdue", True),
    "overdue": ("sort_overdue", False),
    "-days": ("sort_oldest_due", False),  # longest overdue first: the oldest due date first
    "days": ("sort_oldest_due", True),
    "name": ("name", False),
    "-name": ("name", True),
}


@dataclass(frozen=True)
class OverviewFilters:
    search: str = ""  # customer name or domain
    step: str = ""  # "none" or an Action: the furthest step notified on an open invoice
    situation: str = ""  # "suspended", "held", "exempt" or "" for every customer in collections
    currency: str = ""  # customers billed in it; amounts are compared within one currency only


def _collections_suspended(*, statuses: Sequence[str]) -> Q:
    """Subscriptions in `statuses` because collections asked for it (the run undoes only those)."""
    return Q(status__in=statuses, suspension_source=COLLECTIONS)


SUSPENDED_STATES = (Subscription.Status.SUSPENDED, Subscription.Status.SUSPENSION_PENDING)


def collections_overview(*, scope: Scope, filters: OverviewFilters | None = None) -> QuerySet[Customer]:
    """Customers in collections (an open invoice overdue or about to be chased, or a subscription
    suspended by collections, owing or not), each annotated with its next due date, last notice id,
    the furthest step the last run took for it and collections-suspended/pending
    subscription counts; what it owes is set on each customer of a page by collections_overview_rows.
    Staff only; customer users get nothing."""
    if not scope.is_staff:
        return Customer.objects.none()
    f = filters or OverviewFilters()
    today = clock.today(scope.partner.time_zone)
    open_invoices = Invoice.objects.open().filter(partner=scope.partner, customer=OuterRef("pk"), balance__gt=0)
    subscriptions = Subscription.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    suspended = subscriptions.filter(_collections_suspended(statuses=[Subscription.Status.SUSPENDED]))
    pending = subscriptions.filter(_collections_suspended(statuses=[Subscription.Status.SUSPENSION_PENDING]))
    notices = Notice.objects.filter(customer=OuterRef("pk"))
    # Who is listed and in what order: a CustomerCollections row per customer with an open invoice in
    # the policy's reach, written by the run and kept current by every payment, credit note and invoice
    # (collections_customers_changed); walked through its (partner, oldest overdue) and (partner,
    # overdue) indexes. The money each row shows is read from the invoices when the page is drawn
    # (collections_overview_rows).
    qs = (
        Customer.objects.for_scope(scope)
        .filter(collections_summary__partner=scope.partner)
        .annotate(
            next_due=Subquery(open_invoices.order_by().values("customer").annotate(m=Min("due_date")).values("m")),
            last_notice_id=Subquery(notices.order_by("-created_at", "-pk").values("pk")[:1]),
            # The furthest step of its open invoices as the last run took them ("": none yet).
            step_reached=F("collections_summary__step"),
            # Whether collections suspended it (CustomerDunning; None without a row), read here for
            # the page's next actions instead of with each of its open invoices.
            dunning_suspended=F("dunning__suspended"),
            suspended_count=Coalesce(
                Subquery(suspended.annotate(c=Count("pk")).values("c")), Value(0), output_field=IntegerField()
            ),
            pending_count=Coalesce(
                Subquery(pending.annotate(c=Count("pk")).values("c")), Value(0), output_field=IntegerField()
            ),
        )
        .annotate(
            # As the last run left them: the order of the list; the page shows the figures of now.
            sort_overdue=F("collections_summary__overdue_total"),
            sort_oldest_due=Coalesce(
                "collections_summary__oldest_overdue", Value(NOTHING_OVERDUE), output_field=DateField()
            ),
        )
    )
    if f.search:
        term = f.search.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(domain__icontains=term))
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.step:  # an index condition on the summary row: (partner, step, oldest overdue, customer)
        qs = qs.filter(collections_summary__step="" if f.step == "none" else f.step)
    if f.situation == "suspended":
        qs = qs.filter(Q(suspended_count__gt=0) | Q(pending_count__gt=0))
    elif f.situation == "held":
        qs = qs.filter(promise_to_pay_until__gte=today)
    elif f.situation == "exempt":
        qs = qs.filter(collections_exempt=True)
    return qs


def collections_overview_count(*, scope: Scope, limit: int) -> int:
    """How many customers the unfiltered overview lists, up to `limit` (an index-only count)."""
    if not scope.is_staff:
        return 0
    return CustomerCollections.objects.filter(partner=scope.partner).order_by()[:limit].count()


@dataclass(frozen=True)
class OverviewRow:
    customer: Customer
    last_notice: Notice | None
    next_action: NextAction | None
    held: bool  # a promise to pay holds today
    days_overdue: int  # of its oldest overdue invoice; 0 when nothing is overdue


def _open_invoices_by_customer(
    customer_ids: Sequence[int], *, suspended: Mapping[int, bool] | None = None
) -> tuple[dict[int, list[OpenInvoice]], set[tuple[int, int, str]]]:
    """The customers' open invoices with something left to pay, oldest due first, and the steps
    already notified for them (invoice, offset, action): one query, each invoice's row once per notice.
    `suspended`: whether collections suspended each customer, when the caller has it already (the
    overview's page query); without it, it is read with every invoice (two more joins a row)."""
    fields = ["customer_id", "pk", "number", "due_date", "balance", "dunning__harshest", "dunning__final_notice_on"]
    fields += ["notices__offset_days", "notices__action"]
    if suspended is None:
        fields.append("customer__dunning__suspended")
    rows = (
        Invoice.objects.open()
        .filter(customer_id__in=customer_ids, balance__gt=0, due_date__isnull=False)
        .order_by("due_date", "pk")
        .values_list(*fields)
    )
    found: dict[int, list[OpenInvoice]] = defaultdict(list)
    sent: set[tuple[int, int, str]] = set()
    last = None
    for customer_id, pk, number, due_date, balance, harshest, final_on, offset, action, *read in rows:
        if offset is not None:
            sent.add((pk, offset, action))
        if due_date is not None and pk != last:  # excluded by the query; this keeps the types honest
            by_collections = bool(read[0]) if read else bool(suspended and suspended.get(customer_id))
            found[customer_id].append(
                OpenInvoice(pk, number, due_date, balance, harshest or "", final_on, by_collections)
            )
        last = pk
    return found, sent


def collections_overview_rows(
    *, scope: Scope, customers: Sequence[Customer], policy: PolicyView | None = None
) -> list[OverviewRow]:
    """What the overview shows of each customer of a page: what it owes and since when (set on the
    customer as `overdue_amount`, `overdue_count`, `oldest_due`), its last notice and the next action.
    Two queries whatever the page size (last notices, open invoices with the steps notified for
    them), and one for the policy when it is not given."""
    today = clock.today(scope.partner.time_zone)
    policy = policy or collection_policy_read(partner=scope.partner)
    ids = [getattr(c, "last_notice_id", None) for c in customers]
    notices = {
        n.pk: n for n in Notice.objects.for_scope(scope).filter(pk__in=[i for i in ids if i]).select_related("invoice")
    }
    # The page query read whether each customer is suspended by collections (collections_overview).
    annotated = all(hasattr(c, "dunning_suspended") for c in customers)
    suspended = {c.pk: bool(c.dunning_suspended) for c in customers} if annotated else None  # type: ignore[attr-defined]
    open_by_customer, sent = _open_invoices_by_customer([c.pk for c in customers], suspended=suspended)
    decisions: Decisions = {}  # taken once per situation for the whole page
    rows = []
    for customer in customers:
        # The figures of now, from the open invoices just read: not the last run's.
        overdue = [i for i in open_by_customer.get(customer.pk, []) if i.due_date < today]
        oldest = min((i.due_date for i in overdue), default=None)
        customer.overdue_amount = sum((i.balance for i in overdue), ZERO)  # type: ignore[attr-defined]
        customer.overdue_count = len(overdue)  # type: ignore[attr-defined]
        customer.oldest_due = oldest  # type: ignore[attr-defined]
        held = customer.promise_to_pay_until is not None and customer.promise_to_pay_until >= today
        action = next_action(
            steps=policy.steps,
            invoices=open_by_customer.get(customer.pk, []),
            sent=sent,
            today=today,
            grace=policy.policy.grace_days + customer.collections_extra_grace_days,
            min_amount=policy.policy.minimum_for(customer.currency),
            exempt=customer.collections_exempt,
            held_until=customer.promise_to_pay_until,
            decisions=decisions,
        )
        rows.append(
            OverviewRow(
                customer=customer,
                last_notice=notices.get(getattr(customer, "last_notice_id", None) or 0),
                next_action=action,
                held=held,
                days_overdue=(today - oldest).days if oldest else 0,
            )
        )
    return rows


# ---- Runs and notices ----------------------------------------------------------------------------------


def collection_run_list(*, scope: Scope) -> QuerySet[CollectionRun]:
    """The partner's collections runs, newest first (staff only: customers see none)."""
    return CollectionRun.objects.for_scope(scope).select_related("actor").order_by("-started_at", "-pk")


def collection_run_get(*, scope: Scope, pk: int | str) -> CollectionRun:
    return get_scoped_or_404(collection_run_list(scope=scope), scope, pk=pk)


def notice_list(*, scope: Scope, customer_id: int | None = None, run_id: int | None = None) -> QuerySet[Notice]:
    """Notices the scope may see (a customer user: its own), newest first."""
    qs = Notice.objects.for_scope(scope).select_related("invoice", "customer").order_by("-created_at", "-pk")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if run_id:
        qs = qs.filter(run_id=run_id)
    return qs


def notice_uncertain_list(*, scope: Scope) -> QuerySet[Notice]:
    """Notices whose worker died while sending them (sent or not: staff check the mail log), oldest first."""
    return (
        Notice.objects.for_scope(scope)
        .filter(status=Notice.Status.UNCERTAIN)
        .select_related("invoice", "customer")
        .order_by("claimed_at", "pk")
    )


def notice_uncertain_get(*, scope: Scope, pk: int | str) -> Notice:
    return get_scoped_or_404(Notice.objects.for_scope(scope).select_related("invoice", "customer"), scope, pk=pk)


# ---- One customer: the banner and the staff panel ---------------------------------------------------


@dataclass(frozen=True)
class CollectionsStatus:
    """Where a customer stands in collections, for its banner and for staff."""

    currency: str
    suspended: list[Subscription]  # suspended because of collections
    pending: list[Subscription]  # suspension asked of Microsoft, not confirmed yet
    reactivating: list[Subscription]  # reactivation asked of Microsoft after a collections suspension
    overdue: Decimal
    overdue_count: int
    overdue_invoices: list[Invoice]  # the oldest BANNER_INVOICES of them, for the banner to name
    next_action: NextAction | None
    next_suspension: dt.date | None  # when the run would suspend if nothing is paid meanwhile
    held_until: dt.date | None  # a promise to pay still holding today
    exempt: bool
    reactivate_automatically: bool
    policy: PolicyView  # the partner's policy as it applies to this customer (in words: `policy_sentences`)
    credit_days: int | None
    extra_grace_days: int
    today: dt.date

    @property
    def overdue_unnamed(self) -> int:
        """Overdue invoices the banner counts without naming them."""
        return self.overdue_count - len(self.overdue_invoices)

    @property
    def is_suspended(self) -> bool:
        return bool(self.suspended or self.pending)

    @property
    def suspension_soon(self) -> bool:
        """A suspension is due within SUSPENSION_WARNING_DAYS (and nothing is suspended yet)."""
        return (
            not self.is_suspended
            and self.next_suspension is not None
            and (self.next_suspension - self.today).days <= SUSPENSION_WARNING_DAYS
        )

    @property
    def days_to_suspension(self) -> int:
        return (self.next_suspension - self.today).days if self.next_suspension else 0


BANNER_INVOICES = 5  # overdue invoices the banner names; it counts the rest


def customer_collections_status(*, scope: Scope, customer: Customer) -> CollectionsStatus:
    """Five queries whatever the customer's history: the policy with its steps, the subscriptions
    touched by collections, its open invoices as plain rows with the notices already sent for them,
    the overdue sum and count, and the oldest overdue invoices the banner names."""
    today = clock.today(scope.partner.time_zone)
    policy = collection_policy_read(partner=scope.partner)
    touched = list(
        Subscription.objects.for_scope(scope)
        .filter(customer=customer)
        .filter(
            _collections_suspended(statuses=SUSPENDED_STATES)
            | Q(status=Subscription.Status.REACTIVATION_PENDING, suspension_source=COLLECTIONS)
        )
        .order_by("product", "pk")
    )
    found, sent = _open_invoices_by_customer([customer.pk])
    open_rows = found.get(customer.pk, [])
    overdue = Invoice.objects.for_scope(scope).filter(customer=customer, balance__gt=0).overdue(today)
    overdue_sums = overdue.aggregate(total=Sum("balance"), count=Count("pk"))
    overdue_invoices = list(overdue.order_by("due_date", "pk")[:BANNER_INVOICES]) if overdue_sums["count"] else []
    held = (
        customer.promise_to_pay_until
        if customer.promise_to_pay_until and customer.promise_to_pay_until >= today
        else None
    )
    grace = policy.policy.grace_days + customer.collections_extra_grace_days
    return CollectionsStatus(
        currency=customer.currency,
        suspended=[s for s in touched if s.status == Subscription.Status.SUSPENDED],
        pending=[s for s in touched if s.status == Subscription.Status.SUSPENSION_PENDING],
        reactivating=[s for s in touched if s.status == Subscription.Status.REACTIVATION_PENDING],
        overdue=overdue_sums["total"] or ZERO,
        overdue_count=overdue_sums["count"],
        overdue_invoices=overdue_invoices,
        next_action=next_action(
            steps=policy.steps,
            invoices=open_rows,
            sent=sent,
            today=today,
            grace=grace,
            min_amount=policy.policy.minimum_for(customer.currency),
            exempt=customer.collections_exempt,
            held_until=customer.promise_to_pay_until,
        ),
        next_suspension=next_suspension(
            steps=policy.steps,
            invoices=open_rows,
            today=today,
            grace=grace,
            min_amount=policy.policy.minimum_for(customer.currency),
            exempt=customer.collections_exempt,
            held_until=customer.promise_to_pay_until,
        ),
        held_until=held,
        exempt=customer.collections_exempt,
        reactivate_automatically=policy.policy.reactivate_automatically,
        policy=policy,
        credit_days=customer.credit_days,
        extra_grace_days=customer.collections_extra_grace_days,
        today=today,
    )


# ---- Notice wording: the steps, their templates and customers to preview with -----------------------

PREVIEW_CUSTOMERS = 200  # customers offered for a preview (those with an issued invoice, by name)


@dataclass(frozen=True)
class StepTemplateRow:
    step: CollectionStep
    template: NoticeTemplate | None


def collection_step_get(*, scope: Scope, pk: int | str) -> CollectionStep:
    return get_scoped_or_404(CollectionStep.objects.select_related("policy"), scope, pk=pk)


def notice_template_rows(*, scope: Scope, policy: CollectionPolicy) -> list[StepTemplateRow]:
    """The policy's steps by offset, each with the partner's wording of its notice (None: built-in)."""
    steps = list(CollectionStep.objects.for_scope(scope).filter(policy=policy).order_by("offset_days"))
    templates = {(t.offset_days, t.action): t for t in NoticeTemplate.objects.for_scope(scope)}
    return [StepTemplateRow(step=s, template=templates.get((s.offset_days, s.action))) for s in steps]


def notice_preview_customers(*, scope: Scope) -> QuerySet[Customer]:
    """Customers with an issued invoice to preview a notice with, by name."""
    invoices = Invoice.objects.filter(customer=OuterRef("pk"), due_date__isnull=False).exclude(
        status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)
    )
    return Customer.objects.for_scope(scope).filter(Exists(invoices)).order_by("name", "pk")[:PREVIEW_CUSTOMERS]


def collection_next_run_date(*, scope: Scope) -> dt.date:
    """The date the next scheduled run works on: today in the partner's time zone, or tomorrow once
    today's run is done (runs are daily; a run again the same day does nothing new)."""
    today = clock.today(scope.partner.time_zone)
    done = collection_run_list(scope=scope).filter(run_date=today, status=CollectionRun.Status.DONE).exists()
    return today + dt.timedelta(days=1) if done else today
