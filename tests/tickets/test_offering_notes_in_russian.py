"""Partners write their notes for customers in both languages; each customer reads its own."""

from __future__ import annotations

import pytest
from django.core import mail

from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.tickets import ticket
from tickets.services import OfferingInput, support_offering_update

pytestmark = pytest.mark.django_db
NOTES = "For severity A outside business hours, call +44 20 7946 0000."
NOTES_RU = "По критическим обращениям в нерабочее время звоните +44 20 7946 0000."


def _offering(tenant: Tenant, notes_ru: str = NOTES_RU) -> None:
    support_offering_update(
        partner=tenant.partner,
        actor=tenant.admin,
        data=OfferingInput(
            time_zone="UTC", hours={"mon": [["09:00", "18:00"]]}, contact_email="support@alpha.example",
            contact_notes=NOTES, contact_notes_ru=notes_ru,
        ),
    )  # fmt: skip


def test_each_customer_reads_the_notes_in_its_language(tenant: Tenant, client_for) -> None:
    _offering(tenant)
    english = client_for(tenant.customer_admin).get("/my/support/").content.decode()
    assert NOTES in english
    assert NOTES_RU not in english
    tenant.customer_member.language = "ru"
    tenant.customer_member.save(update_fields=["language"])
    russian = client_for(tenant.customer_member).get("/my/support/").content.decode()
    assert NOTES_RU in russian
    assert NOTES not in russian


def test_without_a_russian_text_russian_readers_get_the_notes_as_written(tenant: Tenant, client_for) -> None:
    _offering(tenant, notes_ru="")
    tenant.customer_member.language = "ru"
    tenant.customer_member.save(update_fields=["language"])
    assert NOTES in client_for(tenant.customer_member).get("/my/support/").content.decode()


def test_the_email_to_a_russian_customer_carries_the_russian_notes(tenant: Tenant, on_commit) -> None:
    _offering(tenant)
    tenant.customer.language = "ru"
    tenant.customer.save(update_fields=["language"])
    mail.outbox.clear()
    with on_commit():  # the acknowledgement of a new request carries the offering
        ticket(tenant.customer, opened_by=tenant.customer_admin)
    bodies = [m.body for m in mail.outbox if tenant.customer_admin.email in m.to]
    assert bodies
    assert NOTES_RU in bodies[0]


def test_the_notes_are_set_on_the_page_and_through_the_api_and_audited(tenant: Tenant, client_for, api_for) -> None:
    _offering(tenant)
    event = AuditEvent.objects.filter(action="support_offering.updated").latest("pk")
    assert NOTES_RU in str(event.data)  # what changed is in the audit log
    api = api_for(tenant.admin)
    body = api.get("/api/v1/support-offering/").json()
    assert body["contact_notes_ru"] == NOTES_RU
    body["contact_notes_ru"] = "Новый текст."
    assert api.put("/api/v1/support-offering/", body, format="json").status_code == 200
    page = client_for(tenant.admin).get("/staff/support/offering/").content.decode()
    assert "Новый текст." in page
