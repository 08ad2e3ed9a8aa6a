"""Tenant isolation across the whole URL map.

Every URL pattern and API route is requested by a user of another partner and by a user of another
customer, with the ids of every row of the victim filled in, by GET and by each writing method. No
answer may contain a name, email or tenant ID of the victim, and no victim row may change. (Ids of
different tables overlap, so a foreign id can be the requester's own row of another model: what
counts is that nothing foreign is shown or changed.) New URL patterns are walked automatically.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client

from partner_portal.models import Invitation, User
from tests.conftest import Tenant
from tests.routes import ID_KWARG, PORTAL_APPS, Route, all_routes, populate

pytestmark = pytest.mark.django_db

# Routes reachable by design without a scope, and why they cannot leak a tenant's rows.
PUBLIC_BY_DESIGN = {
    "invitation_accept": "the token in the link is the secret; without it the page is 404",
}
# Requests that would end the requester's session; they are walked with GET only, which is harmless.
MUTATING_WITHOUT_OBJECT = re.compile(r"^/(accounts|i18n)/")
# Ids tried per model: the victim's first rows of each table. With the tables' id sequences aligned
# (tests.routes.align_id_sequences) these are a few shared values, each naming a row in every table.
IDS_PER_MODEL = 8
# Counters that a permitted read moves by design, left out of the "no victim row changed" check: a sibling
# customer of the same partner reads the partner's published knowledge base articles, and each read counts.
READ_COUNTERS = {"tickets.article": {"view_count"}}


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


def _fill(route: Route, value: object) -> str:
    values = {k: (value if ID_KWARG.search(k) else "x") for k in route.kwargs}
    values.setdefault("format", "json")
    if "format" in route.kwargs:
        values["format"] = "json"
    return route.template.format(**values)


def _text(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _snapshot(victim: Tenant) -> list[dict]:
    rows: list[dict] = []
    for app_label in PORTAL_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if hasattr(model.objects, "for_partner"):
                skip = READ_COUNTERS.get(model._meta.label_lower, set())
                values = model.objects.for_partner(victim.partner).order_by("pk").values()
                rows += [{k: v for k, v in row.items() if k not in skip} for row in values]
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
    assert {
        "payment_detail",
        "payment_void",
        "refund_create",
        "payable_choose",
        "v1:payment-void",
        "v1:payment-refunds",
    } <= names
    assert {"support_plan_list", "support_plan_edit", "customer_support_plan", "v1:support-plan-detail",
            "v1:customer-support-plan"} <= names  # fmt: skip
    assert {"canned_reply_list", "canned_reply_edit", "canned_reply_delete", "ticket_canned_reply"} <= names
    assert {"knowledge_article_edit", "knowledge_article_publish", "knowledge_article_delete",
            "customer_knowledge_article", "customer_knowledge_suggest"} <= names  # fmt: skip
    assert any(r.template == "/staff/customers/{pk}/" for r in routes)
    assert any(r.template.startswith("/api/v1/customers/{pk}") for r in routes)


@pytest.mark.parametrize("role", ["admin", "finance", "agent", "customer_admin"])
def test_a_user_of_another_partner_sees_no_foreign_row(tenant: Tenant, other_tenant: Tenant, role: str) -> None:
    populate(tenant)
    markers = _victim_markers(tenant, include_staff=True)
    ids = _victim_ids(tenant)
    assert tenant.customer.pk in ids
    assert _walk(getattr(other_tenant, role), tenant, markers, ids) == []


def test_a_user_of_another_customer_sees_no_foreign_row(tenant: Tenant, other_tenant: Tenant) -> None:
    populate(tenant)
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
