"""A run whose worker died (SIGKILL, a lost machine) holds its lease until it lapses and never finishes
its row: the next run that takes the lease closes it as failed, audited, and does what was left."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.collections.models import CollectionLease, CollectionRun, Notice
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.factories.collections import DUE, invoice_due, run_on

pytestmark = pytest.mark.django_db


def test_the_next_run_closes_a_run_left_running_by_a_dead_worker_and_does_its_work(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "250.00")
    run_date = DUE + dt.timedelta(days=7)
    # What a killed worker leaves: its run still "running" and its lease, which then lapses.
    dead = CollectionRun.objects.create(partner=tenant.partner, run_date=run_date, triggered_by="schedule")
    CollectionLease.objects.update_or_create(
        partner=tenant.partner,
        defaults={"owner": "killed-worker", "locked_until": clock.now() - dt.timedelta(seconds=1)},
    )

    run = run_on(tenant.partner, 7)

    assert run.status == CollectionRun.Status.DONE
    dead.refresh_from_db()
    assert dead.status == CollectionRun.Status.FAILED
    assert dead.finished_at is not None
    assert "interrupted" in dead.details["errors"][-1]
    assert AuditEvent.objects.filter(action="collections.run_interrupted", target_id=str(dead.pk)).count() == 1
    assert Notice.objects.filter(invoice=invoice, offset_days=7).count() == 1  # the work was done, once

    run_on(tenant.partner, 7)  # a later run finds nothing left running to close
    assert AuditEvent.objects.filter(action="collections.run_interrupted").count() == 1


def test_a_run_that_holds_a_live_lease_is_left_alone(tenant) -> None:
    alive = CollectionRun.objects.create(partner=tenant.partner, run_date=DUE, triggered_by="schedule")
    CollectionLease.objects.update_or_create(
        partner=tenant.partner, defaults={"owner": "busy-worker", "locked_until": clock.now() + dt.timedelta(minutes=5)}
    )
    assert run_on(tenant.partner, 0).status == CollectionRun.Status.SKIPPED
    alive.refresh_from_db()
    assert alive.status == CollectionRun.Status.RUNNING
