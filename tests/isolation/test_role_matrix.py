"""Who may open what: every role against every page and every API operation, compared with the one
table of expectations in docs/security.md ("Role matrix").

Pages are the named URL patterns of the URL conf (tests.routes, the enumeration the isolation walk
uses), each requested by GET; API operations come from the OpenAPI schema (drf-spectacular's
generator), each requested with its method and an empty body. Object placeholders are filled with an
id that names a row of every table of one tenant (tests.routes.populate with aligned id sequences), so
each request reaches a real object of the caller's own partner. Every request runs in a savepoint that
is rolled back, so a DELETE or a POST that succeeds changes nothing for the next one.

A page or operation that no row of the table matches fails the test: a new endpoint cannot escape.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from partner_portal.models import Invitation, User
from tests.conftest import make_tenant
from tests.routes import align_id_sequences, all_routes, populate

pytestmark = pytest.mark.django_db

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROLES = ("partner admin", "finance", "agent", "customer admin", "customer member", "anonymous")
TENANT_USERS = {
    "partner admin": "admin",
    "finance": "finance",
    "agent": "agent",
    "customer admin": "customer_admin",
    "customer member": "customer_member",
}
PLACEHOLDER = re.compile(r"{(\w+)}")
SIGN_IN_PATHS = ("/accounts/login/", "/admin/login/")
SIGNS_OUT = re.compile(r"^/(accounts|i18n|admin/logout)/")


@dataclass(frozen=True)
class Action:
    key: str  # how the table names it: a URL name, or "METHOD /api/v1/path/{id}/"
    method: str
    template: str


def _shape(template: str) -> str:
    return PLACEHOLDER.sub("{}", template)


def api_operations() -> list[Action]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        Action(key=f"{method.upper()} {path}", method=method, template=path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


def pages(api: list[Action]) -> list[Action]:
    """Every named URL pattern by GET, except the API routes the schema already names and the
    `.json`-style format suffixes of API routes (the same views)."""
    in_schema = {_shape(a.template) for a in api}
    found: dict[str, Action] = {}
    for route in all_routes():
        if "format" in route.kwargs or _shape(route.template) in in_schema:
            continue
        key = route.name or route.template
        found.setdefault(key, Action(key=key, method="get", template=route.template))
    return list(found.values())


def expectations() -> list[tuple[str, dict[str, bool]]]:
    """The table under "## Role matrix" in docs/security.md: (pattern, {role: allowed})."""
    text = SECURITY_DOC.read_text()
    section = text.split("## Role matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert tuple(header[1:]) == ROLES, f"the role matrix's columns must be {ROLES}"
    table = []
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        pattern = cells[0].strip("`")
        values = dict(zip(ROLES, cells[1:], strict=True))
        assert set(values.values()) <= {"allowed", "refused"}, f"{pattern}: cells are allowed or refused"
        table.append((pattern, {role: value == "allowed" for role, value in values.items()}))
    return table


def _expected(table: list[tuple[str, dict[str, bool]]], key: str) -> tuple[str, dict[str, bool]] | None:
    for pattern, allowed in table:
        if fnmatch.fnmatchcase(key, pattern):
            return pattern, allowed
    return None


def _refused(action: Action, response: Any) -> bool:
    status = response.status_code
    if status in (401, 403, 404):  # 401 for the API, and for the pages DRF serves (schema, docs)
        return True
    return 300 <= status < 400 and response["Location"].split("?", 1)[0].endswith(SIGN_IN_PATHS)


def _url(action: Action, object_id: int, invitation_token: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return invitation_token if match.group(1) == "token" else str(object_id)

    return PLACEHOLDER.sub(fill, action.template)


def _request(client: Client, action: Action, url: str) -> Any:
    with transaction.atomic():
        if action.method == "get":
            response = client.get(url, HTTP_ACCEPT="text/html,application/json")
        elif action.method == "delete":
            response = client.delete(url)
        else:
            response = getattr(client, action.method)(url, data={}, content_type="application/json")
        transaction.set_rollback(True)
    return response


@pytest.mark.timeout(900)
def test_every_role_against_every_page_and_operation(settings) -> None:
    settings.API_DOCS_PUBLIC = False  # as in production
    align_id_sequences()
    tenant = make_tenant("Alpha")
    populate(tenant, align=False)
    object_id = tenant.customer.pk  # the first row of every table after the alignment
    invitation_token = Invitation.objects.for_partner(tenant.partner).values_list("token", flat=True)[0]
    api = api_operations()
    actions = pages(api) + api
    table = expectations()

    problems: list[str] = []
    used: set[str] = set()
    for action in actions:
        match = _expected(table, action.key)
        if match is None:
            problems.append(f"{action.key} is not in the role matrix of docs/security.md: add a row for it")
            continue
        used.add(match[0])
    for role in ROLES:
        client = Client(raise_request_exception=False)
        signed_in = False
        user: User | None = getattr(tenant, TENANT_USERS[role]) if role in TENANT_USERS else None
        for action in actions:
            match = _expected(table, action.key)
            if match is None:
                continue
            if user is not None and (not signed_in or SIGNS_OUT.match(action.template)):
                client.force_login(user)  # sign-in and sign-out pages may end the session
                signed_in = True
            url = _url(action, object_id, invitation_token)
            response = _request(client, action, url)
            if response.status_code >= 500:
                problems.append(f"{action.key} as {role}: {response.status_code} at {url}")
                continue
            allowed = not _refused(action, response)
            if allowed != match[1][role]:
                got = "allowed" if allowed else "refused"
                problems.append(
                    f"{action.key} as {role}: {got} ({response.status_code} at {url}), table ({match[0]}) says otherwise"
                )
    stale = [pattern for pattern, _ in table if pattern not in used]
    problems += [f"the role matrix row {p} matches no page or operation: remove it" for p in stale]
    print(
        f"role matrix: {len(ROLES)} roles x {len(actions)} actions ({len(actions) - len(api)} pages, {len(api)} API operations)"
    )
    assert problems == [], "\n".join(problems)


def test_the_matrix_would_catch_a_missing_row_and_a_wrong_cell() -> None:
    table = [("customer_*", {role: role != "anonymous" for role in ROLES})]
    assert _expected(table, "customer_list") is not None
    assert _expected(table, "team") is None
    assert _expected(table, "GET /api/v1/customers/") is None
