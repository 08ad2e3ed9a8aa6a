"""The sync from Partner Center as a job: queued from the account page, one at a time per partner,
claimed by one worker, with progress for the page's bar; the nightly beat job and the command."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from partner_portal import clock
from partner_portal.models import AuditEvent, Customer
from subscriptions.models import PartnerCenterSync, Subscription
from subscriptions.services import (
    partner_center_sync_request,
    partner_center_sync_run,
    partner_center_syncs_run,
)
from subscriptions.services import sync as sync_module
from subscriptions.tasks import partner_center_syncs_run_task
from tests.conftest import Tenant
from tests.fakes import partner_center_shapes as shapes
from tests.fakes.partner_center import FakePartnerCenter

ACCOUNT = "/staff/subscriptions/partner-center/"
TENANTS = [f"5e5e5e5e-0000-4000-8000-00000000000{n}" for n in range(1, 4)]


def _microsoft(fake: FakePartnerCenter, tenant: Tenant) -> None:
    fake.connect(tenant.partner)
    for n, tid in enumerate(TENANTS, start=1):
        fake.add_customer(tid, f"Synced Customer {n}")
        fake.add_subscription(tid, f"sub-{n}-a", quantity=n)
        fake.add_subscription(tid, f"sub-{n}-b", status="suspended", quantity=1)


def test_the_button_queues_a_sync_that_onboards_the_partner(tenant: Tenant, partner_center, client_for, on_commit):
    _microsoft(partner_center, tenant)
    client = client_for(tenant.admin)
    page = client.get(ACCOUNT).content.decode()
    assert "Sync from Partner Center now" in page
    with on_commit():
        answer = client.post(f"{ACCOUNT}sync/")
    assert answer.status_code == 302
    sync = PartnerCenterSync.objects.get(partner=tenant.partner)
    assert (sync.status, sync.trigger, sync.requested_by, sync.done, sync.total, sync.percent) == (
        "done", "manual", tenant.admin, 3, 3, 100,
    )  # fmt: skip
    assert (sync.customers_created, sync.subscriptions_created, sync.subscriptions_updated) == (3, 6, 0)
    assert Customer.objects.filter(partner=tenant.partner, name__startswith="Synced Customer").count() == 3
    assert Subscription.objects.filter(partner=tenant.partner, status="suspended").count() == 3
    page = client.get(ACCOUNT).content.decode()
    assert "3 customers read: 3 customers and 6 subscriptions created, 0 subscriptions updated" in page
    assert AuditEvent.objects.filter(action="partner_center.sync_requested", actor=tenant.admin).count() == 1


def test_progress_moves_per_batch_and_the_status_answers_json(
    tenant: Tenant, partner_center, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    _microsoft(partner_center, tenant)
    monkeypatch.setattr(sync_module, "BATCH", 2)
    seen: list[tuple[int, int]] = []
    real = sync_module._batch_apply

    def spy(**kwargs):
        real(**kwargs)
        row = PartnerCenterSync.objects.get(partner=tenant.partner)
        seen.append((row.status, row.done, row.total))

    monkeypatch.setattr(sync_module, "_batch_apply", spy)
    sync = partner_center_sync_request(partner=tenant.partner, actor=tenant.admin)
    client = client_for(tenant.admin)
    status = client.get(f"{ACCOUNT}syncs/{sync.pk}/status/")
    assert status.json() == {"status": "pending", "status_label": "Waiting", "done": 0, "total": 0, "percent": 0}
    assert status["Cache-Control"] == "no-store"
    partner_center_sync_run(sync_id=sync.pk)
    # written 2 then 3 of 3; the row shows the previous batch while the next one is written
    assert seen == [("running", 0, 3), ("running", 2, 3)]
    assert client.get(f"{ACCOUNT}syncs/{sync.pk}/status/").json() == {
        "status": "done", "status_label": "Done", "done": 3, "total": 3, "percent": 100,
    }  # fmt: skip


def test_running_page_shows_the_progress_bar(tenant: Tenant, partner_center, client_for) -> None:
    partner_center.connect(tenant.partner)
    sync = PartnerCenterSync.objects.create(partner=tenant.partner, status="running", total=40, done=10)
    html = client_for(tenant.admin).get(ACCOUNT).content.decode()
    assert f'data-poll-url="/staff/subscriptions/partner-center/syncs/{sync.pk}/status/"' in html
    assert '<progress class="progress" max="100" value="25"' in html
    assert "Sync from Partner Center now" not in html  # one at a time


def test_one_sync_at_a_time_per_partner(tenant: Tenant, partner_center, on_commit) -> None:
    partner_center.connect(tenant.partner)
    first = partner_center_sync_request(partner=tenant.partner, actor=tenant.admin)
    second = partner_center_sync_request(partner=tenant.partner, actor=tenant.finance)
    assert second.pk == first.pk
    assert PartnerCenterSync.objects.filter(partner=tenant.partner).count() == 1
    # the database holds the rule too
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerCenterSync.objects.create(partner=tenant.partner)


def test_a_sync_runs_once_whoever_claims_it(tenant: Tenant, partner_center) -> None:
    _microsoft(partner_center, tenant)
    sync = partner_center_sync_request(partner=tenant.partner, actor=None)
    assert partner_center_sync_run(sync_id=sync.pk).status == "done"
    calls = len(partner_center.calls())
    again = partner_center_sync_run(sync_id=sync.pk)
    assert (again.status, len(partner_center.calls())) == ("done", calls)


def test_a_second_sync_changes_nothing_and_a_stale_one_is_released(tenant: Tenant, partner_center) -> None:
    _microsoft(partner_center, tenant)
    partner_center_syncs_run()
    with clock.frozen(clock.now() + dt.timedelta(hours=2)):
        PartnerCenterSync.objects.create(
            partner=tenant.partner, status="running", updated_at=clock.now() - dt.timedelta(hours=1, minutes=1)
        )
        (again,) = partner_center_syncs_run()
    assert (again.status, again.customers_created, again.subscriptions_created, again.subscriptions_updated) == (
        "done", 0, 0, 0,
    )  # fmt: skip
    assert list(PartnerCenterSync.objects.order_by("pk").values_list("status", "error")) == [
        ("done", ""), ("failed", "The worker stopped before the sync ended."), ("done", ""),
    ]  # fmt: skip


def test_microsoft_refusing_fails_the_sync_with_its_reason(tenant: Tenant, partner_center) -> None:
    _microsoft(partner_center, tenant)
    partner_center.enqueue("GET", re.compile(r"^/v1/customers$"), 403, body=shapes.error("900329", "App only"))
    (sync,) = partner_center_syncs_run()
    assert sync.status == "failed"
    assert sync.error.startswith("This Partner Center operation does not accept app-only sign-in (error 900329).")
    assert AuditEvent.objects.filter(action="partner_center.sync_failed").count() == 1


def test_the_nightly_job_syncs_every_partner_with_an_account(
    tenant: Tenant, other_tenant: Tenant, partner_center
) -> None:
    _microsoft(partner_center, tenant)  # other_tenant has no Partner Center account
    job = settings.CELERY_BEAT_SCHEDULE["partner-center-sync-nightly"]
    assert job["task"] == "subscriptions.tasks.partner_center_syncs_run_task"
    assert (job["schedule"].hour, job["schedule"].minute) == ({2}, {30})
    assert partner_center_syncs_run_task.delay().get() == 1
    assert list(PartnerCenterSync.objects.values_list("partner__slug", "trigger", "status")) == [
        ("alpha", "schedule", "done")
    ]


def test_the_record_backend_has_nothing_to_sync(tenant: Tenant, settings, client_for) -> None:
    settings.PARTNER_CENTER_BACKEND = "record"
    assert partner_center_syncs_run() == []
    client = client_for(tenant.admin)
    assert "Syncing needs the http backend and a saved account." in client.get(ACCOUNT).content.decode()
    answer = client.post(f"{ACCOUNT}sync/", follow=True)
    assert "record-only backend" in answer.content.decode()
    assert not PartnerCenterSync.objects.exists()


def test_only_partner_admins_sync_and_another_partner_sees_404(
    tenant: Tenant, other_tenant: Tenant, partner_center, client_for
) -> None:
    partner_center.connect(tenant.partner)
    sync = PartnerCenterSync.objects.create(partner=tenant.partner)
    assert client_for(tenant.finance).post(f"{ACCOUNT}sync/").status_code == 403
    assert client_for(other_tenant.admin).get(f"{ACCOUNT}syncs/{sync.pk}/status/").status_code == 404


def test_the_command_reports_a_sync_already_running(tenant: Tenant, partner_center) -> None:
    partner_center.connect(tenant.partner)
    running = PartnerCenterSync.objects.create(partner=tenant.partner, status="running")
    out = StringIO()
    call_command("sync_partner_center", stdout=out)
    assert out.getvalue() == f"alpha: a sync is already running (#{running.pk}); left to it\n"
