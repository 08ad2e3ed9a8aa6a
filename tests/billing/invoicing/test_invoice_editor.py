"""The draft editor: issue and due date overrides, the subscription picker, discarding a draft."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.errors import InvoiceDatesInvalid, InvoiceLineSubscriptionInvalid
from billing.invoicing.models import Invoice
from billing.invoicing.services import LineInput, invoice_draft_create, invoice_draft_update, invoice_issue
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories.billing import draft, line

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
EDITOR = "/staff/billing/invoices/new/"


def _subscription(
    customer, product: str = "Microsoft 365 E3", quantity: int = 12, price: str = "36.00"
) -> Subscription:
    return Subscription.objects.create(
        partner=customer.partner, customer=customer, product=product, quantity=quantity,
        unit_price=Decimal(price), tax_rate=Decimal("20.00"), start_date=dt.date(2026, 1, 1),
    )  # fmt: skip


def _post(*rows: dict[str, str], **head: str) -> dict[str, str]:
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000", "notes": ""}  # fmt: skip
    for i, row in enumerate(rows):
        data |= {f"lines-{i}-{name}": value for name, value in row.items()}
    return data | head


def _create(tenant: Tenant, **dates: dt.date | None) -> Invoice:
    return invoice_draft_create(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, lines=[line()], **dates
    )


# ---- Dates: the service's rules ---------------------------------------------------------------------


def test_a_drafts_dates_are_kept_when_it_is_issued(tenant: Tenant) -> None:
    tenant.customer.credit_days = 30
    tenant.customer.save()
    with clock.frozen(TODAY):
        invoice = _create(tenant, issue_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 11, 15))
        assert (invoice.issue_date, invoice.due_date, invoice.number) == (
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 15),
            "",
        )
        invoice = invoice_issue(invoice=invoice, actor=tenant.finance)
    assert (invoice.issue_date, invoice.due_date) == (dt.date(2026, 11, 1), dt.date(2026, 11, 15))
    assert invoice.number == "INV-2026-000001"
    event = AuditEvent.objects.get(action="invoice.drafted")
    assert (event.data["issue_date"], event.data["due_date"]) == ("2026-11-01", "2026-11-15")


def test_a_due_date_alone_keeps_today_as_the_issue_date_and_an_issue_date_alone_the_credit_terms(
    tenant: Tenant,
) -> None:
    tenant.customer.credit_days = 14
    tenant.customer.save()
    with clock.frozen(TODAY):
        due_only = invoice_issue(invoice=_create(tenant, due_date=dt.date(2026, 12, 31)), actor=None)
        issue_only = invoice_issue(invoice=_create(tenant, issue_date=dt.date(2026, 12, 1)), actor=None)
    assert (due_only.issue_date, due_only.due_date) == (TODAY, dt.date(2026, 12, 31))
    assert (issue_only.issue_date, issue_only.due_date) == (dt.date(2026, 12, 1), dt.date(2026, 12, 15))


@pytest.mark.parametrize(
    ("issue_date", "due_date", "field"),
    [
        (dt.date(2026, 11, 10), dt.date(2026, 11, 9), "due_date"),  # due before issue
        (None, dt.date(2026, 11, 19), "due_date"),  # due before today, the issue date when none is set
        (dt.date(2025, 11, 18), None, "issue_date"),  # more than a year back
        (dt.date(2027, 11, 22), None, "issue_date"),  # more than a year ahead
    ],
)
def test_dates_out_of_bounds_are_refused_and_nothing_is_saved(tenant: Tenant, issue_date, due_date, field) -> None:
    with clock.frozen(TODAY), pytest.raises(InvoiceDatesInvalid) as refused:
        _create(tenant, issue_date=issue_date, due_date=due_date)
    assert list(refused.value.fields) == [field]
    assert not Invoice.objects.exists()


def test_a_drafts_dates_change_and_clear_and_are_checked_again_on_issue(tenant: Tenant) -> None:
    with clock.frozen(TODAY):
        invoice = _create(tenant, due_date=dt.date(2026, 11, 25))
        invoice = invoice_draft_update(invoice=invoice, actor=None, notes="PO 7")  # dates left as they are
        assert invoice.due_date == dt.date(2026, 11, 25)
        with pytest.raises(InvoiceDatesInvalid):
            invoice_draft_update(invoice=invoice, actor=None, issue_date=dt.date(2026, 11, 26))
        invoice.refresh_from_db()
        assert (invoice.issue_date, invoice.due_date) == (None, dt.date(2026, 11, 25))
    with clock.frozen(dt.date(2026, 11, 30)), pytest.raises(InvoiceDatesInvalid):  # now due before today
        invoice_issue(invoice=invoice, actor=None)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (Invoice.Status.DRAFT, "")
    with clock.frozen(dt.date(2026, 11, 30)):
        invoice = invoice_draft_update(invoice=invoice, actor=None, due_date=None)
        invoice = invoice_issue(invoice=invoice, actor=None)
    assert invoice.due_date == dt.date(2026, 11, 30) + dt.timedelta(days=tenant.customer.credit_days)


# ---- Subscriptions: the service's rule ----------------------------------------------------------------


def test_a_line_is_billed_only_for_the_invoices_own_customers_subscription(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    own = _subscription(tenant.customer)
    for foreign in (_subscription(tenant.other_customer), _subscription(other_tenant.customer)):
        with pytest.raises(InvoiceLineSubscriptionInvalid):
            draft(tenant.customer, LineInput("Seats", Decimal(1), Decimal(1), subscription=foreign))
    assert not Invoice.objects.exists()
    invoice = draft(tenant.customer, LineInput("Seats", Decimal(1), Decimal(1), subscription=own))
    assert invoice.lines.get().subscription == own


# ---- The editor page --------------------------------------------------------------------------------


def test_the_picker_offers_the_customers_subscriptions_and_fills_a_line_left_blank(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    own = _subscription(tenant.customer, "Microsoft 365 E3", 12, "36.00")
    sibling = _subscription(tenant.other_customer, "Sibling's plan")
    foreign = _subscription(other_tenant.customer, "Foreign plan")
    client = client_for(tenant.finance)
    page = client.get(f"{EDITOR}?customer={tenant.customer.pk}").content.decode()
    assert "Microsoft 365 E3 · 12 × 36" in page
    assert 'data-unit-price="36"' in page
    assert "Sibling&#x27;s plan" not in page
    assert "Foreign plan" not in page

    for stranger in (sibling, foreign):  # another customer's or another partner's: not a choice
        response = client.post(EDITOR, _post({"subscription": str(stranger.pk)}, customer=str(tenant.customer.pk)))
        assert response.status_code == 400
        assert "subscription" in response.context["formset"].errors[0]
    assert not Invoice.objects.exists()

    # Picked and left blank: description, quantity and price come from the subscription; typed ones stay.
    data = _post(
        {"subscription": str(own.pk)},
        {"subscription": str(own.pk), "description": "E3 true-up", "quantity": "2", "unit_price": "30"},
        customer=str(tenant.customer.pk), issue_date="", due_date="",
    )  # fmt: skip
    with clock.frozen(TODAY):
        assert client.post(EDITOR, data).status_code == 302
    invoice = Invoice.objects.get()
    assert [(x.description, x.quantity, x.unit_price, x.subscription_id, x.kind) for x in invoice.lines.all()] == [
        ("Microsoft 365 E3", Decimal(12), Decimal(36), own.pk, "subscription"),
        ("E3 true-up", Decimal(2), Decimal(30), own.pk, "subscription"),
    ]

    # The editor shows the link; unlinking a line makes it a manual line.
    edit = f"/staff/billing/invoices/{invoice.pk}/edit/"
    assert client.get(edit).context["formset"].initial[0]["subscription"] == own.pk
    first, second = invoice.lines.all()
    data = _post(
        {"line_id": str(first.pk), "subscription": str(own.pk), "description": "Microsoft 365 E3", "quantity": "12",
         "unit_price": "36"},
        {"line_id": str(second.pk), "subscription": "", "description": "Discount", "quantity": "1",
         "unit_price": "-5"},
        issue_date="", due_date="", **{"lines-INITIAL_FORMS": "2"},
    )  # fmt: skip
    assert client.post(edit, data).status_code == 302
    assert [(x.subscription_id, x.kind) for x in invoice.lines.all()] == [(own.pk, "subscription"), (None, "manual")]


def test_a_row_without_a_subscription_still_needs_its_figures(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.finance).post(
        EDITOR, _post({"description": "Seats"}, customer=str(tenant.customer.pk))
    )
    assert response.status_code == 400
    assert set(response.context["formset"].errors[0]) == {"quantity", "unit_price"}


def test_the_editor_sets_dates_and_shows_a_refused_one_on_its_field(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    row = {"description": "Seats", "quantity": "1", "unit_price": "10", "tax_rate": "20"}
    with clock.frozen(TODAY):
        refused = client.post(
            EDITOR, _post(row, customer=str(tenant.customer.pk), issue_date="2026-11-10", due_date="2026-11-01")
        )
        assert refused.status_code == 400
        assert refused.context["form"].errors["due_date"] == ["The due date cannot be before the issue date."]
        far = client.post(EDITOR, _post(row, customer=str(tenant.customer.pk), issue_date="2020-01-01"))
        assert far.status_code == 400
        assert "within a year of today" in far.context["form"].errors["issue_date"][0]
        assert not Invoice.objects.exists()

        saved = client.post(
            EDITOR, _post(row, customer=str(tenant.customer.pk), issue_date="2026-11-05", due_date="2026-12-05")
        )
        invoice = Invoice.objects.get()
        assert saved["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
        assert (invoice.issue_date, invoice.due_date) == (dt.date(2026, 11, 5), dt.date(2026, 12, 5))
        edit = client.get(f"/staff/billing/invoices/{invoice.pk}/edit/").content.decode()
        assert 'value="2026-11-05"' in edit
        assert 'value="2026-12-05"' in edit

        issued = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/", {"email": "no"})
    assert issued.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.issue_date, invoice.due_date) == (
        "issued",
        dt.date(2026, 11, 5),
        dt.date(2026, 12, 5),
    )


def test_a_draft_is_discarded_from_the_editor(tenant: Tenant, client_for) -> None:
    invoice = draft(tenant.customer)
    client = client_for(tenant.finance)
    page = client.get(f"/staff/billing/invoices/{invoice.pk}/edit/").content.decode()
    assert f'formaction="/staff/billing/invoices/{invoice.pk}/delete/"' in page
    assert "data-confirm=" in page
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/delete/", follow=True)
    assert b"Draft deleted." in response.content
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    assert AuditEvent.objects.get(action="invoice.draft_deleted").actor == tenant.finance


def test_another_partner_cannot_edit_or_discard_a_draft(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    invoice = draft(tenant.customer)
    client = client_for(other_tenant.finance)
    assert client.get(f"/staff/billing/invoices/{invoice.pk}/edit/").status_code == 404
    assert client.post(f"/staff/billing/invoices/{invoice.pk}/delete/").status_code == 404
    assert client.get(f"{EDITOR}?customer={tenant.customer.pk}").status_code == 200  # the id is simply not theirs
    assert Invoice.objects.filter(pk=invoice.pk).exists()


# ---- The API --------------------------------------------------------------------------------------


def test_the_api_sets_changes_and_clears_a_drafts_dates(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    body = {
        "customer": tenant.customer.pk, "issue_date": "2026-11-02", "due_date": "2026-11-30",
        "lines": [{"description": "Seats", "quantity": "1", "unit_price": "10.00"}],
    }  # fmt: skip
    with clock.frozen(TODAY):
        created = client.post("/api/v1/invoices/", body, format="json")
        assert created.status_code == 201, created.json()
        assert (created.json()["issue_date"], created.json()["due_date"]) == ("2026-11-02", "2026-11-30")
        url = f"/api/v1/invoices/{created.json()['id']}/"
        refused = client.patch(url, {"due_date": "2026-11-01"}, format="json")
        assert refused.status_code == 400
        assert list(refused.json()["fields"]) == ["due_date"]
        kept = client.patch(url, {"notes": "PO 7"}, format="json")
        assert (kept.json()["issue_date"], kept.json()["due_date"]) == ("2026-11-02", "2026-11-30")
        cleared = client.patch(url, {"issue_date": None, "due_date": None}, format="json")
        assert (cleared.json()["issue_date"], cleared.json()["due_date"]) == (None, None)
