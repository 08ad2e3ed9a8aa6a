"""Bench data at scale: two tickets per customer in every status, numbered after the partner's last,
assigned to the partner admin. See partner_portal.scale."""

from __future__ import annotations

from partner_portal.scale import ScaleRun, customer_numbers_sql, execute, rand

TICKETS_PER_CUSTOMER = 2
TABLES = ("tickets_ticket",)
_STATUSES = "ARRAY['new','open','pending_customer','escalated','resolved','closed','closed','resolved']"
_SUBJECTS = (
    "ARRAY['Invoice amount looks wrong','Cannot sign in to Outlook','Add 5 licences','Teams calls drop',"
    "'Azure VM will not start','Change billing contact','Renewal question','Dynamics sync error']"
)


def seed_scale(run: ScaleRun) -> dict[str, int]:
    s = run.seed
    key = f"(n.ci * {TICKETS_PER_CUSTOMER} + k)"
    tickets = execute(
        f"""
        WITH r AS (
            SELECT n.id AS customer_id, k,
                   ({_STATUSES})[1 + {rand(key, 30, s, 8)}] AS status,
                   %(today)s::timestamptz - make_interval(mins => 60 + {rand(key, 31, s, 60 * 24 * 400)}) AS opened,
                   1 + {rand(key, 32, s, 8)} AS topic, {rand(key, 33, s, 10)} AS sev
            FROM ({customer_numbers_sql(run.partner.pk)}) n
            CROSS JOIN generate_series(0, {TICKETS_PER_CUSTOMER - 1}) AS k
            WHERE NOT EXISTS (SELECT 1 FROM tickets_ticket x WHERE x.customer_id = n.id)
        )
        INSERT INTO tickets_ticket (
            partner_id, customer_id, number, subject, description, category, product_family, severity, status,
            created_at, updated_at, first_response_due, resolution_due, first_responded_at, resolved_at,
            closed_at, sla_paused_at, assignee_id, opened_by_id)
        SELECT %(partner)s, r.customer_id,
               coalesce((SELECT max(number) FROM tickets_ticket WHERE partner_id = %(partner)s), 0)
               + row_number() OVER (ORDER BY r.opened, r.customer_id, r.k),
               ({_SUBJECTS})[r.topic], 'Details of the request.',
               CASE WHEN r.topic IN (1, 6) THEN 'billing' WHEN r.topic IN (3, 7) THEN 'subscription_management'
                    ELSE 'technical' END,
               CASE WHEN r.topic = 5 THEN 'azure' WHEN r.topic = 8 THEN 'dynamics_365' ELSE 'microsoft_365' END,
               CASE WHEN r.sev = 0 THEN 'A' WHEN r.sev < 4 THEN 'B' ELSE 'C' END, r.status,
               r.opened, r.opened + interval '1 hour', r.opened + interval '4 hours', r.opened + interval '2 days',
               CASE WHEN r.status <> 'new' THEN r.opened + interval '1 hour' END,
               CASE WHEN r.status IN ('resolved', 'closed') THEN r.opened + interval '1 day' END,
               CASE WHEN r.status = 'closed' THEN r.opened + interval '8 days' END,
               CASE WHEN r.status = 'pending_customer' THEN r.opened + interval '1 hour' END,
               CASE WHEN r.status <> 'new' THEN %(agent)s END, NULL
        FROM r ORDER BY r.opened, r.customer_id, r.k
        """,
        {"partner": run.partner.pk, "today": run.today, "agent": run.staff.pk},
    )
    return {"tickets": tickets}
