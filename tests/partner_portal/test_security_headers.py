"""Every answer carries the Content-Security-Policy (no inline script anywhere) beside the other
security headers; the browser tests check that no page needs more (tests/browser/test_page_quality.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/accounts/login/", "/staff/", "/staff/billing/invoices/", "/api/v1/customers/"])
def test_pages_and_the_api_carry_the_policy(tenant: Tenant, client_for, path: str) -> None:
    response = client_for(tenant.admin).get(path)
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_only_the_api_docs_allow_inline_styles_and_never_inline_script(tenant: Tenant, client_for) -> None:
    policy = client_for(tenant.admin).get("/api/docs/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
