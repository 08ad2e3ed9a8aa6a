"""The sync from Partner Center as a job (docs/architecture.md): one PartnerCenterSync row per run,
claimed by one worker, with its progress for the page's bar.

`partner_center_sync_request` (the page's button) queues one; `partner_center_syncs_run` (the nightly
beat job and the command sync_partner_center) runs one for every partner with a Partner Center
account in an open cloud. At most one sync per partner waits or runs at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from subscriptions.errors import PartnerCenterError, PartnerCenterNotConfigured
from subscriptions.models import PartnerCenterAccount, PartnerCenterSync
from subscriptions.services.sync import partner_center_sync

logger = logging.getLogger(__name__)

Status = PartnerCenterSync.Status
# A running sync whose progress has not moved for this long belongs to a worker that died.
STALE_AFTER = dt.timedelta(hours=1)


def partner_center_sync_partners() -> QuerySet[Partner]:
    """Partners the scheduled sync covers: with a Partner Center account, in an open cloud."""
    return (
        Partner.objects.filter(pk__in=PartnerCenterAccount.objects.values("partner_id"))
        .exclude(cloud=Partner.Cloud.GERMANY)
        .order_by("slug")
    )


def _stale_released(partner: Partner) -> None:
    """A sync left running by a dead worker is failed, so the partner can sync again."""
    PartnerCenterSync.objects.filter(
        partner=partner, status=Status.RUNNING, updated_at__lt=clock.now() - STALE_AFTER
    ).update(status=Status.FAILED, finished_at=clock.now(), error="The worker stopped before the sync ended.")


def _open_sync(*, partner: Partner, actor: User | None, trigger: str) -> tuple[PartnerCenterSync, bool]:
    """The partner's waiting or running sync, or a new waiting one (True when new)."""
    _stale_released(partner)
    current = PartnerCenterSync.objects.filter(partner=partner, status__in=PartnerCenterSync.OPEN_STATUSES).first()
    if current is not None:
        return current, False
    try:
        with transaction.atomic():
            sync = PartnerCenterSync.objects.create(
                partner=partner, trigger=trigger, requested_by=actor if actor and actor.is_authenticated else None
            )
    except IntegrityError:  # another request created one at the same moment
        return PartnerCenterSync.objects.get(partner=partner, status__in=PartnerCenterSync.OPEN_STATUSES), False
    audit_record(
        partner=partner, actor=actor, action="partner_center.sync_requested", target=sync, data={"trigger": trigger}
    )
    return sync, True


@transaction.atomic
def partner_center_sync_request(*, partner: Partner, actor: User | None) -> PartnerCenterSync:
    """Queue a sync of `partner` (the page's "Sync from Partner Center now"); the task is queued after
    commit. With a sync already waiting or running, that one is returned and nothing is queued."""
    if settings.PARTNER_CENTER_BACKEND != "http":
        raise PartnerCenterNotConfigured(
            _("This installation does not call Partner Center (record-only backend): there is nothing to sync from.")
        )
    if not PartnerCenterAccount.objects.filter(partner=partner).exists():
        raise PartnerCenterNotConfigured(_("Save the Partner Center account first."))
    sync, new = _open_sync(partner=partner, actor=actor, trigger=PartnerCenterSync.Trigger.MANUAL)
    if new:
        from subscriptions.tasks import partner_center_sync_task

        transaction.on_commit(lambda: partner_center_sync_task.delay(sync_id=sync.pk))
    return sync


def _progress(sync_id: int) -> Callable[[int, int], None]:
    def moved(done: int, total: int) -> None:
        PartnerCenterSync.objects.filter(pk=sync_id).update(done=done, total=total, updated_at=clock.now())

    return moved


def partner_center_sync_run(*, sync_id: int) -> PartnerCenterSync:
    """Run a waiting sync. Claims it first (a conditional UPDATE): a second worker, or a second call,
    does nothing and gets the row as it is. Microsoft's refusal fails the sync with its sentence."""
    now = clock.now()
    claimed = PartnerCenterSync.objects.filter(pk=sync_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=now, updated_at=now
    )
    sync = PartnerCenterSync.objects.select_related("partner", "requested_by").get(pk=sync_id)
    if not claimed:
        return sync
    try:
        with translation.override(sync.partner.locale):
            result = partner_center_sync(
                partner=sync.partner, actor=sync.requested_by, progress=_progress(sync_id), sync_id=sync_id
            )
    except PartnerCenterError as exc:
        with translation.override(sync.partner.locale):
            sync.error = (exc.staff_message or exc.description or str(exc))[:2000]
        sync.status, sync.finished_at = Status.FAILED, clock.now()
        sync.save(update_fields=["status", "finished_at", "error"])
        audit_record(
            partner=sync.partner, actor=sync.requested_by, action="partner_center.sync_failed", target=sync,
            data={"error": exc.as_dict()},
        )  # fmt: skip
        logger.warning("Partner Center sync %s of %s failed: %s", sync.pk, sync.partner.slug, exc)
        return sync
    sync.refresh_from_db(fields=["total", "done"])
    sync.status, sync.finished_at, sync.done = Status.DONE, clock.now(), sync.total
    sync.customers_created, sync.subscriptions_created = result.customers_created, result.subscriptions_created
    sync.subscriptions_updated, sync.differences_found = result.subscriptions_updated, result.differences_found
    sync.skipped = result.skipped[:200]
    sync.save()
    return sync


def partner_center_syncs_run(
    *, partners: QuerySet[Partner] | None = None, trigger: str = PartnerCenterSync.Trigger.SCHEDULE
) -> list[PartnerCenterSync]:
    """Sync every partner with a Partner Center account (or those of `partners`), one after another
    (the nightly beat job, the command). A partner whose sync already runs is left to it."""
    if settings.PARTNER_CENTER_BACKEND != "http":
        logger.info("Partner Center sync skipped: the record-only backend does not call Microsoft")
        return []
    syncs = []
    for partner in partners if partners is not None else partner_center_sync_partners():
        with transaction.atomic():
            sync, _new = _open_sync(partner=partner, actor=None, trigger=trigger)
        syncs.append(partner_center_sync_run(sync_id=sync.pk) if sync.status == Status.PENDING else sync)
    return syncs
