"""A Microsoft payable entered by hand is not replaced by a reconciliation import: both amounts are
kept, the payable's page shows the difference, finance chooses which stands (audited), and the
finance page's cover warning follows the amount that stands."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing.reconciliation.models import MicrosoftPayable
from billing.reconciliation.services import (
    microsoft_payable_choose,
    microsoft_payable_set,
    reconciliation_import_create,
)
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.billing import issued, line
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 5)


@pytest.fixture(autouse=True)
def _today(settings, tmp_path) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path)
    with clock.frozen(TODAY):
        yield


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()).replace("\xa0", " "))


@pytest.fixture
def payable(tenant: Tenant) -> MicrosoftPayable:
    """9,450.00 USD entered by hand for November; then the month's file says 1,640.00."""
    issued(tenant.customer, line("Nov", "1", "2000.00", "0"), on=dt.date(2026, 12, 1))  # cover: 2,000.00
    microsoft_payable_set(
        partner=tenant.partner, actor=tenant.finance, period="2026-11", amount=Decimal("9450.00"), currency="USD",
        due_date=dt.date(2027, 1, 30),
    )  # fmt: skip
    content = csv_bytes(
        NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id), subtotal="1640.00", total="1640.00")]
    )
    reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name="G1.csv", content=content, period="2026-11"
    )
    return MicrosoftPayable.objects.get(partner=tenant.partner)


def test_an_import_keeps_the_amount_entered_by_hand_and_the_difference_is_shown(
    tenant: Tenant, payable: MicrosoftPayable, client_for
) -> None:
    assert (payable.amount, payable.source, payable.manual_amount, payable.imported_amount) == (
        Decimal("9450.00"), "manual", Decimal("9450.00"), Decimal("1640.00"),
    )  # fmt: skip
    assert payable.difference == Decimal("-7810.00")
    client = client_for(tenant.finance)
    dashboard = _text(client.get("/staff/billing/").content)
    assert "Microsoft payable 2026-11 (USD) is not covered" in dashboard  # the warning did not vanish
    assert "Import differs" in dashboard
    page = _text(client.get(f"/staff/billing/payables/{payable.pk}/edit/").content)
    assert "Entered by hand 9,450.00 USD · stands" in page
    assert "From the reconciliation files 1,640.00 USD" in page
    assert "Difference -7,810.00 USD" in page


def test_finance_chooses_which_amount_stands_and_it_is_audited(tenant: Tenant, payable: MicrosoftPayable) -> None:
    chosen = microsoft_payable_choose(payable=payable, actor=tenant.finance, source="import")
    assert (chosen.amount, chosen.source, chosen.manual_amount) == (Decimal("1640.00"), "import", Decimal("9450.00"))
    event = AuditEvent.objects.get(action="microsoft_payable.chosen")
    assert event.data == {
        "period": "2026-11", "currency": "USD", "source": "import", "amount": "1640.00",
        "previous_source": "manual", "previous_amount": "9450.00",
    }  # fmt: skip
    assert event.actor == tenant.finance
    microsoft_payable_choose(payable=payable, actor=tenant.finance, source="import")  # again: nothing changes
    assert AuditEvent.objects.filter(action="microsoft_payable.chosen").count() == 1
    back = microsoft_payable_choose(payable=payable, actor=tenant.admin, source="manual")
    assert (back.amount, back.source) == (Decimal("9450.00"), "manual")


def test_once_the_import_stands_a_corrected_file_moves_the_amount(tenant: Tenant, payable: MicrosoftPayable) -> None:
    microsoft_payable_choose(payable=payable, actor=tenant.finance, source="import")
    content = csv_bytes(
        NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id), subtotal="1700.00", total="1700.00")]
    )
    reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name="G2.csv", content=content, period="2026-11"
    )
    payable.refresh_from_db()
    assert (payable.amount, payable.imported_amount, payable.manual_amount) == (
        Decimal("1700.00"), Decimal("1700.00"), Decimal("9450.00"),
    )  # fmt: skip


def test_a_payable_never_entered_by_hand_has_nothing_to_choose(tenant: Tenant) -> None:
    from billing.reconciliation.errors import PayableInvalid

    content = csv_bytes(NEW_COMMERCE_HEADER, [nce_row(customer_id=str(tenant.customer.tenant_id))])
    reconciliation_import_create(
        partner=tenant.partner, actor=tenant.finance, file_name="G3.csv", content=content, period="2026-11"
    )
    payable = MicrosoftPayable.objects.get()
    assert payable.difference is None
    with pytest.raises(PayableInvalid):
        microsoft_payable_choose(payable=payable, actor=tenant.finance, source="manual")
    with pytest.raises(PayableInvalid):
        microsoft_payable_choose(payable=payable, actor=tenant.finance, source="both")


def test_the_choice_through_the_page_for_writers_only(
    tenant: Tenant, other_tenant: Tenant, payable: MicrosoftPayable, client_for
) -> None:
    url = f"/staff/billing/payables/{payable.pk}/choose/"
    assert client_for(tenant.agent).post(url, {"source": "import"}).status_code == 403
    assert client_for(other_tenant.finance).post(url, {"source": "import"}).status_code == 404
    done = client_for(tenant.finance).post(url, {"source": "import"}, follow=True)
    assert "Due to Microsoft for 2026-11: 1,640.00 USD (Reconciliation import)." in _text(done.content)
    payable.refresh_from_db()
    assert payable.amount == Decimal("1640.00")
    refused = client_for(tenant.finance).post(url, {"source": "nonsense"}, follow=True)
    assert "Choose the amount entered by hand or the imported one." in _text(refused.content)
