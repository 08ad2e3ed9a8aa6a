from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from billing.invoicing.models import CreditNote, Invoice, Payment
from billing.reconciliation.models import MicrosoftPayable
from partner_portal import clock
from partner_portal.demo import DEMO_PASSWORD
from partner_portal.models import AuditEvent, Customer, Membership, Partner, User
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db

LOGINS = {
    "admin@contoso.example": "/staff/",
    "finance@contoso.example": "/staff/",
    "agent@contoso.example": "/staff/",
    "billing@northwind.example": "/my/",
    "billing@adatum.example": "/my/",
    "admin@fabrikam.example": "/staff/",
    "finance@woodgrove.example": "/staff/",
    "billing@tailspin.example": "/my/",
}


def _counts() -> tuple[int, ...]:
    models = (Partner, Customer, User, Membership, AuditEvent, Subscription, Invoice, Payment, CreditNote)
    return tuple(m.objects.count() for m in models)


def test_seed_demo_is_idempotent_and_every_login_works() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first
    assert set(Partner.objects.values_list("name", "cloud")) == {
        ("Contoso Cloud Partners", "global"),
        ("Fabrikam IT Services", "us_government"),
        ("Woodgrove Cloud BV", "global"),
    }
    for email, home in LOGINS.items():
        response = Client().post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response["Location"] == home, email
    assert set(Invoice.objects.values_list("status", flat=True)) == set(Invoice.Status.values)
    overdue = Invoice.objects.open().filter(due_date__lt=clock.today())
    assert overdue.filter(customer__partner__slug="contoso").count() >= 4
    assert CreditNote.objects.exists()
    assert MicrosoftPayable.objects.filter(partner__slug="contoso", amount=Decimal("9450.00")).exists()
    assert Payment.objects.filter(unallocated__gt=0).exists()  # a customer with credit
    tailspin = Membership.objects.get(user__email="billing@tailspin.example")
    assert (tailspin.partner.name, tailspin.customer.name) == ("Fabrikam IT Services", "Tailspin Toys")
    formats = dict(Customer.objects.filter(partner__slug="contoso").values_list("name", "einvoice_format"))
    assert (formats["Fourth Coffee"], formats["Northwind Traders"]) == ("ubl", "pdf")


def test_seed_demo_prints_the_address_it_is_served_at() -> None:
    out = io.StringIO()
    call_command("seed_demo", "--url", "http://127.0.0.1:8123/", stdout=out)
    assert "Sign in at http://127.0.0.1:8123/ with:" in out.getvalue()
