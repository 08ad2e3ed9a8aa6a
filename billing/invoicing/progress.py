"""Pages of jobs a worker runs (bulk exports, reconciliation imports): their progress, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.pagination import keyset_page, query_without

# A job row run by a worker: an ExportJob here, a ReconciliationImport in billing.reconciliation (which
# builds on invoicing, so these helpers name neither). It has status (with its Status choices),
# created_at, started_at, finished_at, percent and get_status_display().
Job = Any

JOBS_PAGE_SIZE = 25  # jobs listed on one page
# A job still waiting this long after it was requested probably has no worker to run it.
WAITING_HINT_AFTER = dt.timedelta(seconds=20)


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def progress_context(job: Job) -> dict[str, Any]:
    """What the page of a job run by a worker shows of its progress: whether it still runs, whether it
    has waited long enough to suggest no worker is there, and how long it took."""
    return {
        "running": job.status in (job.Status.PENDING, job.Status.RUNNING),
        "waiting_long": job.status == job.Status.PENDING and clock.now() - job.created_at > WAITING_HINT_AFTER,
        "duration": duration(job.started_at, job.finished_at),
    }


def progress_response(job: Job, *, done: int, total: int, download_url: str | None) -> HttpResponse:
    """The progress of a job as JSON, for the page's progress bar (polled, so never cached)."""
    return no_store(
        JsonResponse(
            {
                "status": job.status,
                "status_label": str(job.get_status_display()),
                "done": done,
                "total": total,
                "percent": job.percent,
                "download_url": download_url,
            }
        )
    )


def newest_first_context(request: HttpRequest, jobs: QuerySet[Any]) -> dict[str, Any]:
    """A page of background jobs (exports, reconciliation imports), newest first, and the query to page on."""
    page = keyset_page(
        jobs, sort_field="created_at", descending=True, cursor=request.GET.get("cursor"), size=JOBS_PAGE_SIZE
    )
    return {"page": page, "query": query_without(request, "cursor")}


def duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max(int((end - start).total_seconds()), 0)
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": seconds}
    return _("%(minutes)s min %(seconds)s s") % {"minutes": seconds // 60, "seconds": seconds % 60}
