from __future__ import annotations

import pytest

from billing.peppol.services import access_point_connect
from partner_portal.models import EinvoiceFormat

API_KEY = "sc-test-key-0001"


def registrable(partner) -> None:
    """The partner's address and Peppol identifier, as Storecove's LegalEntity needs them."""
    partner.street, partner.city, partner.post_code, partner.country = "Rue Royale 1", "Brussels", "1000", "BE"
    partner.peppol_scheme, partner.peppol_id = "0208", "0403170701"
    partner.save()


def peppol_customer(customer, identifier: str = "0202239951") -> None:
    customer.einvoice_format = EinvoiceFormat.PEPPOL
    customer.peppol_scheme, customer.peppol_id = "0208", identifier
    customer.country = "BE"
    customer.save()


@pytest.fixture
def connected(tenant, storecove):
    """The tenant registered at the stand-in, its first customer taking e-invoices over Peppol."""
    storecove.keys.add(API_KEY)
    registrable(tenant.partner)
    peppol_customer(tenant.customer)
    access_point_connect(partner=tenant.partner, actor=tenant.admin, api_key=API_KEY)
    return tenant
