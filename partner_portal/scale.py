"""Bench data at scale, set-based: the core's part (partners, a staff user, customers) and the helpers
each app's part uses (`<app>.scale.seed_scale`, found by `manage.py seed_scale` through the app registry).

Every row is written by `INSERT … SELECT` over `generate_series` or over rows already there, never one
Python object per row. What looks random is a hash of the row's position and the seed
(`hashint8extended`), so the same seed and day give the same data, and each part only adds what is
missing (customers beyond those there, rows for customers that have none), so a re-run tops up.
PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection

from partner_portal.models import Membership, Partner, Role, User


@dataclass(frozen=True)
class ScaleRun:
    """What each app's part is given: the partner to fill, the seed, the day the data is relative to."""

    partner: Partner
    seed: int
    today: dt.date
    staff: User
    # Invoices of the partner's first customer beyond its monthly ones (a customer with a long history).
    big_customer_invoices: int = 0


def rand(expr: str, salt: int, seed: int, modulo: int = 1_000_000) -> str:
    """SQL for a deterministic pseudo-random integer in [0, modulo) from `expr` (an integer expression)."""
    return f"mod(abs(hashint8extended(({expr})::bigint, {seed * 1009 + salt})), {modulo})::int"


def execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return max(cursor.rowcount, 0)


def partner_ensure(*, slug: str, name: str) -> tuple[Partner, User]:
    """The bench partner and its partner admin (who the bench signs in as)."""
    partner, _ = Partner.objects.get_or_create(slug=slug, defaults={"name": name, "microsoft_partner_id": "9990001"})
    email = f"admin@{slug}.scale.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=f"{name} admin")
        Membership.objects.create(user=user, partner=partner, role=Role.PARTNER_ADMIN)
    return partner, user


def customers_seed(run: ScaleRun, *, customers: int) -> int:
    """Tops the partner up to `customers` customers, numbered from 0 in the order they were made."""
    p, s = run.partner, run.seed
    return execute(
        f"""
        INSERT INTO partner_portal_customer (
            partner_id, name, tenant_id, domain, billing_contact, billing_email, billing_phone, address,
            country, tax_id, currency, language, credit_days, collections_exempt,
            collections_extra_grace_days, promise_to_pay_until, notes, created_at, street, city, post_code,
            legal_registration_id, peppol_scheme, peppol_id, buyer_reference, order_reference, einvoice_format,
            card_payments)
        SELECT %(partner)s,
               'Customer ' || lpad(i::text, 7, '0') || ' ' || (ARRAY['Contoso','Fabrikam','Northwind',
                   'Litware','Tailspin','Adatum','Woodgrove','Proseware'])[1 + {rand("i", 1, s, 8)}],
               md5(%(slug)s || ':' || i)::uuid,
               'customer' || i || '.example', '', 'accounts@customer' || i || '.example', '', '',
               (ARRAY['US','DE','GB','RU','FR'])[1 + {rand("i", 2, s, 5)}], '',
               (ARRAY['USD','EUR','GBP','RUB'])[1 + i %% 4], (ARRAY['en','ru'])[1 + i %% 2],
               (ARRAY[14, 30, 45, 60])[1 + {rand("i", 3, s, 4)}], {rand("i", 4, s, 100)} = 0, 0, NULL, '',
               %(today)s::timestamptz - make_interval(days => 30 + {rand("i", 5, s, 900)},
                                                      secs => {rand("i", 6, s, 86400)}),
               'Street ' || i, 'City', lpad((i %% 99999)::text, 5, '0'), '', '', '', '', '', 'pdf', TRUE
        FROM generate_series(
            (SELECT count(*) FROM partner_portal_customer WHERE partner_id = %(partner)s), %(customers)s - 1
        ) AS i
        ORDER BY i
        """,
        {"partner": p.pk, "slug": p.slug, "customers": customers, "today": run.today},
    )


def customer_numbers_sql(partner_id: int) -> str:
    """The partner's customers with their number from 0 (in the order they were made), for the parts."""
    return f"""
        SELECT c.id, c.currency, c.credit_days, c.created_at,
               (row_number() OVER (ORDER BY c.id) - 1) AS ci
        FROM partner_portal_customer c WHERE c.partner_id = {int(partner_id)}
    """


def audit_seed(run: ScaleRun) -> int:
    """One `customer.created` audit event for each customer that has none."""
    return execute(
        """
        INSERT INTO partner_portal_auditevent (
            partner_id, customer_id, actor_id, action, target_type, target_id, target_repr, data, created_at)
        SELECT c.partner_id, c.id, %(actor)s, 'customer.created', 'partner_portal.customer', c.id::text,
               left(c.name, 200), '{}'::jsonb, c.created_at
        FROM partner_portal_customer c
        WHERE c.partner_id = %(partner)s AND NOT EXISTS (
            SELECT 1 FROM partner_portal_auditevent a
            WHERE a.partner_id = c.partner_id AND a.target_type = 'partner_portal.customer'
              AND a.target_id = c.id::text AND a.action = 'customer.created')
        ORDER BY c.id
        """,
        {"partner": run.partner.pk, "actor": run.staff.pk},
    )


def analyze(tables: list[str]) -> None:
    """Fresh planner statistics, as autovacuum would give a production table, so plans are realistic."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
