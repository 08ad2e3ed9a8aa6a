"""Prometheus metrics at /metrics, for the operator's monitoring; a bearer token (METRICS_TOKEN) guards it.

Request latency is measured in each web process (across gunicorn's processes when
PROMETHEUS_MULTIPROC_DIR is set, as in the image); the rest is read at scrape time from what every
process shares: the database, the broker and the cache. Reads here span all partners on purpose: the
operator runs the installation, and no row of any partner is shown, only counts, ages and slugs.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Count, Min, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from billing.models import CollectionRun
from partner_portal import clock
from partner_portal.models import Partner
from subscriptions.models import SubscriptionChange

REQUEST_LATENCY = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by view (URL name) and method.",
    ["view", "method"],
    registry=None,  # collected per scrape, with the multi-process collector where there is one
)
MAIL_FAILURES_KEY = "portal:metrics:mail_send_failures"
TASK_FAILURES_KEY = "portal:metrics:task_failures:"
# Kombu's Redis transport keeps a queue as a list, with one more list per priority step.
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class RequestLatencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name if match else "") or "unresolved"
        REQUEST_LATENCY.labels(view=view, method=request.method or "").observe(time.perf_counter() - started)
        return response


def _count(key: str, by: int = 1) -> None:
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key, by)
    except ValueError:  # expired between add and incr
        cache.set(key, by, timeout=None)


def record_task_failure(task_name: str) -> None:
    _count(TASK_FAILURES_KEY + task_name)
    names = set(cache.get(TASK_FAILURES_KEY + "*names*") or ())
    if task_name not in names:
        cache.set(TASK_FAILURES_KEY + "*names*", sorted({*names, task_name}), timeout=None)


class MeteredEmailBackend(BaseEmailBackend):
    """The configured email backend (METERED_EMAIL_BACKEND), counting messages it failed to send."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.inner = import_string(settings.METERED_EMAIL_BACKEND)(fail_silently=fail_silently, **kwargs)

    def open(self) -> Any:
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send_messages(self, email_messages: Any) -> int:
        messages = list(email_messages)
        try:
            sent = self.inner.send_messages(messages)
        except Exception:
            _count(MAIL_FAILURES_KEY, len(messages))
            raise
        if messages and not sent:  # failed silently
            _count(MAIL_FAILURES_KEY, len(messages))
        return int(sent or 0)


class PortalCollector:
    """Gauges read at scrape time: queue depth, changes at Microsoft, collections runs, failures."""

    def collect(self) -> Iterator[Any]:
        yield from self._queue()
        yield from self._subscription_changes()
        yield from self._collections()
        mail = CounterMetricFamily("portal_mail_send_failures", "Emails the mail server refused or never took.")
        mail.add_metric([], float(cache.get(MAIL_FAILURES_KEY) or 0))
        yield mail
        tasks = CounterMetricFamily(
            "portal_celery_task_failures", "Celery tasks that failed, by task.", labels=["task"]
        )
        for name in cache.get(TASK_FAILURES_KEY + "*names*") or ():
            tasks.add_metric([name], float(cache.get(TASK_FAILURES_KEY + name) or 0))
        yield tasks

    def _queue(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "portal_celery_queue_length", "Tasks waiting in the broker, by queue.", labels=["queue"]
        )
        url = settings.CELERY_BROKER_URL
        if url.startswith(("redis://", "rediss://")):
            import redis

            queue = settings.CELERY_TASK_DEFAULT_QUEUE
            with redis.Redis.from_url(url, socket_timeout=3) as client:
                depth.add_metric([queue], float(sum(client.llen(queue + suffix) for suffix in PRIORITY_SUFFIXES)))
        yield depth

    def _subscription_changes(self) -> Iterator[Any]:
        states = GaugeMetricFamily(
            "portal_subscription_changes",
            "Subscription changes not yet confirmed by Microsoft, by state.",
            labels=["state"],
        )
        open_changes = SubscriptionChange.objects.filter(state__in=SubscriptionChange.OPEN_STATES)
        counts = dict.fromkeys(SubscriptionChange.OPEN_STATES, 0)
        counts.update(open_changes.order_by().values_list("state").annotate(n=Count("pk")))
        for state, count in counts.items():
            states.add_metric([state], float(count))
        yield states
        pending = (SubscriptionChange.State.PENDING, SubscriptionChange.State.IN_PROGRESS)
        oldest = SubscriptionChange.objects.filter(state__in=pending).aggregate(oldest=Min("created_at"))["oldest"]
        age = GaugeMetricFamily(
            "portal_subscription_change_oldest_pending_age_seconds",
            "Age of the oldest change still waiting for Microsoft (0 when none is).",
        )
        age.add_metric([], (clock.now() - oldest).total_seconds() if oldest else 0.0)
        yield age

    def _collections(self) -> Iterator[Any]:
        last = GaugeMetricFamily(
            "portal_collections_last_run_timestamp_seconds",
            "Start of the partner's last collections run (Unix time).",
            labels=["partner"],
        )
        duration = GaugeMetricFamily(
            "portal_collections_last_run_duration_seconds",
            "How long the partner's last finished collections run took.",
            labels=["partner"],
        )
        status = GaugeMetricFamily(
            "portal_collections_last_run_failed",
            "1 when the partner's last collections run failed.",
            labels=["partner"],
        )
        latest = CollectionRun.objects.filter(partner=OuterRef("pk")).order_by("-started_at", "-pk").values("pk")[:1]
        run_ids = Partner.objects.annotate(last_run=Subquery(latest)).exclude(last_run=None).values_list("last_run")
        runs = CollectionRun.objects.filter(pk__in=run_ids).select_related("partner")
        for run in runs:
            slug = run.partner.slug
            last.add_metric([slug], run.started_at.timestamp())
            if run.finished_at:
                duration.add_metric([slug], (run.finished_at - run.started_at).total_seconds())
            status.add_metric([slug], 1.0 if run.status == CollectionRun.Status.FAILED else 0.0)
        yield last
        yield duration
        yield status


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. 404 while METRICS_TOKEN is unset; 401 without the token."""
    if not settings.METRICS_TOKEN:
        return HttpResponse("Metrics are off: set METRICS_TOKEN.\n", status=404, content_type="text/plain")
    if not _authorised(request):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(PortalCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
