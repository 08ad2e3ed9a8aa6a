"""Bench data at scale: three subscriptions per customer with their terms, about 1 % suspended by
collections and a few cancelled, and open differences with Microsoft for some. See partner_portal.scale."""

from __future__ import annotations

from partner_portal.scale import ScaleRun, customer_numbers_sql, execute, rand

SUBSCRIPTIONS_PER_CUSTOMER = 3
TABLES = ("subscriptions_subscription", "subscriptions_subscriptiondifference")

# product, family, sale price, Microsoft's cost
_PRODUCTS = [
    ("Microsoft 365 Business Premium", "microsoft_365", "22.0000", "17.6000"),
    ("Microsoft 365 E3", "microsoft_365", "36.0000", "28.8000"),
    ("Exchange Online (Plan 1)", "microsoft_365", "4.0000", "3.2000"),
    ("Dynamics 365 Sales Professional", "dynamics_365", "65.0000", "52.0000"),
    ("Azure plan", "azure", "120.0000", "100.0000"),
    ("Microsoft Teams Essentials", "other", "4.0000", "3.2000"),
]


def _array(index: int) -> str:
    return "ARRAY[" + ",".join(f"'{p[index]}'" for p in _PRODUCTS) + "]"


def seed_scale(run: ScaleRun) -> dict[str, int]:
    s = run.seed
    key = f"(n.ci * {SUBSCRIPTIONS_PER_CUSTOMER} + k)"
    pick = f"1 + {rand(key, 10, s, len(_PRODUCTS))}"
    fate = rand(key, 12, s, 1000)  # < 10: suspended by collections, < 15: cancelled
    annual = f"{rand(key, 13, s, 3)} = 0"
    subscriptions = execute(
        f"""
        INSERT INTO subscriptions_subscription (
            partner_id, customer_id, product, product_family, offer_id, microsoft_subscription_id, quantity,
            billing_cycle, term, unit_price, unit_cost, tax_rate, status, microsoft_status, suspension_source,
            start_date, end_date, term_start_date, commitment_end_date, auto_renew_enabled,
            auto_renew_before_suspension, suspended_at, created_at)
        SELECT %(partner)s, n.id, ({_array(0)})[p.i], ({_array(1)})[p.i], '',
               md5(%(slug)s || ':subscription:' || {key})::uuid::text, 1 + {rand(key, 11, s, 50)},
               CASE WHEN p.annual THEN 'annual' ELSE 'monthly' END, CASE WHEN p.annual THEN 'P1Y' ELSE 'P1M' END,
               ({_array(2)})[p.i]::numeric, ({_array(3)})[p.i]::numeric,
               CASE WHEN n.currency = 'USD' THEN 0 ELSE 20 END,
               CASE WHEN p.fate < 10 THEN 'suspended' WHEN p.fate < 15 THEN 'cancelled' ELSE 'active' END,
               CASE WHEN p.fate < 10 THEN 'suspended' WHEN p.fate < 15 THEN 'deleted' ELSE 'active' END,
               CASE WHEN p.fate < 10 THEN 'collections' ELSE '' END,
               n.created_at::date, CASE WHEN p.fate BETWEEN 10 AND 14 THEN %(today)s::date END,
               n.created_at::date,
               n.created_at::date + CASE WHEN p.annual THEN interval '1 year' ELSE interval '1 month' END,
               p.fate >= 15, CASE WHEN p.fate < 10 THEN true END,
               CASE WHEN p.fate < 10 THEN %(today)s::timestamptz - make_interval(days => 1 + p.fate * 3) END,
               n.created_at
        FROM ({customer_numbers_sql(run.partner.pk)}) n
        CROSS JOIN generate_series(0, {SUBSCRIPTIONS_PER_CUSTOMER - 1}) AS k
        CROSS JOIN LATERAL (SELECT {pick} AS i, {fate} AS fate, {annual} AS annual) p
        WHERE NOT EXISTS (SELECT 1 FROM subscriptions_subscription x WHERE x.customer_id = n.id)
        ORDER BY n.id, k
        """,
        {"partner": run.partner.pk, "slug": run.partner.slug, "today": run.today},
    )
    # Microsoft reports another quantity for about one subscription in 200.
    differences = execute(
        f"""
        INSERT INTO subscriptions_subscriptiondifference (
            partner_id, subscription_id, sync_id, field, portal_value, microsoft_value, state, error,
            found_at, resolved_at, resolved_by_id)
        SELECT s.partner_id, s.id, NULL, 'quantity', s.quantity::text, (s.quantity + 1)::text, 'open', '',
               %(today)s::timestamptz - make_interval(mins => {rand("s.id", 14, s, 60 * 24 * 60)}), NULL, NULL
        FROM subscriptions_subscription s
        WHERE s.partner_id = %(partner)s AND s.status = 'active' AND {rand("s.id", 15, s, 200)} = 0
          AND NOT EXISTS (SELECT 1 FROM subscriptions_subscriptiondifference d WHERE d.subscription_id = s.id)
        ORDER BY s.id
        """,
        {"partner": run.partner.pk, "today": run.today},
    )
    return {"subscriptions": subscriptions, "differences": differences}
