"""Fixtures of the collections tests that run real Celery workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workers import Workers


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    """Real Celery workers on Redis and the test database (tests/workers.py); none started yet."""
    pool = Workers.for_test(tmp_path, monkeypatch, "collections")
    try:
        yield pool
    finally:
        pool.stop()
