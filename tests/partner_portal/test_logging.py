"""What the portal writes to its log: a refused request is one line, not a traceback printed twice."""

from __future__ import annotations

import io
import logging

import pytest

from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_a_403_is_logged_once_in_one_line(tenant: Tenant, client_for) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    # What reaches the console: Django's logger writes through its own handler and does not pass the
    # record on to the root logger, which would print it a second time.
    django_logger = logging.getLogger("django")
    assert django_logger.propagate is False
    django_logger.addHandler(handler)
    try:
        response = client_for(tenant.agent).get("/staff/audit/")
    finally:
        django_logger.removeHandler(handler)
    assert response.status_code == 403
    lines = stream.getvalue().splitlines()
    assert lines == ["WARNING django.request Forbidden (Permission denied): /staff/audit/"]
