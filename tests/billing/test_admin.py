"""The Django admin shows billing but cannot change it: issued invoices stay as they were issued."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from billing.invoicing.models import Invoice
from partner_portal.models import User
from tests.conftest import Tenant
from tests.factories.billing import issued

pytestmark = pytest.mark.django_db


def test_an_issued_invoice_cannot_be_changed_or_deleted_in_the_admin(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root@example.com", "a-long-password-42"))
    page = admin.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200  # viewable
    assert b'name="_save"' not in page.content  # but there is nothing to save
    admin.post(f"/admin/billing/invoice/{invoice.pk}/change/", {"status": "draft", "total": "1.00", "notes": "x"})
    assert admin.post(f"/admin/billing/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/billing/invoice/add/").status_code == 403
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.notes) == (Invoice.Status.ISSUED, Decimal("432.00"), "")
    assert admin.get("/admin/billing/payment/").status_code == 200
