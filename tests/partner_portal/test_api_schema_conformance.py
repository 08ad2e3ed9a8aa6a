"""The OpenAPI schema describes the API: schemathesis drives every operation from the schema, as staff
and as a customer user, with valid and invalid input, and every answer must match it.

Checked on every example (schemathesis's checks): no server error; the status is one the schema
documents; the body and content type match the documented ones; input the schema forbids is refused.
Not checked: that every schema-valid request is accepted, because the API refuses valid-looking input
for reasons no schema states (an id of another partner's customer, a tenant ID already taken, an
invoice without lines); those refusals are 400/409 with the usual body, which is checked.

The number of examples per operation is bounded (SCHEMA_EXAMPLES, default 8) so the run stays short
in CI; `SCHEMA_EXAMPLES=200 pytest tests/partner_portal/test_api_schema_conformance.py` runs deeper.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import Tenant, make_tenant
from tests.factories import PASSWORD
from tests.factories.billing import draft, issued, line
from tests.factories.subscriptions import SubscriptionFactory
from tests.factories.tickets import ticket

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "8"))

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(db: None) -> Iterator[Any]:
    yield _load()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _keep_the_connection() -> None:
    """Requests go through the real WSGI handler inside the test's transaction: like Django's test
    client (which connects these again after each of its requests), keep the handler from closing
    the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


def _load() -> Any:
    _keep_the_connection()
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True)
    return loaded


@pytest.fixture
def alpha() -> Tenant:
    tenant = make_tenant("Alpha")
    make_tenant("Beta")  # another partner, whose rows must never show
    SubscriptionFactory(customer=tenant.customer)
    draft(tenant.customer, line(quantity="3", unit_price="12.50"))
    issued(tenant.customer, line(quantity="10", unit_price="36.00", tax_rate="20.00"))
    ticket(tenant.customer, opened_by=tenant.customer_admin)
    return tenant


def _token(user: Any) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def finance_token(alpha: Tenant) -> str:
    return _token(alpha.finance)


@pytest.fixture
def customer_token(alpha: Tenant) -> str:
    return _token(alpha.customer_admin)


def _check(case: Any, token: str) -> None:
    _keep_the_connection()
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        excluded_checks=[positive_data_acceptance],
        environ_overrides={"REMOTE_ADDR": "192.0.2.10"},  # a WSGI server always sets the client's address
    )


settings_for_api = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@settings_for_api
def test_the_api_matches_its_schema_for_finance(case: Any, finance_token: str) -> None:
    _check(case, finance_token)


@schema.parametrize()
@settings_for_api
def test_the_api_matches_its_schema_for_a_customer_admin(case: Any, customer_token: str) -> None:
    _check(case, customer_token)
