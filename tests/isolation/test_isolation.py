"""Tenant isolation across the whole URL map.

Every URL pattern and API route is requested by a user of another partner and by a user of another
customer, with the ids of every row of the victim filled in, by GET and by each writing method. No
answer may contain a name, email or tenant ID of the victim, and no victim row may change. (Ids of
different tables overlap, so a foreign id can be the requester's own row of another model: what
counts is that nothing foreign is shown or changed.) New URL patterns are walked automatically.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from billing.collections.services import collections_run
from billing.invoicing.models import ExportJob
from billing.invoicing.services import credit_note_issue, payment_record
from billing.reconciliation.services import reconciliation_import_create
from partner_portal.audit import audit_record
from partner_portal.models import Invitation, User
from partner_portal.services import InvitationRequest, invitation_create
from tests.conftest import Tenant
from tests.factories.billing import draft, issued
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row
from tests.factories.subscriptions import SubscriptionFactory, azure_plan

pytestmark = pytest.mark.django_db

# Routes reachable by design without a scope, and why they cannot leak a tenant's rows.
PUBLIC_BY_DESIGN = {
    "invitation_accept": "the token in the link is the secret; without it the page is 404",
}
# Requests that would end the requester's session; they are walked with GET only, which is harmless.
MUTATING_WITHOUT_OBJECT = re.compile(r"^/(accounts|i18n)/")
ID_KWARG = re.compile(r"(^|_)(pk|id)$|^object_id$")
WRITE_METHODS = ("post", "patch", "put", "delete")
PORTAL_APPS = ("partner_portal", "subscriptions", "billing", "tickets", "escalation")
# Ids tried per model: the victim's first rows of each table. With the tables' id sequences aligned
# (below) these are a few shared values, each naming a row in every table.
IDS_PER_MODEL = 8


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # path with {kwarg} placeholders
    kwargs: tuple[str, ...]
    write_methods: tuple[str, ...] = WRITE_METHODS

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        text = _to_template(str(p.pattern))
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _routes(p.url_patterns, prefix + text, ns)
        elif isinstance(p, URLPattern):
            template = "/" + prefix + text
            yield Route(
                name=f"{namespace}{p.name or ''}",
                template=template,
                kwargs=tuple(re.findall(r"{(\w+)}", template)),
                write_methods=_write_methods(p.callback),
            )


def _write_methods(callback: object) -> tuple[str, ...]:
    """The writing methods a view answers; the others are refused before any code of the portal runs."""
    actions = getattr(callback, "actions", None)  # a DRF viewset route: its method -> action map
    if actions:
        return tuple(m for m in WRITE_METHODS if m in actions)
    view_class = getattr(callback, "view_class", None)
    if view_class is None:  # a function view: try everything
        return WRITE_METHODS
    return tuple(m for m in WRITE_METHODS if hasattr(view_class, m))


def _to_template(pattern: str) -> str:
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)  # named regex groups
    pattern = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)  # path converters
    pattern = pattern.lstrip("^").rstrip("$").replace("\\.", ".").replace("/?", "/")
    return pattern.replace("\\Z", "")


def all_routes() -> list[Route]:
    return list(_routes(get_resolver().url_patterns))


def _victim_markers(victim: Tenant, *, include_staff: bool) -> set[str]:
    markers = {
        victim.customer.name,
        str(victim.customer.tenant_id),
        victim.customer_admin.email,
        victim.customer_member.email,
    }
    if include_staff:
        markers |= {victim.partner.name, victim.other_customer.name, str(victim.other_customer.tenant_id)}
        markers |= {u.email for u in (victim.admin, victim.finance, victim.agent, victim.other_customer_admin)}
    return markers


def _victim_ids(victim: Tenant) -> list[int]:
    """Primary keys of the rows the victim's partner owns, in every portal model (the first few of each)."""
    ids: set[int] = set()
    for app_label in PORTAL_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if hasattr(model.objects, "for_partner"):
                pks = model.objects.for_partner(victim.partner).order_by("pk").values_list("pk", flat=True)
                ids.update(pks[:IDS_PER_MODEL])
    return sorted(ids)


def _align_id_sequences() -> None:
    """Start the id sequence of every portal table at one common value (PostgreSQL).

    The rows created next then share a few id values across tables, so trying one id tries a row of
    every table: the walk needs a handful of ids per route instead of one per row of the database.
    Sequences only move forward, so no id is ever reused.
    """
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for label in PORTAL_APPS for m in apps.get_app_config(label).get_models()]
    with connection.cursor() as cursor:
        sequences = []
        for table in tables:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            if sequence:
                sequences.append(sequence)
        start = 1
        for sequence in sequences:
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608 - names from the catalogue
            start = max(start, cursor.fetchone()[0] + 1)
        for sequence in sequences:
            cursor.execute("SELECT setval(%s, %s, false)", [sequence, start])


def _fill(route: Route, value: object) -> str:
    values = {k: (value if ID_KWARG.search(k) else "x") for k in route.kwargs}
    values.setdefault("format", "json")
    if "format" in route.kwargs:
        values["format"] = "json"
    return route.template.format(**values)


def _populate(victim: Tenant) -> None:
    """A row of every kind the victim owns, so that every object route has an id to try."""
    _align_id_sequences()
    audit_record(partner=victim.partner, actor=victim.admin, action="customer.updated", target=victim.customer)
    invoice = issued(victim.customer)
    payment_record(
        partner=victim.partner,
        customer=victim.customer,
        actor=None,
        amount=Decimal("100.00"),
        received_on=invoice.issue_date,
    )
    credit_note_issue(invoice=invoice, actor=None, amount=Decimal("10.00"), reason="Goodwill")
    draft(victim.customer)
    # Collections: the policy, a run and its notice (the invoice is a week overdue on the run's date).
    collections_run(partner=victim.partner, run_date=invoice.due_date + dt.timedelta(days=7))
    ExportJob.objects.create(partner=victim.partner, requested_by=victim.finance, total=1)
    rows = [nce_row(customer_id=str(victim.customer.tenant_id), customer_name=victim.customer.name),
            nce_row(customer_id="00000000-0000-4000-8000-0000000000ff", customer_name="Unmatched Ltd")]  # fmt: skip
    reconciliation_import_create(
        partner=victim.partner,
        actor=victim.finance,
        file_name="recon.csv",
        content=csv_bytes(NEW_COMMERCE_HEADER, rows),
        period="2026-11",
    )
    invitation_create(
        partner=victim.partner,
        actor=victim.admin,
        request=InvitationRequest(email="invited@victim.example", role="customer_member", customer=victim.customer),
        base_url="http://testserver/",
    )
    # Subscriptions: a suspension waiting for Microsoft (change + history), an Azure plan step, credentials.
    from subscriptions.services import partner_center_account_set, subscription_suspend

    subscription_suspend(subscription=SubscriptionFactory(customer=victim.customer), reason="Overdue", actor=None)
    subscription_suspend(subscription=azure_plan(customer=victim.customer), reason="Overdue", actor=victim.finance)
    partner_center_account_set(
        partner=victim.partner, actor=victim.admin, aad_tenant_id=victim.customer.tenant_id,
        application_id=victim.other_customer.tenant_id, secret="victim-secret",
    )  # fmt: skip
    from subscriptions.models import PartnerCenterSync, Subscription

    sync = PartnerCenterSync.objects.create(
        partner=victim.partner, requested_by=victim.admin, status="done", total=2, done=2
    )
    from subscriptions.models import SubscriptionDifference

    SubscriptionDifference.objects.create(
        partner=victim.partner, subscription=Subscription.objects.filter(partner=victim.partner).first(), sync=sync,
        field="quantity", portal_value="10", microsoft_value="12",
    )  # fmt: skip
    # Escalation: an entitlement, an escalation of a technical ticket, a breach notice.
    from escalation.models import BreachNotice
    from tests.factories.escalation import entitlement as escalation_entitlement
    from tests.factories.escalation import escalated

    escalation_entitlement(victim.partner, "premier", (dt.date(2020, 1, 1), None))
    escalation = escalated(victim.customer, category="technical", actor=victim.agent)
    BreachNotice.objects.create(partner=victim.partner, ticket=escalation.ticket, kind="resolution")
    # Tickets: the offering with a holiday, a ticket with a file, a reply and an internal note with files,
    # billed time and a per-incident charge. Rows made directly where a service would add audit events:
    # every extra primary key value multiplies the walk.
    from tests.factories.tickets import offering as support_offering
    from tests.factories.tickets import ticket as support_ticket
    from tests.factories.tickets import upload
    from tickets.models import IncidentCharge, TicketMessage, TimeEntry
    from tickets.services import attachment_store

    support_offering(victim.partner, holidays={dt.date(2026, 12, 25): "Victim Holiday"})
    victim_ticket = support_ticket(
        victim.customer, opened_by=victim.customer_admin, files=[upload()], invoices=[invoice]
    )
    for body, internal in (("Victim reply", False), ("Victim note", True)):
        message = TicketMessage.objects.create(
            partner=victim.partner, ticket=victim_ticket, author=victim.agent, body=body, internal=internal
        )
        attachment_store(ticket=victim_ticket, message=message, upload=upload(), uploaded_by=victim.agent)
    TimeEntry.objects.create(
        partner=victim.partner, ticket=victim_ticket, agent=victim.agent, minutes=30, worked_on=dt.date(2026, 11, 2),
        billed_invoice=invoice, invoice_line=invoice.lines.first(),
    )  # fmt: skip
    IncidentCharge.objects.create(
        partner=victim.partner, ticket=victim_ticket, amount=Decimal("50.00"), period="2026-11"
    )
    # Support plans: a plan (its description names the customer, so a leak shows) with SLA targets, the
    # customer on it, its fee billed, and an offering target for one product family.
    from tickets.models import CustomerSupportPlan, PlanCharge, SlaTarget, SupportPlan

    victim_plan = SupportPlan.objects.create(
        partner=victim.partner, name="Victim Plan", description=f"For {victim.customer.name}", price_model="monthly",
        monthly_fee=Decimal("99.00"),
    )  # fmt: skip
    SlaTarget.objects.create(
        partner=victim.partner, plan=victim_plan, severity="A", first_response_minutes=15, resolution_minutes=60
    )
    SlaTarget.objects.create(
        partner=victim.partner, offering=victim_ticket.partner.support_offering, severity="B",
        product_family="azure", first_response_minutes=30, resolution_minutes=90,
    )  # fmt: skip
    CustomerSupportPlan.objects.create(partner=victim.partner, customer=victim.customer, plan=victim_plan)
    PlanCharge.objects.create(
        partner=victim.partner, customer=victim.customer, plan=victim_plan, period="2026-11", kind="fee",
        quantity=Decimal(1), unit_price=Decimal("99.00"), invoice=invoice, invoice_line=invoice.lines.first(),
    )  # fmt: skip


def _text(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _snapshot(victim: Tenant) -> list[dict]:
    rows: list[dict] = []
    for app_label in PORTAL_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if hasattr(model.objects, "for_partner"):
                rows += list(model.objects.for_partner(victim.partner).order_by("pk").values())
    return rows


def _walk(requester: User, victim: Tenant, markers: set[str], target_ids: list[int]) -> list[str]:
    before = _snapshot(victim)
    client = Client()
    client.force_login(requester)
    problems: list[str] = []
    for route in all_routes():
        if route.name in PUBLIC_BY_DESIGN:
            continue
        id_kwargs = [k for k in route.kwargs if ID_KWARG.search(k)]
        values: list[object] = (target_ids[:1] if route.is_admin else target_ids) if id_kwargs else [None]
        for value in values:
            url = _fill(route, value)
            response = client.get(url, HTTP_ACCEPT="text/html,application/json")
            body = _text(response) if response.status_code == 200 else ""
            leaked = sorted(m for m in markers if m in body)
            if leaked:
                problems.append(f"GET {url} ({route.name}) showed {leaked}")
            if id_kwargs and not MUTATING_WITHOUT_OBJECT.match(url):
                for method in route.write_methods:
                    answer = getattr(client, method)(url, data={"name": "Hijacked"}, content_type="application/json")
                    text = _text(answer)
                    leaked = sorted(m for m in markers if m in text)
                    if leaked:
                        problems.append(f"{method.upper()} {url} ({route.name}) showed {leaked}")
        # The session may have been ended by a walked route; sign in again for the next one.
        client.force_login(requester)
    if _snapshot(victim) != before:
        problems.append("a victim row changed")
    return problems


def test_every_route_is_walked() -> None:
    routes = all_routes()
    names = {r.name for r in routes}
    # The portal's own object routes are among them (a broken walker would silently test nothing).
    assert {"customer_detail", "customer_edit", "customer_invite", "v1:customer-detail"} <= names
    assert {"support_plan_list", "support_plan_edit", "customer_support_plan", "v1:support-plan-detail",
            "v1:customer-support-plan"} <= names  # fmt: skip
    assert any(r.template == "/staff/customers/{pk}/" for r in routes)
    assert any(r.template.startswith("/api/v1/customers/{pk}") for r in routes)


@pytest.mark.parametrize("role", ["admin", "finance", "agent", "customer_admin"])
def test_a_user_of_another_partner_sees_no_foreign_row(tenant: Tenant, other_tenant: Tenant, role: str) -> None:
    _populate(tenant)
    markers = _victim_markers(tenant, include_staff=True)
    ids = _victim_ids(tenant)
    assert tenant.customer.pk in ids
    assert _walk(getattr(other_tenant, role), tenant, markers, ids) == []


def test_a_user_of_another_customer_sees_no_foreign_row(tenant: Tenant, other_tenant: Tenant) -> None:
    _populate(tenant)
    # The victim is a sibling customer of the same partner, plus everything of the other partner.
    markers = _victim_markers(tenant, include_staff=False) | _victim_markers(other_tenant, include_staff=True)
    ids = [
        tenant.customer.pk,
        *Invitation.objects.for_customer(tenant.customer).values_list("pk", flat=True),
        *tenant.customer.memberships.values_list("pk", flat=True),
        *_victim_ids(other_tenant),
    ]
    assert _walk(tenant.other_customer_admin, tenant, markers, ids) == []


def test_the_walk_would_catch_a_leak(tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoping switched off, the walk reports foreign rows: proof that it can fail."""
    from partner_portal.tenancy import TenantQuerySet

    monkeypatch.setattr(TenantQuerySet, "for_scope", lambda self, scope: self.all())
    problems = _walk(other_tenant.admin, tenant, _victim_markers(tenant, include_staff=True), [tenant.customer.pk])
    assert any("(customer_detail)" in p for p in problems)
    assert any("GET /api/v1/customers/ " in p for p in problems)
    assert "a victim row changed" in problems  # the PATCH through the API renamed it
