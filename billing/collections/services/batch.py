"""One batch of the collections run on PostgreSQL: the customers due today and the two statements that
decide and write a batch of them (the run's docstring, "Set-based"; docs/architecture.md, "Collections")."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

from billing.collections.models import (
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerCollections,
    CustomerDunning,
    InvoiceDunning,
    Notice,
)
from billing.collections.rules import DunningState, dunning_decision
from billing.invoicing.models import ZERO, Invoice
from partner_portal import clock
from partner_portal.models import Customer, Partner
from subscriptions.models import Subscription

COLLECTIONS_SOURCE = "collections"
# Reactivation-pending ones too: a customer released and overdue again is suspended again.
SUSPENDABLE = (Subscription.Status.ACTIVE, Subscription.Status.REACTIVATION_PENDING)
SUSPENDED_BY_US = (Subscription.Status.SUSPENDED, Subscription.Status.SUSPENSION_PENDING)


def open_invoices() -> Q:
    return Q(status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO, due_date__isnull=False)


@dataclass(frozen=True)
class Taken:
    """What a batch did for one customer (a row per customer, never per invoice)."""

    customer_id: int
    name: str
    currency: str
    overdue_total: Decimal
    notice_ids: list[int]
    suspend: bool  # an invoice reached the suspension step
    reason: str


# How the batch statement tells "no final notice yet" apart from a number of days (a key must not be NULL).
_NO_FINAL = -99999
_RANK_SQL = "CASE {0} WHEN 'remind' THEN 1 WHEN 'final_notice' THEN 2 WHEN 'suspend' THEN 3 ELSE 0 END"

# The batch's open invoices that may have a due step, with their customer's and their own dunning state.
_OPEN_SQL = """
    FROM {invoice} i
    JOIN {customer} c ON c.id = i.customer_id AND c.id > %(low)s AND c.id <= %(high)s AND c.id = ANY(%(due)s)
    LEFT JOIN {invoice_dunning} d
        ON d.invoice_id = i.id AND d.customer_id > %(low)s AND d.customer_id <= %(high)s
    LEFT JOIN {customer_dunning} cd
        ON cd.customer_id = i.customer_id AND cd.customer_id > %(low)s AND cd.customer_id <= %(high)s
    WHERE i.partner_id = %(partner)s AND i.customer_id > %(low)s AND i.customer_id <= %(high)s
      AND i.status = ANY(%(open)s) AND i.balance > 0 AND i.due_date <= %(cutoff)s
"""
_KEY_SQL = f"""
    LEAST(%(run_date)s::date - i.due_date,
          %(top)s + CASE WHEN %(top)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END) AS k_days,
    %(grace)s + c.collections_extra_grace_days AS k_grace,
    COALESCE(d.harshest, '') AS k_harshest,
    COALESCE(%(run_date)s::date - d.final_notice_on, {_NO_FINAL}) AS k_final,
    COALESCE(cd.suspended, false) AS k_suspended,
    COALESCE(c.promise_to_pay_until < %(run_date)s::date, false) AS k_after_hold,
    c.collections_exempt AS k_exempt
"""

_SITUATIONS_SQL = (
    "SELECT DISTINCT "
    + _KEY_SQL
    + _OPEN_SQL
    + """
      AND NOT COALESCE(c.promise_to_pay_until >= %(run_date)s::date, false)
      AND %(run_date)s::date - i.due_date
          >= %(first)s + CASE WHEN %(first)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END
"""
)

_BATCH_SQL = """
WITH inv AS (
    SELECT i.id, i.customer_id, i.due_date, i.balance, i.currency,
           %(run_date)s::date - i.due_date AS days,
           COALESCE(c.promise_to_pay_until >= %(run_date)s::date, false) AS paused,
           %(run_date)s::date - i.due_date
               >= %(first)s + CASE WHEN %(first)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END
               AS has_step,
           d.final_notice_on, d.step_offset AS last_offset, COALESCE(d.step_action, '') AS last_action,
           c.promise_to_pay_until AS promise,
           {key_columns}
    {open_invoices}
),
overdue AS (  -- the overdue total of each customer in each currency: the minimum is per currency
    SELECT customer_id, currency, SUM(balance) AS total FROM inv WHERE due_date < %(run_date)s::date GROUP BY 1, 2
),
customer_overdue AS (
    SELECT customer_id, SUM(total) AS total FROM overdue GROUP BY 1
),
decisions AS (
    SELECT * FROM unnest(%(d_days)s::int[], %(d_grace)s::int[], %(d_harshest)s::text[], %(d_final)s::int[],
                         %(d_suspended)s::bool[], %(d_after_hold)s::bool[], %(d_exempt)s::bool[],
                         %(d_step_offset)s::int[], %(d_step_action)s::text[], %(d_next_action)s::text[],
                         %(d_next_days)s::int[], %(d_reason)s::text[])
        AS t(k_days, k_grace, k_harshest, k_final, k_suspended, k_after_hold, k_exempt,
             step_offset, step_action, next_action, next_days, reason)
),
judged AS (
    SELECT inv.id, inv.customer_id, inv.due_date, inv.balance, inv.days, inv.final_notice_on,
           inv.k_harshest AS harshest, inv.last_offset, inv.last_action,
           t.step_offset, t.step_action, t.next_action, t.next_days,
           t.step_action IS NOT NULL AND t.step_offset > 0
               AND COALESCE(o.total, 0) < COALESCE(m.minimum, %(min_amount)s) AS below_minimum,
           t.reason
    FROM inv
    JOIN decisions t USING (k_days, k_grace, k_harshest, k_final, k_suspended, k_after_hold, k_exempt)
    LEFT JOIN overdue o ON o.customer_id = inv.customer_id AND o.currency = inv.currency
    LEFT JOIN unnest(%(m_currency)s::text[], %(m_amount)s::numeric[]) AS m(currency, minimum)
        ON m.currency = inv.currency
    WHERE inv.has_step AND NOT inv.paused
),
taken AS (
    SELECT * FROM judged WHERE step_action IS NOT NULL AND NOT below_minimum
),
fresh AS (  -- a step the invoice did not have last: the only rows written
    SELECT * FROM taken WHERE last_offset IS DISTINCT FROM step_offset OR last_action <> step_action
),
notices AS (
    INSERT INTO {notice} (partner_id, customer_id, invoice_id, run_id, offset_days, action, amount_due,
                          overdue_total, days_overdue, next_action, next_action_date, status, recipient,
                          attempts, created_at, error, message_id, earlier_message_ids)
    SELECT %(partner)s, f.customer_id, f.id, %(run)s, f.step_offset, f.step_action, f.balance,
           COALESCE(co.total, 0), f.days, f.next_action, %(run_date)s::date + f.next_days, 'pending', '',
           0, %(now)s, '', '', '[]'::jsonb
    FROM fresh f LEFT JOIN customer_overdue co ON co.customer_id = f.customer_id
    WHERE NOT (f.step_action = 'suspend' AND f.harshest = 'suspend')  -- told once: no second suspension notice
    ORDER BY f.customer_id, f.due_date, f.id
    ON CONFLICT (invoice_id, offset_days, action) DO NOTHING
    RETURNING id, customer_id
),
states AS (  -- the harshest step only ever goes up; the final notice's day is kept
    INSERT INTO {invoice_dunning} (partner_id, customer_id, invoice_id, harshest, final_notice_on, step_offset,
                                   step_action, updated_at)
    SELECT %(partner)s, customer_id, id,
           CASE WHEN {rank_step} > {rank_harshest} THEN step_action ELSE harshest END,
           COALESCE(final_notice_on, CASE WHEN step_action = 'final_notice' THEN %(run_date)s::date END),
           step_offset, step_action, %(now)s
    FROM fresh
    ON CONFLICT (invoice_id) DO UPDATE SET harshest = EXCLUDED.harshest, final_notice_on = EXCLUDED.final_notice_on,
        step_offset = EXCLUDED.step_offset, step_action = EXCLUDED.step_action, updated_at = EXCLUDED.updated_at
),
summary_rows AS (  -- where each customer of the batch stands, for the overview (CustomerCollections)
    SELECT inv.customer_id,
           COALESCE(SUM(inv.balance) FILTER (WHERE inv.due_date < %(run_date)s::date), 0) AS total,
           COUNT(*) FILTER (WHERE inv.due_date < %(run_date)s::date) AS n,
           MIN(inv.due_date) FILTER (WHERE inv.due_date < %(run_date)s::date) AS oldest,
           MAX(GREATEST({rank_inv}, {rank_fresh})) AS step_rank,
           MIN(%(run_date)s::date + j.next_days) AS next_on
    FROM inv LEFT JOIN judged j ON j.id = inv.id LEFT JOIN fresh f ON f.id = inv.id
    GROUP BY inv.customer_id
),
by_currency AS (
    SELECT customer_id, jsonb_object_agg(currency, total::text) AS amounts FROM overdue GROUP BY customer_id
),
summary AS (
    INSERT INTO {summary} (partner_id, customer_id, run_date, overdue_total, overdue_by_currency, overdue_count,
                           oldest_overdue, step, next_action_on, updated_at)
    SELECT %(partner)s, s.customer_id, %(run_date)s, s.total, COALESCE(b.amounts, '{{}}'::jsonb), s.n, s.oldest,
           CASE s.step_rank WHEN 1 THEN 'remind' WHEN 2 THEN 'final_notice' WHEN 3 THEN 'suspend' ELSE '' END,
           s.next_on, %(now)s
    FROM summary_rows s LEFT JOIN by_currency b ON b.customer_id = s.customer_id
    ON CONFLICT (customer_id) DO UPDATE SET run_date = EXCLUDED.run_date, overdue_total = EXCLUDED.overdue_total,
        overdue_by_currency = EXCLUDED.overdue_by_currency, overdue_count = EXCLUDED.overdue_count,
        oldest_overdue = EXCLUDED.oldest_overdue, step = EXCLUDED.step, next_action_on = EXCLUDED.next_action_on,
        updated_at = EXCLUDED.updated_at
    WHERE ({summary}.overdue_total, {summary}.overdue_by_currency, {summary}.overdue_count, {summary}.oldest_overdue,
           {summary}.step, {summary}.next_action_on)
          IS DISTINCT FROM (EXCLUDED.overdue_total, EXCLUDED.overdue_by_currency, EXCLUDED.overdue_count,
                            EXCLUDED.oldest_overdue, EXCLUDED.step, EXCLUDED.next_action_on)
),
summary_gone AS (  -- customers of the batch no longer in reach of the policy, unless suspended by collections
    DELETE FROM {summary} g
    WHERE g.partner_id = %(partner)s AND g.customer_id > %(low)s AND g.customer_id <= %(high)s
      AND g.customer_id = ANY(%(due)s) AND g.customer_id NOT IN (SELECT customer_id FROM inv)
      AND NOT EXISTS (SELECT 1 FROM {subscription} s WHERE s.customer_id = g.customer_id
                      AND s.suspension_source = %(source)s AND s.status = ANY(%(suspended_by_us)s))
),
per_customer AS (
    SELECT customer_id,
           bool_or(step_action = 'suspend' AND NOT below_minimum) AS suspend,
           bool_or(below_minimum) AS below_minimum,
           (array_agg(reason ORDER BY due_date, id) FILTER (WHERE step_action IS NULL AND reason <> ''))[1] AS reason
    FROM judged GROUP BY customer_id
),
paused AS (
    SELECT DISTINCT customer_id FROM inv WHERE paused AND has_step
),
made AS (
    SELECT customer_id, array_agg(id ORDER BY id) AS ids FROM notices GROUP BY customer_id
),
later AS (  -- open invoices not in reach of the policy yet: the day the earliest comes into it
    SELECT i.customer_id, MIN(i.due_date) - %(lead)s AS on_day
    FROM {invoice} i
    WHERE i.partner_id = %(partner)s AND i.customer_id > %(low)s AND i.customer_id <= %(high)s
      AND i.customer_id = ANY(%(due)s) AND i.status = ANY(%(open)s) AND i.balance > 0 AND i.due_date > %(cutoff)s
    GROUP BY 1
),
soon AS (  -- in reach: the day an invoice falls overdue (totals change), reaches its first step, or a promise ends
    SELECT customer_id,
           LEAST(MIN(due_date + 1) FILTER (WHERE due_date >= %(run_date)s::date),
                 MIN(due_date + %(first)s + CASE WHEN %(first)s > 0 THEN k_grace ELSE 0 END) FILTER (WHERE NOT has_step),
                 MIN(promise + 1) FILTER (WHERE paused)) AS on_day
    FROM inv GROUP BY 1
),
ahead AS (  -- the next step of each invoice the policy acts on, as the decisions give it
    SELECT customer_id, MIN(%(run_date)s::date + next_days) AS on_day FROM judged GROUP BY 1
),
rechecks AS (  -- when the run next has something to decide for each customer it looked at
    INSERT INTO {customer_dunning} (partner_id, customer_id, suspended, updated_at, recheck_on, checked_on,
                                    at_suspension, seen_policy, seen_exempt, seen_extra_grace, seen_promise)
    SELECT %(partner)s, c.id, false, %(now)s,
           COALESCE(LEAST(l.on_day, s.on_day, a.on_day), %(never)s::date), %(run_date)s, COALESCE(pc.suspend, false),
           %(policy_key)s, c.collections_exempt, c.collections_extra_grace_days, c.promise_to_pay_until
    FROM {customer} c
    LEFT JOIN later l ON l.customer_id = c.id
    LEFT JOIN soon s ON s.customer_id = c.id
    LEFT JOIN ahead a ON a.customer_id = c.id
    LEFT JOIN per_customer pc ON pc.customer_id = c.id
    WHERE c.partner_id = %(partner)s AND c.id > %(low)s AND c.id <= %(high)s AND c.id = ANY(%(due)s)
    ON CONFLICT (customer_id) DO UPDATE SET recheck_on = EXCLUDED.recheck_on, checked_on = EXCLUDED.checked_on,
        at_suspension = EXCLUDED.at_suspension, seen_policy = EXCLUDED.seen_policy,
        seen_exempt = EXCLUDED.seen_exempt, seen_extra_grace = EXCLUDED.seen_extra_grace,
        seen_promise = EXCLUDED.seen_promise
)
SELECT c.id, c.name, c.currency, COALESCE(co.total, 0), COALESCE(made.ids, '{{}}'), COALESCE(pc.suspend, false),
       CASE WHEN pz.customer_id IS NOT NULL THEN 'promise_to_pay'
            WHEN pc.below_minimum THEN 'below_minimum'
            ELSE COALESCE(pc.reason, '') END
FROM (SELECT customer_id FROM per_customer UNION SELECT customer_id FROM paused) k
JOIN {customer} c ON c.id = k.customer_id AND c.id > %(low)s AND c.id <= %(high)s  -- the batch's range only
LEFT JOIN per_customer pc ON pc.customer_id = k.customer_id
LEFT JOIN paused pz ON pz.customer_id = k.customer_id
LEFT JOIN made ON made.customer_id = k.customer_id
LEFT JOIN customer_overdue co ON co.customer_id = k.customer_id
WHERE made.ids IS NOT NULL OR pc.suspend OR pz.customer_id IS NOT NULL OR pc.below_minimum OR pc.reason IS NOT NULL
ORDER BY c.id
"""


def _tables() -> dict[str, str]:
    return {
        "invoice": Invoice._meta.db_table, "customer": Customer._meta.db_table, "notice": Notice._meta.db_table,
        "invoice_dunning": InvoiceDunning._meta.db_table, "customer_dunning": CustomerDunning._meta.db_table,
        "summary": CustomerCollections._meta.db_table, "subscription": Subscription._meta.db_table,
    }  # fmt: skip


def _decide(steps: list[CollectionStep], situations: Iterable[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """rules.dunning_decision for each distinct situation of the batch (not for each invoice), as
    the arrays the batch statement joins its invoices to."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for days, grace, harshest, final_days, suspended, after_hold, exempt in situations:
        state = DunningState(
            harshest=harshest, final_notice_days_ago=None if final_days == _NO_FINAL else final_days,
            suspended=suspended, after_hold=after_hold, exempt=exempt,
        )  # fmt: skip
        decision = dunning_decision(steps, days, grace_days=grace, state=state)
        step, ahead = decision.step, decision.ahead
        for name, value in (
            ("days", days), ("grace", grace), ("harshest", harshest), ("final", final_days),
            ("suspended", suspended), ("after_hold", after_hold), ("exempt", exempt),
            ("step_offset", step.offset_days if step else None), ("step_action", step.action if step else None),
            ("next_action", ahead[0].action if ahead else ""), ("next_days", ahead[1] if ahead else None),
            ("reason", decision.reason),
        ):  # fmt: skip
            columns[f"d_{name}"].append(value)
    return columns


# The partner's customers the run has something to decide for today, in one statement: never looked
# at, due by their recheck day, looked at for a later day (a run for an earlier date), under another
# policy or other terms than now, or at the suspension step with a subscription it could still suspend.
# Each condition is a branch of its own read through an index (CustomerDunning's, the customers' with
# terms of their own, the suspendable subscriptions'), so a run with nothing new reads no row of the
# partner's customers: only index entries, and of those the customers never looked at (an anti-join of
# two index-only scans) and the ones at the suspension step against the suspendable subscriptions.
_DUE_SQL = """
SELECT c.id FROM {customer} c
WHERE c.partner_id = %(partner)s
  AND NOT EXISTS (SELECT 1 FROM {customer_dunning} cd WHERE cd.customer_id = c.id)
  -- looked for only when the partner has more customers than dunning rows (two index-only counts)
  AND (SELECT COUNT(*) FROM {customer} WHERE partner_id = %(partner)s)
      > (SELECT COUNT(*) FROM {customer_dunning} WHERE partner_id = %(partner)s)
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND recheck_on IS NULL
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND recheck_on <= %(run_date)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND checked_on > %(run_date)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND seen_policy < %(policy_key)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND seen_policy > %(policy_key)s
UNION
SELECT k.id FROM (  -- terms of their own now, or when the run saw them: compared one customer at a time
    SELECT id FROM {customer}
    WHERE partner_id = %(partner)s
      AND (collections_exempt OR collections_extra_grace_days > 0 OR promise_to_pay_until IS NOT NULL)
    UNION
    SELECT customer_id FROM {customer_dunning}
    WHERE partner_id = %(partner)s
      AND (seen_exempt OR seen_exempt IS NULL OR seen_extra_grace > 0 OR seen_extra_grace IS NULL
           OR seen_promise IS NOT NULL)
) k
CROSS JOIN LATERAL (
    SELECT 1 FROM {customer} c JOIN {customer_dunning} cd ON cd.customer_id = c.id
    WHERE c.id = k.id AND (cd.seen_exempt IS DISTINCT FROM c.collections_exempt
                           OR cd.seen_extra_grace IS DISTINCT FROM c.collections_extra_grace_days
                           OR cd.seen_promise IS DISTINCT FROM c.promise_to_pay_until)
    LIMIT 1
) changed
UNION
SELECT cd.customer_id FROM {customer_dunning} cd
WHERE cd.partner_id = %(partner)s AND cd.at_suspension AND EXISTS (
    SELECT 1 FROM {subscription} s
    WHERE s.partner_id = %(partner)s AND s.customer_id = cd.customer_id AND s.status IN ({suspendable}))
ORDER BY 1
"""


def policy_key(policy: CollectionPolicy, steps: Iterable[CollectionStep]) -> str:
    """A fingerprint of what the run's decisions depend on in the policy: a change makes every customer due."""
    shape = {
        "min": str(policy.min_amount), "mins": {c: str(a) for c, a in sorted((policy.min_amounts or {}).items())},
        "grace": policy.grace_days, "scope": policy.suspend_scope,
        "steps": [(s.offset_days, str(s.action)) for s in sorted(steps, key=lambda s: s.offset_days)],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def due_customers(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep],
                   run_date: dt.date) -> list[int]:  # fmt: skip
    """The ids of the customers the run has something to decide for on `run_date` (see _DUE_SQL)."""
    # The statuses written out, as in the suspendable subscriptions' partial index, which the planner
    # matches only against the same literal list.
    suspendable = ", ".join(f"'{status}'" for status in SUSPENDABLE)
    sql = _DUE_SQL.format(**_tables(), suspendable=suspendable)
    params: dict[str, Any] = {"partner": partner.pk, "run_date": run_date, "policy_key": policy_key(policy, steps)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def chase_batch(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep], run: CollectionRun,
                 run_date: dt.date, low: int, high: int | None, due: list[int] | None = None) -> list[Taken]:  # fmt: skip
    """Two statements for a batch of customers, whatever its number of invoices: the distinct
    situations, then the notices and dunning states written, the day each customer is due again,
    and a row per customer of what was done. Only the customers of `due` in (low, high]."""
    offsets = [s.offset_days for s in steps]
    lead = max([-o for o in offsets] + [0])
    params: dict[str, Any] = {
        "partner": partner.pk, "low": low, "high": high if high is not None else 2**62, "run": run.pk,
        "open": list(Invoice.OPEN_STATUSES), "run_date": run_date, "now": clock.now(),
        "cutoff": run_date + dt.timedelta(days=lead), "lead": lead, "never": CustomerDunning.NEVER_AGAIN,
        "policy_key": policy_key(policy, steps), "due": due if due is not None else [],
        "top": max(offsets), "first": min(offsets), "grace": policy.grace_days, "min_amount": policy.min_amount,
        "m_currency": list((policy.min_amounts or {}).keys()),
        "m_amount": [Decimal(v) for v in (policy.min_amounts or {}).values()],
        "source": COLLECTIONS_SOURCE, "suspended_by_us": list(SUSPENDED_BY_US),
    }  # fmt: skip
    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute(_SITUATIONS_SQL.format(**tables), params)
        situations = cursor.fetchall()
        decisions = _decide(steps, situations)
        for name in ("days", "grace", "harshest", "final", "suspended", "after_hold", "exempt", "step_offset",
                     "step_action", "next_action", "next_days", "reason"):  # fmt: skip
            params[f"d_{name}"] = decisions.get(f"d_{name}", [])
        sql = _BATCH_SQL.format(
            key_columns=_KEY_SQL,
            open_invoices=_OPEN_SQL.format(**tables),
            rank_step=_RANK_SQL.format("step_action"),
            rank_harshest=_RANK_SQL.format("harshest"),
            rank_inv=_RANK_SQL.format("inv.k_harshest"),
            rank_fresh=_RANK_SQL.format("f.step_action"),
            **tables,
        )
        # The planner cannot estimate the join to the decisions (seven columns of an array) and would
        # nest loops over thousands of rows; hash joins are right at any batch size. For this
        # transaction only (SET LOCAL), so it holds behind a transaction-pooling PgBouncer too.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(sql, params)
        taken = [Taken(*row) for row in cursor.fetchall()]
        cursor.execute("RESET enable_nestloop")
        return taken
