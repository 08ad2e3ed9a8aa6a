"""One collections run per partner at a time: a lease row per partner (CollectionLease), taken with a
conditional UPDATE, renewed before each batch and given back at the end. A row rather than an advisory
lock, so it holds across the run's many transactions and behind a transaction-pooling PgBouncer."""

from __future__ import annotations

import datetime as dt

from django.db.models import F

from billing.collections.models import CollectionLease, CollectionRun
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner

LEASE_TTL = dt.timedelta(minutes=10)  # a run renews its lease before each batch; a crashed run's lapses
LEASE_FREE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # locked_until of a lease nobody holds


class LeaseLost(RuntimeError):
    """The run's lease lapsed and another run may have taken the partner: this one stops."""


def lease_take(partner: Partner, owner: str) -> bool:
    """Take the partner's collections lease for LEASE_TTL, without waiting: True if this run has it.

    One conditional UPDATE (`locked_until <= now`), committed at once: of two runs at the same moment
    only one UPDATE matches the row. Works the same behind a transaction-pooling PgBouncer.
    """
    now = clock.now()
    CollectionLease.objects.bulk_create(
        [CollectionLease(partner=partner, locked_until=LEASE_FREE)], ignore_conflicts=True
    )
    taken = CollectionLease.objects.filter(partner=partner, locked_until__lte=now).update(
        locked_until=now + LEASE_TTL, owner=owner, taken_at=now
    )
    return taken == 1


def runs_interrupted_close(partner: Partner) -> list[int]:
    """Close the partner's runs still `running` as failed, audited; their ids. Called by the run that
    has just taken the lease: a lease is free only when its run gave it back or stopped renewing it,
    so a run still `running` then had its worker killed (or lost its lease and stops at its next
    batch). Without this its row would say "running" for ever."""
    closed = []
    now = clock.now()
    for run in CollectionRun.objects.filter(partner=partner, status=CollectionRun.Status.RUNNING).order_by("pk"):
        message = "interrupted: the run stopped before it finished (its worker died); a later run did what was left"
        details = {**run.details, "errors": [*run.details.get("errors", []), message]}
        updated = CollectionRun.objects.filter(pk=run.pk, status=CollectionRun.Status.RUNNING).update(
            status=CollectionRun.Status.FAILED, finished_at=now, errors_count=F("errors_count") + 1, details=details
        )
        if updated:
            closed.append(run.pk)
            audit_record(
                partner=partner, action="collections.run_interrupted", target=run,
                data={"run_date": run.run_date.isoformat(), "started_at": run.started_at.isoformat()},
            )  # fmt: skip
    return closed


def lease_renew(partner: Partner, owner: str) -> None:
    """Keep the lease for another LEASE_TTL; LeaseLost if it is no longer this run's."""
    renewed = CollectionLease.objects.filter(partner=partner, owner=owner, locked_until__gt=clock.now()).update(
        locked_until=clock.now() + LEASE_TTL
    )
    if renewed != 1:
        raise LeaseLost(f"the collections lease of partner {partner.pk} lapsed")


def lease_release(partner: Partner, owner: str) -> None:
    CollectionLease.objects.filter(partner=partner, owner=owner).update(locked_until=LEASE_FREE, owner="")
