"""The collections run's batch on a database without the PostgreSQL statements (SQLite, the embedded
mode): the same rules, per invoice in Python, three queries per batch."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from billing.collections.models import (
    ACTION_RANK,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerCollections,
    InvoiceDunning,
    Notice,
)
from billing.collections.rules import DunningState, due_step, dunning_decision
from billing.collections.services.batch import Taken, open_invoices
from billing.collections.services.summaries import collections_suspended_customers
from billing.invoicing.models import ZERO, Invoice, is_past_due
from partner_portal import clock
from partner_portal.models import Partner


def chase_batch_portable(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep],
                          run: CollectionRun, run_date: dt.date, low: int, high: int | None) -> list[Taken]:  # fmt: skip
    """The same batch on a database without the statement above (SQLite, development): the same
    rules per invoice in Python, three queries per batch."""
    invoices = Invoice.objects.filter(open_invoices(), partner=partner, customer_id__gt=low)
    if high is not None:
        invoices = invoices.filter(customer_id__lte=high)
    rows = invoices.order_by("customer_id", "due_date", "pk").values_list(
        "pk", "due_date", "balance", "currency", "customer_id", "customer__name", "customer__currency",
        "customer__collections_exempt", "customer__collections_extra_grace_days", "customer__promise_to_pay_until",
        "customer__dunning__suspended", "dunning__harshest", "dunning__final_notice_on", "dunning__step_offset",
        "dunning__step_action",
    )  # fmt: skip
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_customer[row[4]].append(row)
    notices: list[Notice] = []
    states: list[InvoiceDunning] = []
    found: dict[int, dict[str, Any]] = {}
    summaries: list[CustomerCollections | None] = []
    cutoff = run_date + dt.timedelta(days=max([-s.offset_days for s in steps] + [0]))
    for customer_id, invoice_rows in by_customer.items():
        _pk, _due, _bal, _cur, _cid, name, currency, exempt, extra, promise, suspended, *_rest = invoice_rows[0]
        overdue_by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in invoice_rows:
            if is_past_due(row[1], run_date):
                overdue_by_currency[row[3]] += row[2]
        total = sum(overdue_by_currency.values(), ZERO)
        grace = policy.grace_days + extra
        paused = promise is not None and promise >= run_date
        after_hold = promise is not None and promise < run_date
        entry: dict[str, Any] = {"name": name, "currency": currency, "total": total, "suspend": False, "reason": ""}
        next_on: dt.date | None = None
        for pk, due, balance, invoice_currency, *_c, harshest, final_on, last_offset, last_action in invoice_rows:
            days = (run_date - due).days
            if due_step(steps, days, grace_days=grace) is None:
                continue
            if paused:
                entry["reason"] = "promise_to_pay"
                break
            state = DunningState(
                harshest=harshest or "", final_notice_days_ago=(run_date - final_on).days if final_on else None,
                suspended=bool(suspended), after_hold=after_hold, exempt=exempt,
            )  # fmt: skip
            decision = dunning_decision(steps, days, grace_days=grace, state=state)
            step, ahead = decision.step, decision.ahead
            if ahead is not None:
                on = run_date + dt.timedelta(days=ahead[1])
                next_on = min(next_on, on) if next_on else on
            if step is None:
                entry["reason"] = entry["reason"] or decision.reason
                continue
            if step.offset_days > 0 and overdue_by_currency[invoice_currency] < policy.minimum_for(invoice_currency):
                entry["reason"] = "below_minimum"
                continue
            entry["suspend"] = entry["suspend"] or step.action == CollectionStep.Action.SUSPEND
            if (last_offset, last_action) == (step.offset_days, step.action):
                continue  # the step it had last: nothing to write
            states.append(InvoiceDunning(
                partner=partner, customer_id=customer_id, invoice_id=pk,
                harshest=max((harshest or "", step.action), key=lambda a: ACTION_RANK.get(a, 0)),
                final_notice_on=final_on or (run_date if step.action == CollectionStep.Action.FINAL_NOTICE else None),
                step_offset=step.offset_days, step_action=step.action, updated_at=clock.now(),
            ))  # fmt: skip
            if step.action == CollectionStep.Action.SUSPEND and harshest == CollectionStep.Action.SUSPEND:
                continue  # told once: a suspension asked again sends no second notice
            notices.append(Notice(
                partner=partner, customer_id=customer_id, invoice_id=pk, run=run, offset_days=step.offset_days,
                action=step.action, amount_due=balance, overdue_total=total, days_overdue=days,
                next_action=ahead[0].action if ahead else "",
                next_action_date=run_date + dt.timedelta(days=ahead[1]) if ahead else None,
            ))  # fmt: skip
        found[customer_id] = entry
        summaries.append(_summary_portable(partner, customer_id, invoice_rows, states, overdue_by_currency,
                                           next_on, run_date, cutoff))  # fmt: skip
    _summaries_save(partner, [x for x in summaries if x is not None], low, high)
    Notice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=500)
    InvoiceDunning.objects.bulk_create(
        states, update_conflicts=True, unique_fields=["invoice"], batch_size=500,
        update_fields=["harshest", "final_notice_on", "step_offset", "step_action", "updated_at"],
    )  # fmt: skip
    made: dict[int, list[int]] = defaultdict(list)
    if notices:
        for customer_id, pk in Notice.objects.filter(run=run, customer_id__in=found).order_by("pk").values_list(
            "customer_id", "pk"
        ):  # fmt: skip
            made[customer_id].append(pk)
    return [
        Taken(pk, e["name"], e["currency"], e["total"], made[pk], e["suspend"], e["reason"])
        for pk, e in sorted(found.items())
        if made[pk] or e["suspend"] or e["reason"]
    ]


def _summary_portable(partner: Partner, customer_id: int, invoice_rows: list[tuple[Any, ...]],
                      states: list[InvoiceDunning], overdue_by_currency: dict[str, Decimal], next_on: dt.date | None,
                      run_date: dt.date, cutoff: dt.date) -> CustomerCollections | None:  # fmt: skip
    """The customer's CustomerCollections row as the batch statement computes it (None: out of reach)."""
    in_reach = [row for row in invoice_rows if row[1] <= cutoff]
    if not in_reach:
        return None
    overdue = [row for row in in_reach if is_past_due(row[1], run_date)]
    ids = {row[0] for row in in_reach}
    actions = [row[11] or "" for row in in_reach] + [s.harshest for s in states if s.invoice_id in ids]
    return CustomerCollections(
        partner=partner, customer_id=customer_id, run_date=run_date, overdue_total=sum(overdue_by_currency.values(), ZERO),
        overdue_by_currency={c: str(a) for c, a in sorted(overdue_by_currency.items())}, overdue_count=len(overdue),
        oldest_overdue=min((row[1] for row in overdue), default=None),
        step=max(actions, key=lambda a: ACTION_RANK.get(a, 0), default=""), next_action_on=next_on,
        updated_at=clock.now(),
    )  # fmt: skip


def _summaries_save(partner: Partner, summaries: list[CustomerCollections], low: int, high: int | None) -> None:
    gone = CustomerCollections.objects.filter(partner=partner, customer_id__gt=low)
    if high is not None:
        gone = gone.filter(customer_id__lte=high)
    gone.exclude(customer_id__in=[x.customer_id for x in summaries]).exclude(
        customer_id__in=collections_suspended_customers(partner_id=partner.pk)
    ).delete()
    fields = ["overdue_total", "overdue_by_currency", "overdue_count", "oldest_overdue", "step", "next_action_on"]
    kept = {
        row[0]: row[1:] for row in gone.filter(customer_id__in=[x.customer_id for x in summaries]).values_list(
            "customer_id", *fields
        )
    }  # fmt: skip
    changed = [x for x in summaries if kept.get(x.customer_id) != tuple(getattr(x, f) for f in fields)]
    CustomerCollections.objects.bulk_create(
        changed, update_conflicts=True, unique_fields=["customer"], batch_size=500,
        update_fields=["run_date", "overdue_total", "overdue_by_currency", "overdue_count", "oldest_overdue", "step",
                       "next_action_on", "updated_at"],
    )  # fmt: skip
