"""Real Celery worker processes for the tests that need them: on Redis, on the test database (so
PostgreSQL only), on a private queue, writing their emails under their folder. A worker may stop at a
chosen point of the collections code (tests/fakes/pausing_worker.py), so a test can kill it there.

    workers = Workers.for_test(tmp_path, monkeypatch, "collections")
    process = workers.start(pause_at="batch-written:2")
    workers.wait(lambda: workers.paused("batch-written"), "the second batch written")
    workers.kill(process)
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.db import connection
from kombu import Connection

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as a worker process's DATABASE_URL."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Workers:
    """Celery worker processes (solo pool) on a private queue; `env` is their environment, which a
    test may change before starting them (a Partner Center stand-in, another broker)."""

    folder: Path
    queue: str
    env: dict[str, str]
    broker_url: str = ""  # where tasks are queued from here; "" is the settings' broker
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def for_test(cls, folder: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Workers:
        """Workers for one test; tasks queued in the test go to their queue, not run eagerly."""
        from config.celery import app as celery_app

        require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
        require(connection.vendor == "postgresql", "the workers share the test database only on PostgreSQL")
        queue = f"{name}-{uuid.uuid4().hex[:8]}"
        (folder / "pause").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": database_url(),
            "PORTAL_VAR_DIR": str(folder),
            "DEBUG": "false",
            "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the workers enqueue (notices, pushes) stays private too
            "PAUSE_DIR": str(folder / "pause"),
        }
        monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
        monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
        return cls(folder=folder, queue=queue, env=env)

    def start(self, *, pause_at: str = "") -> subprocess.Popen[bytes]:
        n = len(self.processes)
        with (self.folder / f"worker{n}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.fakes.pausing_worker", "-A", "config", "worker", "--pool=solo",
                 "-Q", self.queue, "-n", f"w{n}-{self.queue}@%h", "--without-gossip", "--without-mingle",
                 "--loglevel=INFO"],
                cwd=ROOT, env={**self.env, "PAUSE_AT": pause_at}, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: the worker dies at once, whatever it was doing."""
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=20) == -signal.SIGKILL

    def paused(self, point: str) -> bool:
        return (self.folder / "pause" / f"paused-{point}").exists()

    def go(self, point: str) -> None:
        (self.folder / "pause" / f"go-{point}").touch()

    def queue_task(self, task: object, **kwargs: object) -> None:
        """`task.apply_async(kwargs=kwargs)` on the workers' broker."""
        if not self.broker_url:
            task.apply_async(kwargs=kwargs)  # type: ignore[attr-defined]
            return
        with Connection(self.broker_url) as broker:
            task.apply_async(kwargs=kwargs, connection=broker)  # type: ignore[attr-defined]

    def queue_run(self, partner_id: int, run_date: dt.date) -> None:
        """A collections run of the partner for `run_date`, as the beat queues it."""
        from billing.collections.tasks import collections_run_task

        self.queue_task(collections_run_task, run_date=run_date.isoformat(), partner_id=partner_id)

    def queue_sweep(self) -> None:
        """The subscription changes' retry sweep (the beat's every five minutes)."""
        from subscriptions.tasks import subscription_changes_retry_task

        self.queue_task(subscription_changes_retry_task)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.folder.glob("worker*.log")))

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Poll `condition` until it holds; after `timeout` seconds fail with the workers' logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"{what} did not happen in time; the workers' logs end:\n{self.logs()}")

    def mails(self) -> list[Message]:
        """Every email the workers sent (the file backend appends the messages of one connection)."""
        separator = b"\n" + b"-" * 79 + b"\n"
        return [
            message_from_bytes(raw)
            for path in sorted((self.folder / "mail").glob("*.log"))
            for raw in path.read_bytes().split(separator)
            if raw.strip()
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
