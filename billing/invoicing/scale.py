"""Bench data at scale: ten monthly invoices per customer, issued, with one line per subscription,
numbered gapless in the partner's series; about 90 % paid through a payment and its allocation, the rest
open (some partly paid) over a spread of overdue ages. See partner_portal.scale.

Totals are computed from the same rounded line amounts the lines get (half-up per line, as the services
round), so total = subtotal + tax = the sum of the lines, and balance = total - paid.
"""

from __future__ import annotations

from partner_portal.scale import ScaleRun, analyze, customer_numbers_sql, execute, rand

MONTHS = 10  # monthly invoices per customer, for the periods before this month
TABLES = (
    "billing_invoice",
    "billing_invoiceline",
    "billing_payment",
    "billing_paymentallocation",
    "billing_numberseries",
)
_LINE_AMOUNT = "round(s.quantity * s.unit_price, 2)"
_LINE_TAX = f"round({_LINE_AMOUNT} * s.tax_rate / 100, 2)"


def _status(fate: str) -> str:
    """fate in [0, 100): below 4 partly paid, below 10 open, the rest paid."""
    return f"CASE WHEN {fate} < 4 THEN 'partially_paid' WHEN {fate} < 10 THEN 'issued' ELSE 'paid' END"


def _paid(fate: str, total: str) -> str:
    return f"CASE WHEN {fate} < 4 THEN round({total} / 2, 2) WHEN {fate} < 10 THEN 0 ELSE {total} END"


def _insert_invoices(run: ScaleRun, rows_sql: str) -> int:
    """Inserts the invoices `rows_sql` gives (customer_id, currency, period, issue_date, due_date, subtotal,
    tax, fate, ordinal), numbering them after the series' last number, with an `invoice.issued` event each."""
    total = "(r.subtotal + r.tax)"
    return execute(
        f"""
        WITH r AS ({rows_sql}),
        numbered AS (
            SELECT r.*, extract(year FROM r.issue_date)::int AS year,
                   coalesce(ns.last_number, 0)
                   + row_number() OVER (PARTITION BY extract(year FROM r.issue_date) ORDER BY r.issue_date,
                                        r.customer_id, r.ordinal) AS num
            FROM r LEFT JOIN billing_numberseries ns
              ON ns.partner_id = %(partner)s AND ns.kind = 'INV' AND ns.year = extract(year FROM r.issue_date)
        ),
        ins AS (
            INSERT INTO billing_invoice (
                partner_id, customer_id, number, status, currency, period, issue_date, due_date, subtotal,
                tax_total, total, amount_paid, amount_credited, balance, notes, created_at, issued_at,
                voided_at, void_reason)
            SELECT %(partner)s, r.customer_id,
                   'INV-' || r.year || '-' || CASE WHEN r.num < 1000000 THEN lpad(r.num::text, 6, '0')
                                                   ELSE r.num::text END,
                   {_status("r.fate")}, r.currency, r.period, r.issue_date, r.due_date, r.subtotal, r.tax,
                   {total}, {_paid("r.fate", total)}, 0, {total} - {_paid("r.fate", total)}, '',
                   r.issue_date::timestamptz, r.issue_date::timestamptz, NULL, ''
            FROM numbered r ORDER BY r.year, r.num
            RETURNING id, customer_id, number, total, created_at
        )
        INSERT INTO partner_portal_auditevent (
            partner_id, customer_id, actor_id, action, target_type, target_id, target_repr, data, created_at)
        SELECT %(partner)s, ins.customer_id, %(actor)s, 'invoice.issued', 'billing.invoice', ins.id::text,
               ins.number, jsonb_build_object('total', ins.total::text), ins.created_at
        FROM ins
        """,
        {"partner": run.partner.pk, "actor": run.staff.pk},
    )


def _series_sync(run: ScaleRun) -> None:
    """Each year's series ends at the number of invoices numbered in it (they are gapless)."""
    execute(
        """
        INSERT INTO billing_numberseries (partner_id, kind, year, last_number)
        SELECT %(partner)s, 'INV', split_part(number, '-', 2)::int, count(*)
        FROM billing_invoice WHERE partner_id = %(partner)s AND number LIKE 'INV-%%'
        GROUP BY split_part(number, '-', 2)
        ON CONFLICT (partner_id, kind, year) DO UPDATE SET last_number = excluded.last_number
        """,
        {"partner": run.partner.pk},
    )


def seed_scale(run: ScaleRun) -> dict[str, int]:
    p, s = run.partner.pk, run.seed
    sums = f"""
        SELECT s.customer_id, sum({_LINE_AMOUNT}) AS subtotal, sum({_LINE_TAX}) AS tax
        FROM subscriptions_subscription s WHERE s.partner_id = {int(p)} GROUP BY s.customer_id
    """
    month = f"date_trunc('month', '{run.today.isoformat()}'::date)"
    monthly = f"""
        SELECT n.id AS customer_id, n.currency, to_char({month} - make_interval(months => m), 'YYYY-MM') AS period,
               ({month} - make_interval(months => m - 1))::date AS issue_date,
               ({month} - make_interval(months => m - 1))::date + n.credit_days AS due_date,
               t.subtotal, t.tax, {rand(f"n.ci * {MONTHS} + m", 20, s, 100)} AS fate, m AS ordinal
        FROM ({customer_numbers_sql(p)}) n
        JOIN ({sums}) t ON t.customer_id = n.id
        CROSS JOIN generate_series(1, {MONTHS}) AS m
        WHERE NOT EXISTS (SELECT 1 FROM billing_invoice x WHERE x.customer_id = n.id AND x.period <> '')
    """
    invoices = _insert_invoices(run, monthly)
    _series_sync(run)
    if run.big_customer_invoices:
        # The first customer's long history: invoices outside the monthly run, one a day back from today.
        big = f"""
            SELECT n.id AS customer_id, n.currency, '' AS period,
                   '{run.today.isoformat()}'::date - 1 - (i %% 3000)::int AS issue_date,
                   '{run.today.isoformat()}'::date - 1 - (i %% 3000)::int + n.credit_days AS due_date,
                   t.subtotal, t.tax, {rand("i", 21, s, 100)} AS fate, i AS ordinal
            FROM ({customer_numbers_sql(p)}) n
            JOIN ({sums}) t ON t.customer_id = n.id
            CROSS JOIN generate_series(
                (SELECT count(*) FROM billing_invoice x WHERE x.customer_id = n.id AND x.period = ''),
                {int(run.big_customer_invoices)} - 1) AS i
            WHERE n.ci = 0
        """
        invoices += _insert_invoices(run, big)
        _series_sync(run)
    analyze(["billing_invoice"])  # the lines and payments below join the invoices just written
    lines = execute(
        f"""
        INSERT INTO billing_invoiceline (
            partner_id, invoice_id, position, kind, description, quantity, unit_price, tax_rate, amount,
            tax_amount, subscription_id, period_start, period_end, vat_category, vat_exemption_reason,
            vat_exemption_code, unit_code)
        SELECT i.partner_id, i.id, row_number() OVER (PARTITION BY i.id ORDER BY s.id), 'subscription',
               left(s.product, 300), s.quantity, s.unit_price, s.tax_rate, {_LINE_AMOUNT}, {_LINE_TAX}, s.id,
               (i.issue_date - interval '1 month')::date, i.issue_date - 1,
               CASE WHEN s.tax_rate > 0 THEN 'S' ELSE '' END, '', '', 'C62'
        FROM billing_invoice i JOIN subscriptions_subscription s ON s.customer_id = i.customer_id
        WHERE i.partner_id = %(partner)s
          AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.invoice_id = i.id)
        ORDER BY i.id, s.id
        """,
        {"partner": p},
    )
    analyze(["billing_invoiceline"])
    # One payment per paid or partly paid invoice that has none, its reference the invoice's number,
    # received between the issue date and shortly after the due date; then each payment is allocated in
    # full to the invoice its reference names.
    payments = execute(
        f"""
        INSERT INTO billing_payment (
            partner_id, customer_id, amount, currency, received_on, method, reference, provider, unallocated,
            recorded_by_id, created_at, void_reason)
        SELECT %(partner)s, i.customer_id, i.amount_paid, i.currency,
               least(i.issue_date + {rand("i.id", 22, s, 50)}, %(today)s::date),
               (ARRAY['bank_transfer','card','other'])[1 + {rand("i.id", 23, s, 3)}], i.number, '', 0,
               %(actor)s, least(i.issue_date + {rand("i.id", 22, s, 50)}, %(today)s::date)::timestamptz, ''
        FROM billing_invoice i
        WHERE i.partner_id = %(partner)s AND i.amount_paid > 0
          AND NOT EXISTS (SELECT 1 FROM billing_paymentallocation a WHERE a.invoice_id = i.id)
        ORDER BY i.id
        """,
        {"partner": p, "today": run.today, "actor": run.staff.pk},
    )
    analyze(["billing_payment"])
    execute(
        """
        INSERT INTO billing_paymentallocation (partner_id, payment_id, invoice_id, amount, created_at)
        SELECT y.partner_id, y.id, i.id, y.amount, y.created_at
        FROM billing_payment y
        JOIN billing_invoice i ON i.partner_id = y.partner_id AND i.number = y.reference
        WHERE y.partner_id = %(partner)s AND y.unallocated = 0
          AND NOT EXISTS (SELECT 1 FROM billing_paymentallocation a WHERE a.payment_id = y.id)
        ORDER BY y.id
        """,
        {"partner": p},
    )
    return {"invoices": invoices, "invoice lines": lines, "payments": payments}
