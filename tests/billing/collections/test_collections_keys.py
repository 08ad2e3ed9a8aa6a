"""The collections tables' rows name a customer of their own partner: the database refuses the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from billing.collections.models import CustomerCollections, CustomerDunning, InvoiceDunning, Notice
from tests.conftest import Tenant, require
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(tenant: Tenant, other: Tenant) -> dict[str, object]:
    """A row of each table, for `tenant`'s partner but naming a customer of `other`'s."""
    invoice = invoice_due(other.customer, DUE - dt.timedelta(days=10), "100.00")
    customer, partner = other.customer, tenant.partner
    return {
        "notice": Notice(partner=partner, customer=customer, invoice=invoice, offset_days=7, action="remind",
                         amount_due=invoice.balance, overdue_total=invoice.balance),
        "invoice dunning": InvoiceDunning(partner=partner, customer=customer, invoice=invoice, harshest="remind"),
        # a customer with nothing owed yet: no dunning or summary row of its own partner's in the way
        "customer dunning": CustomerDunning(partner=partner, customer=CustomerFactory(partner=other.partner)),
        "summary": CustomerCollections(partner=partner, customer=CustomerFactory(partner=other.partner), run_date=DUE,
                                       overdue_total=invoice.balance),
    }  # fmt: skip


@pytest.mark.parametrize("table", ["notice", "invoice dunning", "customer dunning", "summary"])
def test_a_row_naming_another_partners_customer_is_refused(tenant: Tenant, other_tenant: Tenant, table: str) -> None:
    require(connection.vendor == "postgresql", "the composite foreign keys are PostgreSQL's")
    row = _rows(tenant, other_tenant)[table]
    with pytest.raises(IntegrityError, match="customer_partner_fk"), transaction.atomic():
        row.save()  # type: ignore[attr-defined]
        # checked at commit, as every foreign key Django makes (deferred)
    assert not type(row).objects.filter(partner=tenant.partner, customer=other_tenant.customer).exists()


def test_a_row_of_the_customers_own_partner_is_kept(tenant: Tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE - dt.timedelta(days=10), "100.00")
    with transaction.atomic():
        InvoiceDunning.objects.create(
            partner=tenant.partner, customer=tenant.customer, invoice=invoice, harshest="remind"
        )
    assert InvoiceDunning.objects.filter(invoice=invoice).count() == 1
