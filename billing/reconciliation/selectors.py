"""Reads of reconciliation imports and Microsoft payables, for partner staff, always through a Scope.

Margins compare what Microsoft charged the partner for a customer's subscriptions in an import (the
lines' subtotals, before tax) with what the partner invoiced that customer for them in the import's
period (invoice line amounts, before tax, of invoices that are not void, in the import's currency):
the subscriptions' lines of the invoices of that period, plus the usage billed from this import
wherever it was billed. A fixed number of aggregate queries, whatever the size of the import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine
from partner_portal import selectors as core_selectors
from partner_portal.models import Customer
from partner_portal.tenancy import Scope, get_scoped_or_404


def reconciliation_import_list(*, scope: Scope) -> QuerySet[ReconciliationImport]:
    """The partner's imports, newest first. Customer users see none."""
    if not scope.is_staff:
        return ReconciliationImport.objects.none()
    return ReconciliationImport.objects.for_scope(scope).select_related("created_by").order_by("-created_at", "-pk")


def reconciliation_import_get(*, scope: Scope, pk: int | str) -> ReconciliationImport:
    """One import of the scope's partner; a foreign or missing one is 404."""
    return get_scoped_or_404(reconciliation_import_list(scope=scope), scope, pk=pk)


def reconciliation_line_get(
    *, scope: Scope, reconciliation_import: ReconciliationImport, pk: int | str
) -> ReconciliationLine:
    qs = ReconciliationLine.objects.filter(reconciliation_import=reconciliation_import)
    if not scope.is_staff:
        qs = qs.none()
    return get_scoped_or_404(qs, scope, pk=pk)


def reconciliation_lines(
    *, scope: Scope, reconciliation_import: ReconciliationImport, unmatched: bool | None = None
) -> QuerySet[ReconciliationLine]:
    """The lines of an import in file order; `unmatched=True` only those with no customer yet."""
    if not scope.is_staff:
        return ReconciliationLine.objects.none()
    qs = (
        ReconciliationLine.objects.for_scope(scope)
        .filter(reconciliation_import=reconciliation_import)
        .select_related("customer", "subscription")
        .order_by("row_number")
    )
    if unmatched is not None:
        qs = qs.filter(customer__isnull=unmatched)
    return qs


def reconciliation_unmatched_lines(
    *, scope: Scope, reconciliation_import: ReconciliationImport
) -> QuerySet[ReconciliationLine]:
    return reconciliation_lines(scope=scope, reconciliation_import=reconciliation_import, unmatched=True)


@dataclass(frozen=True)
class UnmatchedCustomer:
    """A Microsoft customer of an import that no customer of the partner matched: map it once."""

    ms_customer_id: str
    customer_name: str
    customer_domain: str
    lines: int
    subtotal: Decimal
    first_line_id: int  # the line to pass to reconciliation_line_map


def reconciliation_unmatched_customers(
    *, scope: Scope, reconciliation_import: ReconciliationImport
) -> list[UnmatchedCustomer]:
    """The unmatched Microsoft customers of an import, largest first (one aggregate query)."""
    rows = (
        reconciliation_unmatched_lines(scope=scope, reconciliation_import=reconciliation_import)
        .select_related(None)
        .order_by()
        .values("ms_customer_id")
        .annotate(
            name=Max("customer_name"),
            domain=Max("customer_domain"),
            lines=Count("pk"),
            subtotal=Sum("subtotal"),
            first=Min("pk"),
        )
        .order_by("-subtotal", "ms_customer_id")
    )
    return [
        UnmatchedCustomer(
            ms_customer_id=r["ms_customer_id"],
            customer_name=r["name"] or "",
            customer_domain=r["domain"] or "",
            lines=r["lines"],
            subtotal=r["subtotal"] or ZERO,
            first_line_id=r["first"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CustomerMargin:
    customer_id: int
    customer_name: str
    currency: str
    cost: Decimal  # what Microsoft charged for the customer (sum of the lines' subtotals)
    billed: Decimal  # what the customer was invoiced for those subscriptions and that usage
    margin: Decimal  # billed − cost


@dataclass(frozen=True)
class SubscriptionMargin:
    subscription_id: int | None  # None: lines whose subscription is not in the portal
    ms_subscription_id: str
    product: str
    customer_id: int
    customer_name: str
    currency: str
    cost: Decimal
    billed: Decimal
    margin: Decimal


def _billed_usage(imp: ReconciliationImport) -> QuerySet[ReconciliationLine]:
    """Lines of the import billed to the customer on an invoice that still counts."""
    return (
        ReconciliationLine.objects.filter(reconciliation_import=imp, billed_invoice_line__isnull=False)
        .exclude(billed_invoice_line__invoice__status=Invoice.Status.VOID)
        .filter(billed_invoice_line__invoice__currency=imp.currency)
    )


def _billed_for_subscriptions(imp: ReconciliationImport) -> QuerySet[InvoiceLine]:
    """Invoice lines of the import's period for the subscriptions the import names, not void, in its
    currency, except the usage billed from this import (counted from its own lines)."""
    subscriptions = ReconciliationLine.objects.filter(reconciliation_import=imp, subscription__isnull=False).values(
        "subscription_id"
    )
    usage = ReconciliationLine.objects.filter(reconciliation_import=imp, billed_invoice_line__isnull=False).values(
        "billed_invoice_line_id"
    )
    return (
        InvoiceLine.objects.filter(partner_id=imp.partner_id)
        .filter(invoice__period=imp.period, invoice__currency=imp.currency, subscription_id__in=subscriptions)
        .exclude(invoice__status=Invoice.Status.VOID)
        .exclude(pk__in=usage)
    )


def reconciliation_margin_by_customer(
    *, scope: Scope, reconciliation_import: ReconciliationImport
) -> list[CustomerMargin]:
    """Cost, billed and margin per matched customer of an import, by name (three queries)."""
    imp = reconciliation_import
    if not scope.is_staff or imp.partner_id != scope.partner.pk:
        return []
    costs = (
        ReconciliationLine.objects.for_scope(scope)
        .filter(reconciliation_import=imp, customer__isnull=False)
        .order_by()
        .values("customer_id", "customer__name")
        .annotate(cost=Sum("subtotal"))
    )
    billed: dict[int, Decimal] = {}
    for row in _billed_for_subscriptions(imp).order_by().values("invoice__customer_id").annotate(s=Sum("amount")):
        billed[row["invoice__customer_id"]] = billed.get(row["invoice__customer_id"], ZERO) + row["s"]
    for row in _billed_usage(imp).order_by().values("customer_id").annotate(s=Sum("billed_invoice_line__amount")):
        billed[row["customer_id"]] = billed.get(row["customer_id"], ZERO) + row["s"]
    result = [
        CustomerMargin(
            customer_id=row["customer_id"],
            customer_name=row["customer__name"],
            currency=imp.currency,
            cost=row["cost"],
            billed=billed.get(row["customer_id"], ZERO),
            margin=billed.get(row["customer_id"], ZERO) - row["cost"],
        )
        for row in costs
    ]
    return sorted(result, key=lambda m: (m.customer_name, m.customer_id))


@dataclass
class _Tally:
    customer_name: str
    product: str
    ms_subscription_id: str
    cost: Decimal = ZERO
    billed: Decimal = ZERO


def reconciliation_margin_by_subscription(
    *, scope: Scope, reconciliation_import: ReconciliationImport
) -> list[SubscriptionMargin]:
    """Cost, billed and margin per subscription of the matched customers of an import (three queries).

    Lines whose subscription is not in the portal are grouped by their Microsoft subscription ID."""
    imp = reconciliation_import
    if not scope.is_staff or imp.partner_id != scope.partner.pk:
        return []
    costs = (
        ReconciliationLine.objects.for_scope(scope)
        .filter(reconciliation_import=imp, customer__isnull=False)
        .order_by()
        .values(
            "customer_id", "customer__name", "subscription_id", "subscription__product",
            "subscription__microsoft_subscription_id", "ms_subscription_id",
        )
        .annotate(cost=Sum("subtotal"), product=Max("product"))
    )  # fmt: skip
    invoiced: dict[int, Decimal] = {
        row["subscription_id"]: row["s"]
        for row in _billed_for_subscriptions(imp).order_by().values("subscription_id").annotate(s=Sum("amount"))
    }
    usage: dict[tuple[int, int | None, str], Decimal] = {
        (row["customer_id"], row["subscription_id"], row["ms_subscription_id"]): row["s"]
        for row in _billed_usage(imp)
        .order_by()
        .values("customer_id", "subscription_id", "ms_subscription_id")
        .annotate(s=Sum("billed_invoice_line__amount"))
    }
    # One entry per subscription (its lines may spell its Microsoft ID in either case), and one per
    # Microsoft subscription ID of a customer for subscriptions the portal does not know.
    tallies: dict[tuple[int, int | None, str], _Tally] = {}
    for row in costs:
        sub_id = row["subscription_id"]
        key = (row["customer_id"], sub_id, "" if sub_id is not None else row["ms_subscription_id"])
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally(
                customer_name=row["customer__name"],
                product=row["subscription__product"] or row["product"] or "",
                ms_subscription_id=row["subscription__microsoft_subscription_id"] or row["ms_subscription_id"],
                billed=invoiced.get(sub_id, ZERO) if sub_id is not None else ZERO,
            )
        tally.cost += row["cost"]
        tally.billed += usage.get((row["customer_id"], sub_id, row["ms_subscription_id"]), ZERO)
    result = [
        SubscriptionMargin(
            subscription_id=sub_id,
            ms_subscription_id=t.ms_subscription_id,
            product=t.product,
            customer_id=customer_id,
            customer_name=t.customer_name,
            currency=imp.currency,
            cost=t.cost,
            billed=t.billed,
            margin=t.billed - t.cost,
        )
        for (customer_id, sub_id, _ms), t in tallies.items()
    ]
    return sorted(result, key=lambda m: (m.customer_name, m.customer_id, m.product, m.ms_subscription_id))


def microsoft_payables(*, scope: Scope) -> QuerySet[MicrosoftPayable]:
    """What the partner owes Microsoft, newest period first. Customer users see none."""
    if not scope.is_staff:
        return MicrosoftPayable.objects.none()
    return MicrosoftPayable.objects.for_scope(scope).order_by("-period", "currency", "pk")


def microsoft_payables_for_imports(
    *, scope: Scope, imports: Iterable[ReconciliationImport]
) -> dict[tuple[str, str], MicrosoftPayable]:
    """The payable of each import's period and currency, by (period, currency): one query for a page."""
    keys = {(i.period, i.currency) for i in imports if i.period and i.currency}
    if not keys:
        return {}
    match = Q()
    for period, currency in keys:
        match |= Q(period=period, currency=currency)
    return {(p.period, p.currency): p for p in microsoft_payables(scope=scope).filter(match)}


@dataclass(frozen=True)
class UsageBilling:
    """Where the usage lines of an import stand: billed, still to bill, or waiting for a customer."""

    to_bill: int  # matched, not billed yet, not zero
    billed: int
    unmatched: int  # no customer yet: map them first
    invoices: list[Invoice]  # where this import's usage was billed


def reconciliation_usage_billing(*, scope: Scope, reconciliation_import: ReconciliationImport) -> UsageBilling:
    """Two queries: the usage lines' counts and the invoices they were billed on."""
    if not scope.is_staff or reconciliation_import.partner_id != scope.partner.pk:
        return UsageBilling(0, 0, 0, [])
    lines = ReconciliationLine.objects.for_scope(scope).filter(
        reconciliation_import=reconciliation_import, is_usage=True
    )
    to_bill = Q(customer__isnull=False, billed_at__isnull=True) & ~Q(subtotal=0)
    counts = lines.aggregate(
        to_bill=Count("pk", filter=to_bill),
        billed=Count("pk", filter=Q(billed_at__isnull=False)),
        unmatched=Count("pk", filter=Q(customer__isnull=True)),
    )
    invoices = (
        Invoice.objects.for_scope(scope)
        .filter(pk__in=lines.filter(billed_invoice__isnull=False).values("billed_invoice_id"))
        .select_related("customer")
        .order_by("customer__name", "pk")
    )
    return UsageBilling(
        to_bill=counts["to_bill"], billed=counts["billed"], unmatched=counts["unmatched"], invoices=list(invoices)
    )


@dataclass(frozen=True)
class MapChoices:
    """The customers a page offers for mapping each unmatched Microsoft customer of an import."""

    suggested: dict[str, list[Customer]]  # by Microsoft customer ID: names or domains that look alike
    everyone: list[Customer]  # every customer, by name; empty when there are too many to list
    total: int  # how many customers the partner has


def _domain_root(domain: str) -> str:
    """A domain's first label: "fourthcoffee" for "fourthcoffee.onmicrosoft.com" or "fourthcoffee.com"."""
    return domain.strip().lower().split(".", 1)[0]


def _looks_alike(customer: Customer, unmatched: UnmatchedCustomer) -> bool:
    root = _domain_root(unmatched.customer_domain)
    if root and len(root) >= 3 and root == _domain_root(customer.domain or ""):
        return True
    mine, theirs = customer.name.strip().lower(), unmatched.customer_name.strip().lower()
    return bool(mine and theirs and (mine in theirs or theirs in mine))


def reconciliation_map_choices(*, scope: Scope, unmatched: list[UnmatchedCustomer], limit: int = 500) -> MapChoices:
    """Customers to offer on the mapping forms: all of them (by name) when the partner has at most
    `limit`, and for each Microsoft customer those whose domain or name looks like its own. Two
    queries whatever the number of unmatched customers."""
    customers = core_selectors.customer_list(scope=scope).only("pk", "name", "domain").order_by("name", "pk")
    everyone = list(customers[: limit + 1])
    total = len(everyone) if len(everyone) <= limit else customers.count()
    if len(everyone) <= limit:
        candidates = everyone
    else:
        everyone = []
        match = Q(pk__in=[])
        for u in unmatched:
            if len(root := _domain_root(u.customer_domain)) >= 3:
                match |= Q(domain__istartswith=f"{root}.") | Q(domain__iexact=root)
            if u.customer_name.strip():
                match |= Q(name__icontains=u.customer_name.strip())
        candidates = list(customers.filter(match)[: limit * 2])
    suggested = {u.ms_customer_id: [c for c in candidates if _looks_alike(c, u)][:10] for u in unmatched}
    return MapChoices(suggested=suggested, everyone=everyone, total=total)


def microsoft_payable_get(*, scope: Scope, pk: int | str) -> MicrosoftPayable:
    """One payable of the scope's partner (staff only); a foreign or missing one is 404."""
    return get_scoped_or_404(microsoft_payables(scope=scope), scope, pk=pk)
