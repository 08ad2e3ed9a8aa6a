from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from partner_portal.demo import DEMO_PASSWORD
from partner_portal.models import AuditEvent, Customer, Membership, Partner, User

pytestmark = pytest.mark.django_db

LOGINS = {
    "admin@contoso.example": "/staff/",
    "finance@contoso.example": "/staff/",
    "agent@contoso.example": "/staff/",
    "billing@northwind.example": "/my/",
    "billing@adatum.example": "/my/",
    "admin@fabrikam.example": "/staff/",
    "billing@tailspin.example": "/my/",
}


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Partner, Customer, User, Membership, AuditEvent))


def test_seed_demo_is_idempotent_and_every_login_works() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first
    assert set(Partner.objects.values_list("name", "cloud")) == {
        ("Contoso Cloud Partners", "global"),
        ("Fabrikam IT Services", "us_government"),
    }
    for email, home in LOGINS.items():
        response = Client().post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response["Location"] == home, email
    tailspin = Membership.objects.get(user__email="billing@tailspin.example")
    assert (tailspin.partner.name, tailspin.customer.name) == ("Fabrikam IT Services", "Tailspin Toys")
