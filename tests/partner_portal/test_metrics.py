"""/metrics: what an operator's Prometheus scrapes, behind a bearer token."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core import mail
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from billing.collections.services.run import collections_run
from config.celery import app as celery_app
from partner_portal import clock
from subscriptions.services.status import subscription_suspend
from tests.conftest import require
from tests.factories.subscriptions import SubscriptionFactory

TOKEN = "metrics-token-for-tests-0123456789"
pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics_on(settings) -> None:
    settings.METRICS_TOKEN = TOKEN


def _scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_are_refused_without_the_token(metrics_on) -> None:
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401


def test_metrics_are_off_while_no_token_is_set(settings) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_request_latency_is_measured_by_view(metrics_on, tenant, client_for) -> None:
    client_for(tenant.admin).get("/staff/customers/")
    samples = _scrape()
    count = samples[("portal_request_duration_seconds_count", (("method", "GET"), ("view", "customer_list")))]
    assert count >= 1


def test_changes_waiting_for_microsoft_and_the_age_of_the_oldest(metrics_on, tenant) -> None:
    old = SubscriptionFactory(customer=tenant.customer)
    new = SubscriptionFactory(customer=tenant.customer)
    with clock.frozen(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)):
        subscription_suspend(subscription=old, reason="overdue", actor=tenant.admin)
    with clock.frozen(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)):
        subscription_suspend(subscription=new, reason="overdue", actor=tenant.admin)
        samples = _scrape()
    assert samples[("portal_subscription_changes", (("state", "pending"),))] == 2
    assert samples[("portal_subscription_changes", (("state", "failed"),))] == 0
    assert samples[("portal_subscription_change_oldest_pending_age_seconds", ())] == 3600


def test_the_last_collections_run_per_partner_and_its_duration(metrics_on, tenant, other_tenant) -> None:
    with clock.frozen(dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)):
        collections_run(partner=tenant.partner, run_date=dt.date(2026, 3, 2))
    samples = _scrape()
    slug = tenant.partner.slug
    started = samples[("portal_collections_last_run_timestamp_seconds", (("partner", slug),))]
    assert started == dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC).timestamp()
    assert samples[("portal_collections_last_run_duration_seconds", (("partner", slug),))] >= 0
    assert samples[("portal_collections_last_run_failed", (("partner", slug),))] == 0
    # A partner whose collections never ran has no last run: the "no run today" alert fires for it.
    assert ("portal_collections_last_run_timestamp_seconds", (("partner", other_tenant.partner.slug),)) not in samples


def test_mail_the_server_refuses_is_counted(metrics_on, settings) -> None:
    settings.EMAIL_BACKEND = "config.metrics.MeteredEmailBackend"
    settings.METERED_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    with pytest.raises(ConnectionRefusedError):
        mail.send_mail("Invoice", "Body", "billing@example.com", ["customer@example.com"])
    assert _scrape()[("portal_mail_send_failures_total", ())] == 1
    settings.METERED_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.send_mail("Invoice", "Body", "billing@example.com", ["customer@example.com"])
    assert len(mail.outbox) == 1
    assert _scrape()[("portal_mail_send_failures_total", ())] == 1


def test_failed_tasks_are_counted_by_name(metrics_on) -> None:
    @celery_app.task(name="tests.metrics_failing_task")
    def failing() -> None:
        raise RuntimeError("broken")

    # As a worker runs it: the error is recorded on the result, not raised to the caller.
    assert failing.apply(throw=False).failed()
    assert _scrape()[("portal_celery_task_failures_total", (("task", "tests.metrics_failing_task"),))] == 1


def test_the_queue_depth_is_read_from_redis(metrics_on, settings) -> None:
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL is not set")
    import redis

    queue = f"metrics-{os.getpid()}"
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    with redis.Redis.from_url(redis_url) as client:
        client.delete(queue)
        client.rpush(queue, "a", "b", "c")
        try:
            assert _scrape()[("portal_celery_queue_length", (("queue", queue),))] == 3
        finally:
            client.delete(queue)
