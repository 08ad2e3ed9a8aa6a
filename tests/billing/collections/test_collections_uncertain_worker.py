"""With a real Celery worker on Redis: the email carries the Message-ID stored on the notice, and a
claim left by a worker that died while sending is made uncertain by the next run, not sent again."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.collections.models import CollectionRun, Notice
from tests.conftest import make_tenant
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, invoice_due
from tests.workers import Workers

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_dead_workers_claim_is_made_uncertain_by_the_next_run_on_a_real_worker(workers: Workers) -> None:
    workers.start()
    tenant = make_tenant("Uncertain")
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_date = DUE + dt.timedelta(days=7)
    workers.queue_run(tenant.partner.pk, run_date)
    workers.wait(lambda: Notice.objects.filter(invoice=invoice, status="sent").exists(), "the notice sent")
    notice = Notice.objects.get(invoice=invoice)
    [mail] = workers.mails()
    assert mail["Message-ID"] == notice.message_id

    # What a worker killed right after the mail server accepted the email leaves, an hour later.
    Notice.objects.filter(pk=notice.pk).update(
        status="sending", claimed_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    workers.queue_run(tenant.partner.pk, run_date)
    workers.wait(lambda: CollectionRun.objects.filter(status="done").count() == 2, "the second run")
    workers.wait(lambda: Notice.objects.filter(pk=notice.pk, status="uncertain").exists(), "the notice uncertain")
    workers.queue_run(tenant.partner.pk, run_date)  # behind anything the second run queued
    workers.wait(lambda: CollectionRun.objects.filter(status="done").count() == 3, "a run again")
    assert [m["Message-ID"] for m in workers.mails()] == [notice.message_id]  # not sent again
    assert_ledger_consistent()
