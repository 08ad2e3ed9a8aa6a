from __future__ import annotations

import time

import pytest

from billing.einvoicing import validation


@pytest.fixture(scope="session", autouse=True)
def compiled_rules() -> float:
    """Compile every stylesheet once for the whole run (seconds); the tests then reuse them."""
    started = time.perf_counter()
    validation.warm_up()
    return time.perf_counter() - started
