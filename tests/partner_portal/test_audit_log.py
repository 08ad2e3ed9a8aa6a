"""The audit log page: every recorded change of the partner, filtered by who, what, object, customer
and date, in pages of a fixed number of queries, exported as CSV with the same filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.invoicing.services import payment_record
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import AuditEvent
from partner_portal.services import customer_update
from tests.conftest import Tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db
LOG = "/staff/audit/"
CSV = "/staff/audit/export.csv"


@pytest.fixture
def history(tenant: Tenant) -> dict[str, object]:
    with clock.frozen(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)):
        invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    with clock.frozen(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)):
        customer_update(customer=tenant.other_customer, actor=tenant.admin, changes={"credit_days": 45})
        payment_record(
            partner=tenant.partner,
            customer=tenant.customer,
            actor=tenant.finance,
            amount=invoice.total,
            received_on=dt.date(2026, 11, 20),
            reference='=HYPERLINK("http://evil.example")',
        )
    return {"invoice": invoice}


def _csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_admins_and_finance_read_the_log_newest_first(tenant: Tenant, history, client_for) -> None:
    response = client_for(tenant.finance).get(LOG)
    assert response.status_code == 200
    events = list(response.context["page"].items)
    assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
    html = response.content.decode()
    assert "Payment recorded" in html
    assert "credit days:</span> 30 → 45" in html
    assert response.context["total"] == AuditEvent.objects.filter(partner=tenant.partner).count()


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_agents_and_customers_do_not(tenant: Tenant, client_for, role: str) -> None:
    client = client_for(getattr(tenant, role))
    assert client.get(LOG).status_code == 403
    assert client.get(CSV).status_code == 403


def test_filters_by_who_what_object_customer_and_date(tenant: Tenant, history, client_for) -> None:
    client = client_for(tenant.admin)

    def actions(query: str) -> set[str]:
        response = client.get(f"{LOG}?{query}")
        assert response.context["form"].is_valid(), response.context["form"].errors
        return {e.action for e in response.context["page"].items}

    assert actions(f"actor={tenant.admin.pk}") == {"customer.updated"}
    assert actions("action=payment.recorded") == {"payment.recorded"}
    assert actions(f"q={history['invoice'].number}") >= {"invoice.issued"}
    assert "customer.updated" not in actions(f"customer={tenant.customer.pk}")
    assert actions(f"customer={tenant.other_customer.pk}") == {"customer.updated"}
    assert actions("since=2026-11-01&until=2026-11-10") >= {"invoice.issued"}
    assert "payment.recorded" not in actions("since=2026-11-01&until=2026-11-10")
    assert actions("since=2026-11-20&until=2026-11-20") >= {"payment.recorded", "customer.updated"}


def test_a_reversed_date_range_is_a_field_error(tenant: Tenant, history, client_for) -> None:
    response = client_for(tenant.admin).get(f"{LOG}?since=2026-11-20&until=2026-11-01")
    assert response.context["form"].errors["until"] == ["The end date is before the start date."]


def test_another_partners_events_never_show(tenant: Tenant, other_tenant: Tenant, history, client_for) -> None:
    audit_record(
        partner=other_tenant.partner,
        customer=other_tenant.customer,
        actor=other_tenant.admin,
        action="customer.updated",
        target=other_tenant.customer,
        data={"notes": {"from": "", "to": "secret of Beta"}},
    )
    client = client_for(tenant.admin)
    assert "secret of Beta" not in client.get(LOG).content.decode()
    assert "secret of Beta" not in b"".join(client.get(CSV).streaming_content).decode()
    # Another partner's user or customer as a filter is refused, not applied.
    response = client.get(f"{LOG}?actor={other_tenant.admin.pk}")
    assert "actor" in response.context["form"].errors
    response = client.get(f"{LOG}?customer={other_tenant.customer.pk}")
    assert "customer" in response.context["form"].errors


def test_the_page_runs_a_fixed_number_of_queries(tenant: Tenant, history, client_for) -> None:
    client = client_for(tenant.admin)
    client.get(LOG)
    with CaptureQueriesContext(connection) as few:
        client.get(LOG)
    for n in range(30):
        audit_record(
            partner=tenant.partner,
            customer=tenant.customer,
            actor=tenant.finance,
            action="customer.updated",
            target=tenant.customer,
            data={"notes": {"from": str(n), "to": str(n + 1)}},
        )
    with CaptureQueriesContext(connection) as many:
        client.get(LOG)
    assert len(many) == len(few) <= 12


def test_the_csv_export_keeps_the_filters_and_neutralises_formulas(tenant: Tenant, history, client_for) -> None:
    response = client_for(tenant.finance).get(f"{CSV}?action=payment.recorded")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = _csv_rows(response)
    assert [r["action"] for r in rows] == ["payment.recorded"]
    assert rows[0]["actor_email"] == tenant.finance.email
    assert rows[0]["action_label"] == "Payment recorded"
    data = json.loads(rows[0]["data"])
    assert data["amount"] == "100.00"
    everything = _csv_rows(client_for(tenant.finance).get(CSV))
    assert len(everything) == AuditEvent.objects.filter(partner=tenant.partner).count()
