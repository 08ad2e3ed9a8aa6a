"""Entitlements: recorded, corrected and ended by partner admins (pages and API), validated, audited."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.errors import EntitlementInvalid
from escalation.models import Entitlement
from escalation.services import EntitlementInput, entitlement_create, entitlement_end, entitlement_update
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.escalation import CURRENT, entitlement, legacy_entitlement

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _clock():
    with clock.frozen(TODAY):
        yield


def test_create_is_audited(tenant: Tenant) -> None:
    e = entitlement_create(
        partner=tenant.partner, actor=tenant.admin,
        data=EntitlementInput(kind="premier", valid_from=dt.date(2026, 1, 1), reference=" PSfP-1 ", preference=1),
    )  # fmt: skip
    assert (e.kind_id, e.reference, e.valid_until, e.preference, e.created_by) == (
        "premier",
        "PSfP-1",
        None,
        1,
        tenant.admin,
    )
    event = AuditEvent.objects.get(action="entitlement.created")
    assert event.data["kind"] == "premier"
    assert event.actor == tenant.admin


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            EntitlementInput(kind="bronze", valid_from=TODAY),
            "Unknown entitlement type. Choose one of: Premier Support for Partners contract, Advanced Support for "
            "Partners contract, Unified Support contract, Solutions Partner benefit incidents.",
        ),
        (
            EntitlementInput(kind="gold", valid_from=TODAY),
            "Gold competency is retired: Microsoft no longer offers it. Choose one of: Premier Support for Partners "
            "contract, Advanced Support for Partners contract, Unified Support contract, Solutions Partner benefit "
            "incidents.",
        ),
        (EntitlementInput(kind="silver", valid_from=dt.date(2022, 1, 1)), "Silver competency is retired"),
        (
            EntitlementInput(kind="advanced", valid_from=TODAY, valid_until=TODAY - dt.timedelta(days=1)),
            "before its start",
        ),
        (EntitlementInput(kind="premier", valid_from=TODAY, preference=0), "from 1 to 1000"),
    ],
)
def test_bad_input_is_refused(tenant: Tenant, data: EntitlementInput, message: str) -> None:
    with pytest.raises(EntitlementInvalid, match=message):
        entitlement_create(partner=tenant.partner, actor=tenant.admin, data=data)
    assert not Entitlement.objects.exists()


def test_the_same_kind_cannot_overlap(tenant: Tenant, other_tenant: Tenant) -> None:
    entitlement(tenant.partner, "advanced", (dt.date(2026, 1, 1), dt.date(2026, 6, 30)))
    with pytest.raises(EntitlementInvalid, match="already recorded for part of this period"):
        entitlement(tenant.partner, "advanced", (dt.date(2026, 6, 30), None))
    entitlement(tenant.partner, "advanced", (dt.date(2026, 7, 1), None))  # the day after: fine
    entitlement(tenant.partner, "premier", CURRENT)  # another kind: fine
    entitlement(other_tenant.partner, "advanced", CURRENT)  # another partner: fine
    assert Entitlement.objects.for_partner(tenant.partner).count() == 3


def test_update_records_what_changed(tenant: Tenant) -> None:
    e = entitlement(tenant.partner, "advanced")
    entitlement_update(
        entitlement=e, actor=tenant.admin,
        data=EntitlementInput(kind="advanced", valid_from=CURRENT[0], valid_until=CURRENT[1], preference=5),
    )  # fmt: skip
    event = AuditEvent.objects.get(action="entitlement.updated")
    assert event.data == {"changes": {"preference": [100, 5]}}


def test_end_shortens_and_stops_routing_the_next_day(tenant: Tenant) -> None:
    e = entitlement(tenant.partner, "premier", (dt.date(2026, 1, 1), None))
    entitlement_end(entitlement=e, actor=tenant.admin, last_day=TODAY)
    e.refresh_from_db()
    assert e.valid_until == TODAY
    assert AuditEvent.objects.get(action="entitlement.ended").data == {"valid_until": [None, "2026-11-26"]}
    assert list(Entitlement.objects.valid_on(TODAY)) == [e]
    assert list(Entitlement.objects.valid_on(TODAY + dt.timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("last_day", "message"), [(dt.date(2025, 12, 31), "cannot be before"), (dt.date(2027, 1, 1), "already ends")]
)
def test_end_cannot_move_outside_the_period(tenant: Tenant, last_day: dt.date, message: str) -> None:
    e = entitlement(tenant.partner, "premier", CURRENT)
    with pytest.raises(EntitlementInvalid, match=message):
        entitlement_end(entitlement=e, actor=tenant.admin, last_day=last_day)
    e.refresh_from_db()
    assert e.valid_until == CURRENT[1]


# ---- API ---------------------------------------------------------------------------------------


def test_api_list_and_create(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    entitlement(other_tenant.partner, "premier")
    api = api_for(tenant.admin)
    created = api.post(
        "/api/v1/entitlements/", {"tier": "premier", "valid_from": "2026-01-01", "valid_until": "2026-12-31"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["tier"], body["valid_from"], body["valid_until"], body["state"]) == (
        "premier",
        "premier",
        "2026-01-01",
        "2026-12-31",
        "active",
    )
    advanced = api.post("/api/v1/entitlements/", {"kind": "advanced", "valid_from": "2027-01-01"})
    assert (advanced.status_code, advanced.json()["tier"], advanced.json()["state"]) == (201, "advanced", "future")
    listed = api.get("/api/v1/entitlements/").json()
    assert [(e["kind"], e["state"]) for e in listed] == [("premier", "active"), ("advanced", "future")]


@pytest.mark.parametrize("kind", ["gold", "silver"])
def test_api_refuses_retired_kinds_and_still_shows_old_ones(tenant: Tenant, api_for, kind: str) -> None:
    old = legacy_entitlement(tenant.partner, kind, (dt.date(2021, 1, 1), dt.date(2022, 9, 30)))
    api = api_for(tenant.admin)
    refused = api.post("/api/v1/entitlements/", {"kind": kind, "valid_from": "2026-01-01"})
    assert (refused.status_code, refused.json()["code"]) == (400, "entitlement_invalid")
    assert refused.json()["detail"].startswith(f"{kind.capitalize()} competency is retired")
    listed = api.get("/api/v1/entitlements/").json()
    assert [(e["id"], e["kind"], e["tier"], e["state"]) for e in listed] == [(old.pk, kind, "signature_cloud", "ended")]
    # Correcting an old one's reference keeps its kind; changing another entitlement to it is refused.
    assert api.patch(f"/api/v1/entitlements/{old.pk}/", {"reference": "G-1"}).status_code == 200
    premier = entitlement(tenant.partner, "premier")
    assert api.patch(f"/api/v1/entitlements/{premier.pk}/", {"kind": kind}).status_code == 400
    assert Entitlement.objects.filter(kind=kind).count() == 1


def test_the_entitlement_page_refuses_a_retired_kind(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).post(
        "/staff/escalation/entitlements/new/", {"kind": "gold", "valid_from": "2026-01-01", "preference": "100"}
    )
    assert response.status_code == 400
    assert "Gold competency is retired" in response.content.decode()
    assert not Entitlement.objects.exists()


def test_api_refuses_bad_input_with_json_errors(tenant: Tenant, api_for) -> None:
    api = api_for(tenant.admin)
    assert api.post("/api/v1/entitlements/", {"kind": "bronze", "valid_from": "2026-01-01"}).json()[
        "fields"
    ].keys() == {"kind"}
    bad = api.post(
        "/api/v1/entitlements/", {"kind": "premier", "valid_from": "2026-05-01", "valid_until": "2026-01-01"}
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": "The end of validity cannot be before its start.",
        "code": "entitlement_invalid",
        "fields": {},
    }
    assert api.post("/api/v1/entitlements/", {"valid_from": "2026-01-01"}).status_code == 400
    assert not Entitlement.objects.exists()


def test_api_patch_ends_an_entitlement(tenant: Tenant, api_for) -> None:
    e = entitlement(tenant.partner, "advanced", (dt.date(2026, 1, 1), None))
    response = api_for(tenant.admin).patch(f"/api/v1/entitlements/{e.pk}/", {"valid_until": "2026-11-30"})
    assert response.status_code == 200, response.content
    e.refresh_from_db()
    assert e.valid_until == dt.date(2026, 11, 30)


@pytest.mark.parametrize("role", ["agent", "finance"])
def test_only_admins_write_entitlements_through_the_api(tenant: Tenant, api_for, role: str) -> None:
    api = api_for(getattr(tenant, role))
    assert api.get("/api/v1/entitlements/").status_code == 200
    assert api.post("/api/v1/entitlements/", {"kind": "premier", "valid_from": "2026-01-01"}).status_code == 403
    assert not Entitlement.objects.exists()


@pytest.mark.parametrize("role", ["customer_admin", "customer_member"])
def test_customers_cannot_see_entitlements(tenant: Tenant, api_for, client_for, role: str) -> None:
    e = entitlement(tenant.partner, "premier")
    user = getattr(tenant, role)
    assert api_for(user).get("/api/v1/entitlements/").status_code == 403
    assert api_for(user).get(f"/api/v1/entitlements/{e.pk}/").status_code == 403
    assert client_for(user).get("/staff/escalation/entitlements/").status_code == 403


def test_another_partners_entitlement_is_404(tenant: Tenant, other_tenant: Tenant, api_for, client_for) -> None:
    e = entitlement(other_tenant.partner, "premier")
    assert api_for(tenant.admin).get(f"/api/v1/entitlements/{e.pk}/").status_code == 404
    assert api_for(tenant.admin).patch(f"/api/v1/entitlements/{e.pk}/", {"preference": 1}).status_code == 404
    assert client_for(tenant.admin).get(f"/staff/escalation/entitlements/{e.pk}/edit/").status_code == 404
    assert (
        client_for(tenant.admin)
        .post(f"/staff/escalation/entitlements/{e.pk}/end/", {"last_day": "2026-11-26"})
        .status_code
        == 404
    )
    e.refresh_from_db()
    assert (e.preference, e.valid_until) == (100, CURRENT[1])


# ---- Pages -------------------------------------------------------------------------------------


def test_the_list_shows_states_and_todays_technical_route(
    tenant: Tenant, client_for, django_assert_max_num_queries
) -> None:
    entitlement(
        tenant.partner, "premier", (dt.date(2025, 1, 1), dt.date(2025, 12, 31)), preference=1, reference="PSfP-OLD"
    )
    legacy_entitlement(tenant.partner, "silver", CURRENT)  # Signature Cloud has ended: never today's route
    entitlement(tenant.partner, "advanced", CURRENT, preference=2)
    client = client_for(tenant.admin)
    with django_assert_max_num_queries(12):
        page = client.get("/staff/escalation/entitlements/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "PSfP-OLD" in html
    assert "Ended" in html
    assert "Valid" in html
    assert "Today, technical tickets are escalated to Advanced Support for Partners." in html
    assert "Record entitlement" in html


def test_without_entitlements_the_list_says_what_is_needed(tenant: Tenant, client_for) -> None:
    html = client_for(tenant.agent).get("/staff/escalation/entitlements/").content.decode()
    assert "Premier or Advanced Support for Partners contract (Gold and Silver competencies" in html
    assert "Record entitlement" not in html  # agents read, admins manage


def test_admin_records_edits_and_ends_through_the_pages(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.admin)
    assert client.get("/staff/escalation/entitlements/new/").status_code == 200
    response = client.post(
        "/staff/escalation/entitlements/new/",
        {"kind": "advanced", "reference": "ASfP-9", "valid_from": "2026-02-01", "valid_until": "", "preference": "3"},
    )
    assert response.status_code == 302
    e = Entitlement.objects.get()
    assert (e.kind_id, e.reference, e.valid_until, e.preference) == ("advanced", "ASfP-9", None, 3)
    response = client.post(
        f"/staff/escalation/entitlements/{e.pk}/edit/",
        {"kind": "advanced", "reference": "ASfP-9b", "valid_from": "2026-02-01", "valid_until": "", "preference": "2"},
    )
    assert response.status_code == 302
    assert client.get(f"/staff/escalation/entitlements/{e.pk}/end/").status_code == 200
    assert client.post(f"/staff/escalation/entitlements/{e.pk}/end/", {"last_day": "2026-01-01"}).status_code == 400
    assert client.post(f"/staff/escalation/entitlements/{e.pk}/end/", {"last_day": "2026-11-26"}).status_code == 302
    e.refresh_from_db()
    assert (e.reference, e.preference, e.valid_until) == ("ASfP-9b", 2, TODAY)
    assert list(
        AuditEvent.objects.filter(action__startswith="entitlement.").values_list("action", flat=True).order_by("pk")
    ) == ["entitlement.created", "entitlement.updated", "entitlement.ended"]


def test_an_overlapping_entitlement_shows_the_reason(tenant: Tenant, client_for) -> None:
    entitlement(tenant.partner, "advanced")
    response = client_for(tenant.admin).post(
        "/staff/escalation/entitlements/new/", {"kind": "advanced", "valid_from": "2026-03-01", "preference": "1"}
    )
    assert response.status_code == 400
    assert "already recorded for part of this period" in response.content.decode()
    assert Entitlement.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "finance"])
def test_only_admins_open_the_entitlement_forms(tenant: Tenant, client_for, role: str) -> None:
    e = entitlement(tenant.partner, "premier")
    client = client_for(getattr(tenant, role))
    assert client.get("/staff/escalation/entitlements/").status_code == 200
    assert client.get("/staff/escalation/entitlements/new/").status_code == 403
    assert client.post(f"/staff/escalation/entitlements/{e.pk}/end/", {"last_day": "2026-11-26"}).status_code == 403
    e.refresh_from_db()
    assert e.valid_until == CURRENT[1]


def test_the_tier_catalogue_page(tenant: Tenant, client_for) -> None:
    html = client_for(tenant.finance).get("/staff/escalation/tiers/").content.decode()
    for name in (
        "Business support",
        "Premier Support for Partners",
        "Advanced Support for Partners",
        "Signature Cloud Support",
    ):
        assert name in html
    assert "Gold or Silver competency" in html
    assert "Partner Center" in html
    assert client_for(tenant.customer_admin).get("/staff/escalation/tiers/").status_code == 403


def test_api_records_a_unified_contract_that_opens_unified_support(tenant: Tenant, api_for) -> None:
    created = api_for(tenant.admin).post("/api/v1/entitlements/", {"kind": "unified", "valid_from": "2026-01-01"})
    assert created.status_code == 201, created.content
    assert (created.json()["kind"], created.json()["tier"], created.json()["state"]) == ("unified", "unified", "active")


def test_api_records_counted_incidents_and_refuses_them_without_a_number(tenant: Tenant, api_for) -> None:
    api = api_for(tenant.admin)
    missing = api.post("/api/v1/entitlements/", {"kind": "solutions_partner_incidents", "valid_from": "2026-01-01"})
    assert (missing.status_code, missing.json()["detail"]) == (
        400,
        "Solutions Partner benefit incidents counts incidents: give how many remain, a number from 0 to 1000.",
    )
    created = api.post(
        "/api/v1/entitlements/",
        {"kind": "solutions_partner_incidents", "valid_from": "2026-01-01", "incidents_remaining": 5},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["tier"], body["incidents_remaining"]) == (
        "solutions_partner_incidents",
        "solutions_partner",
        5,
    )
    premier = api.post(
        "/api/v1/entitlements/", {"kind": "premier", "valid_from": "2026-01-01", "incidents_remaining": 5}
    )
    assert premier.json()["incidents_remaining"] is None  # not a counted kind


@pytest.mark.parametrize(
    ("left", "notice"),
    [
        (3, None),
        (2, "Incidents left: 2. Add incidents or record another entitlement before they run out."),
        (0, "All its incidents are used up: technical tickets are no longer routed through it."),
    ],
)
def test_the_list_warns_when_incidents_run_low_or_out(tenant: Tenant, client_for, left: int, notice) -> None:
    entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, incidents=left)
    html = client_for(tenant.agent).get("/staff/escalation/entitlements/").content.decode()
    assert f"Incidents remaining: {left}" in html
    assert (notice in html) if notice else ('data-testid="incidents-notice"' not in html)
