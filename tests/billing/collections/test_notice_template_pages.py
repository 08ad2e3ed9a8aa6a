"""The notice wording pages and the dry run page: what each role may do, the preview on real figures,
the test send, reset, and that nobody reaches another partner's steps or customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core import mail

from billing.collections.models import CollectionRun, CollectionStep, Notice, NoticeTemplate
from billing.collections.services import collection_policy_get
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.factories.collections import invoice_due

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 8)
DUE = dt.date(2026, 12, 1)  # a week overdue today: the +7 reminder is due
LIST = "/staff/collections/notices/wording/"
DRY_RUN = "/staff/collections/runs/dry-run/"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen(dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)):
        yield


def _step(tenant, offset: int) -> CollectionStep:
    return collection_policy_get(partner=tenant.partner).steps.get(offset_days=offset)


def _edit(step: CollectionStep) -> str:
    return f"/staff/collections/notices/wording/{step.pk}/"


def _post(tenant, do: str, **changes: str) -> dict[str, str]:
    data = {
        "subject_en": "Still open: {{ invoice_number }}",
        "body_en": "Hello {{ contact_name }}, {{ amount_due }} is {{ days_overdue }} days late.",
        "subject_ru": "Не оплачен: {{ invoice_number }}",
        "body_ru": "Здравствуйте, {{ contact_name }}! К оплате {{ amount_due }}.",
        "customer": str(tenant.customer.pk),
        "language": "en",
        "do": do,
    }
    return {**data, **changes}


def test_every_staff_role_reads_the_wording_and_customers_do_not(tenant, client_for) -> None:
    for user in (tenant.admin, tenant.finance, tenant.agent):
        html = client_for(user).get(LIST).content.decode()
        assert html.count("Built-in") == 6  # the default policy's six steps
    assert client_for(tenant.customer_admin).get(LIST).status_code == 403


def test_the_editor_starts_from_the_built_in_wording_and_previews_a_real_invoice(tenant, client_for) -> None:
    invoice = invoice_due(tenant.customer, DUE, "250.00")
    response = client_for(tenant.agent).get(_edit(_step(tenant, 7)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Reminder: invoice {{ invoice_number }} is overdue" in html
    assert "Напоминание: счёт {{ invoice_number }} просрочен" in html
    assert f"Reminder: invoice {invoice.number} is overdue</span>" in html  # the preview, built-in email
    assert "{{ pay_url }}" in html  # the variables are listed


def test_an_unknown_variable_is_a_field_error_and_nothing_is_saved(tenant, client_for) -> None:
    invoice_due(tenant.customer, DUE, "250.00")
    step = _step(tenant, 7)
    response = client_for(tenant.admin).post(_edit(step), _post(tenant, "save", body_en="Hi {{ customer.email }}"))
    assert response.status_code == 400
    assert "Unknown variable {{ customer.email }}." in response.content.decode()
    assert NoticeTemplate.objects.count() == 0


def test_an_admin_saves_previews_a_draft_tests_and_resets(tenant, client_for) -> None:
    invoice = invoice_due(tenant.customer, DUE, "250.00")
    step = _step(tenant, 7)
    client = client_for(tenant.admin)

    preview = client.post(_edit(step), _post(tenant, "preview")).content.decode()
    assert f"Still open: {invoice.number}</span>" in preview
    assert "Hello Alpha Customer One, 250.00\xa0USD is 7 days late." in preview
    assert NoticeTemplate.objects.count() == 0  # a preview saves nothing

    client.post(_edit(step), _post(tenant, "test", language="ru"))
    [message] = mail.outbox
    assert (message.to, message.subject) == ([tenant.admin.email], f"[Тест] Не оплачен: {invoice.number}")
    assert AuditEvent.objects.filter(action="collections.notice_template_test_sent").count() == 1

    saved = client.post(_edit(step), _post(tenant, "save"))
    assert saved.status_code == 302
    template = NoticeTemplate.objects.get(partner=tenant.partner, offset_days=7, action="remind")
    assert template.subject_en == "Still open: {{ invoice_number }}"
    assert client.get(LIST).content.decode().count("Your own") == 1

    client.post(_edit(step), {"do": "reset"})
    assert NoticeTemplate.objects.count() == 0


def test_finance_and_agents_cannot_change_or_test_the_wording(tenant, client_for) -> None:
    invoice_due(tenant.customer, DUE, "250.00")
    step = _step(tenant, 7)
    for user in (tenant.finance, tenant.agent):
        for do in ("save", "test", "preview"):
            assert client_for(user).post(_edit(step), _post(tenant, do)).status_code == 403
    assert (NoticeTemplate.objects.count(), len(mail.outbox)) == (0, 0)


def test_another_partners_step_and_customer_are_not_found(tenant, other_tenant, client_for) -> None:
    invoice_due(other_tenant.customer, DUE, "250.00")
    foreign_step = _step(other_tenant, 7)
    client = client_for(tenant.admin)
    assert client.get(_edit(foreign_step)).status_code == 404
    assert client.post(_edit(foreign_step), _post(tenant, "save")).status_code == 404
    own = _step(tenant, 7)
    for do in ("test", "preview"):
        response = client.post(_edit(own), _post(tenant, do, customer=str(other_tenant.customer.pk)))
        assert other_tenant.customer.name not in response.content.decode()
    response = client.get(_edit(own), {"customer": other_tenant.customer.pk, "language": "en"})
    assert response.status_code == 200
    assert other_tenant.customer.name not in response.content.decode()
    assert len(mail.outbox) == 0
    assert NoticeTemplate.objects.count() == 0


def test_the_dry_run_page_lists_the_next_runs_notices_and_keeps_nothing(tenant, client_for) -> None:
    invoice = invoice_due(tenant.customer, DUE, "250.00")
    response = client_for(tenant.finance).get(DRY_RUN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 notice, 0 suspensions, 0 reactivations." in html
    assert invoice.number in html
    assert (Notice.objects.count(), CollectionRun.objects.count(), len(mail.outbox)) == (0, 0, 0)
    assert client_for(tenant.agent).get(DRY_RUN).status_code == 403
    assert client_for(tenant.customer_admin).get(DRY_RUN).status_code == 403


def test_the_dry_run_of_another_date_and_after_todays_run(tenant, client_for, other_tenant) -> None:
    invoice_due(tenant.customer, DUE, "250.00")
    invoice_due(other_tenant.customer, DUE, "999.00")
    client = client_for(tenant.admin)
    assert "1 notice," in client.get(DRY_RUN, {"date": "2026-12-22"}).content.decode()  # the final notice
    html = client.get(DRY_RUN, {"date": "2026-12-22"}).content.decode()
    assert other_tenant.customer.name not in html
