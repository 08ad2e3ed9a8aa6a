"""Billing pages for staff and the customer's home: lists, the draft editor, issuing, payments,
credit notes, voiding, who may do what, and that nobody sees another tenant's invoices."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing.invoicing.models import CreditNote, Invoice, Payment, PaymentAllocation
from billing.invoicing.services import LineInput, credit_note_issue, invoice_void, payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
LIST = "/staff/billing/invoices/"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    """Every page and service in these tests sees 20 November 2026."""
    with clock.frozen(TODAY):
        yield


def _numbers(html: bytes) -> list[str]:
    """Invoice numbers (or "Draft #n") linked to their detail page, in table order."""
    return re.findall(r'<a[^>]* href="/staff/billing/invoices/\d+/"[^>]*>([^<]+)</a>', html.decode())


def _lines_post(*rows: tuple[str, str, str, str], initial: int = 0, **extra: str) -> dict[str, str]:
    """A draft editor POST: the management form and one row per (description, quantity, price, tax)."""
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, (description, quantity, price, tax) in enumerate(rows):
        data |= {
            f"lines-{i}-description": description,
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price,
            f"lines-{i}-tax_rate": tax,
        }
    return data | extra


def _payment_post(**values: str) -> dict[str, str]:
    return {
        "amount": "100.00",
        "received_on": "2026-11-18",
        "method": "bank_transfer",
        "reference": "BACS 42",
        "allocation": "oldest",
        "invoice": "",
        "invoice_amount": "",
    } | values


# ---- Invoice list ----------------------------------------------------------------------------------


class TestInvoiceList:
    @pytest.fixture
    def invoices(self, tenant: Tenant) -> dict[str, Invoice]:
        zeta = CustomerFactory(partner=tenant.partner, name="Zeta Corp", domain="zeta.example")
        return {
            "old": issued(tenant.customer, line("Old", "1", "100.00", "0"), on=dt.date(2026, 9, 1)),
            "big": issued(tenant.customer, line("Big", "10", "100.00", "0"), on=dt.date(2026, 11, 2)),
            "zeta": issued(zeta, line("Zeta", "1", "50.00", "0"), on=dt.date(2026, 11, 3)),
            "draft": draft(tenant.other_customer, line("Draft", "1", "10.00", "0")),
        }

    def test_everyone_on_the_staff_sees_the_partners_invoices_and_drafts(
        self, tenant: Tenant, other_tenant: Tenant, invoices: dict[str, Invoice], client_for
    ) -> None:
        issued(other_tenant.customer)
        response = client_for(tenant.agent).get(LIST)
        assert response.status_code == 200
        assert sorted(_numbers(response.content)) == sorted(
            ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003", f"Draft #{invoices['draft'].pk}"]
        )
        assert response.context["total"] == 4
        assert b"Overdue" in response.content  # "old" was due on 1 October
        assert b"1,000.00\xc2\xa0USD" in response.content  # money with its currency, grouped

    def test_search_status_customer_period_and_overdue_filters(
        self, tenant: Tenant, invoices: dict[str, Invoice], client_for
    ) -> None:
        client = client_for(tenant.agent)
        assert _numbers(client.get(f"{LIST}?q=zeta.example").content) == ["INV-2026-000003"]
        assert _numbers(client.get(f"{LIST}?q=000002").content) == ["INV-2026-000002"]
        assert _numbers(client.get(f"{LIST}?status=draft").content) == [f"Draft #{invoices['draft'].pk}"]
        by_customer = client.get(f"{LIST}?customer={tenant.customer.pk}&sort=created")
        assert _numbers(by_customer.content) == ["INV-2026-000001", "INV-2026-000002"]
        assert _numbers(client.get(f"{LIST}?period=2026-09").content) == ["INV-2026-000001"]
        assert _numbers(client.get(f"{LIST}?overdue=on").content) == ["INV-2026-000001"]
        response = client.get(f"{LIST}?status=paid")
        assert _numbers(response.content) == []
        assert b"No invoices match these filters" in response.content

    def test_sorting_by_total_and_balance(self, tenant: Tenant, invoices: dict[str, Invoice], client_for) -> None:
        client = client_for(tenant.agent)
        draft_name = f"Draft #{invoices['draft'].pk}"
        assert _numbers(client.get(f"{LIST}?sort=-total").content) == [
            "INV-2026-000002", "INV-2026-000001", "INV-2026-000003", draft_name,
        ]  # fmt: skip
        assert _numbers(client.get(f"{LIST}?sort=balance").content) == [
            draft_name, "INV-2026-000003", "INV-2026-000001", "INV-2026-000002",
        ]  # fmt: skip

    def test_a_bad_filter_value_shows_every_invoice_with_the_error(
        self, tenant: Tenant, invoices: dict[str, Invoice], client_for
    ) -> None:
        response = client_for(tenant.agent).get(f"{LIST}?period=2026-13&sort=bogus")
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"period", "sort"}
        assert len(_numbers(response.content)) == 4

    def test_keyset_pages_cover_every_invoice_once(self, tenant: Tenant, client_for) -> None:
        for _ in range(30):
            draft(tenant.customer, line("Seat", "1", "1.00", "0"))
        client = client_for(tenant.agent)
        seen: list[str] = []
        url: str | None = f"{LIST}?status=draft&sort=-created"
        while url:
            response = client.get(url)
            seen += _numbers(response.content)
            cursor = response.context["page"].next_cursor
            url = f"{LIST}?status=draft&sort=-created&cursor={cursor}" if cursor else None
        expected = Invoice.objects.for_partner(tenant.partner).order_by("-created_at", "-pk")
        assert seen == [f"Draft #{pk}" for pk in expected.values_list("pk", flat=True)]
        assert len(seen) == 30

    def test_the_page_runs_a_fixed_number_of_queries(
        self, tenant: Tenant, client_for, django_assert_max_num_queries
    ) -> None:
        client = client_for(tenant.agent)
        issued(tenant.customer)
        client.get(LIST)  # warm the session
        with django_assert_max_num_queries(8) as few:
            client.get(LIST)
        for i in range(30):
            issued(CustomerFactory(partner=tenant.partner), line("Seat", "1", f"{i + 1}.00", "0"))
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(LIST)
        assert len(_numbers(response.content)) == 25

    def test_writers_get_the_buttons_agents_do_not(self, tenant: Tenant, client_for) -> None:
        finance = client_for(tenant.finance).get(f"{LIST}?status=issued").content.decode()
        assert 'href="/staff/billing/invoices/new/"' in finance
        assert 'href="/staff/billing/invoices.csv?status=issued"' in finance
        assert 'href="/staff/billing/payments/new/"' in finance
        agent = client_for(tenant.agent).get(LIST).content.decode()
        assert "/staff/billing/invoices/new/" not in agent
        assert "invoices.csv" not in agent


# ---- Invoice detail --------------------------------------------------------------------------------


def test_the_detail_page_shows_lines_totals_payments_credit_notes_and_history(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Microsoft 365 E3", "10", "36.00", "20"))
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("100.00"),
        received_on=dt.date(2026, 11, 10), reference="BACS 1",
    )  # fmt: skip
    credit_note_issue(invoice=invoice, actor=tenant.finance, amount=Decimal("32.00"), reason="One seat returned")
    response = client_for(tenant.agent).get(f"/staff/billing/invoices/{invoice.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Microsoft 365 E3", "360.00", "432.00\xa0USD", "300.00\xa0USD", "BACS 1", "CN-2026-000001"):
        assert text in html
    assert [e.action for e in response.context["history"]] == [
        "invoice.drafted", "invoice.issued", "payment.recorded", "credit_note.issued",
    ]  # fmt: skip
    for label in ("Invoice drafted", "Invoice issued", "Payment recorded", "Credit note issued", "One seat returned"):
        assert label in html
    assert f'href="/documents/invoices/{invoice.pk}.pdf"' in html
    # The agent reads only: no action buttons.
    assert f"/staff/billing/invoices/{invoice.pk}/credit/" not in html
    assert "/staff/billing/payments/new/" not in html


def test_actions_follow_the_state(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    drafted = draft(tenant.customer)
    html = client.get(f"/staff/billing/invoices/{drafted.pk}/").content.decode()
    assert f"/staff/billing/invoices/{drafted.pk}/edit/" in html
    # Issue leads to the page that says what issuing does, with the email tick box; no quick POST.
    assert f'href="/staff/billing/invoices/{drafted.pk}/issue/"' in html
    assert f'action="/staff/billing/invoices/{drafted.pk}/issue/"' not in html
    assert "/void/" not in html
    open_invoice = issued(tenant.customer)
    html = client.get(f"/staff/billing/invoices/{open_invoice.pk}/").content.decode()
    assert f"/staff/billing/payments/new/?invoice={open_invoice.pk}" in html
    assert f"/staff/billing/invoices/{open_invoice.pk}/credit/" in html
    assert f"/staff/billing/invoices/{open_invoice.pk}/void/" in html
    assert "/edit/" not in html
    credit_note_issue(invoice=open_invoice, actor=None, amount=Decimal("1.00"), reason="Goodwill")
    html = client.get(f"/staff/billing/invoices/{open_invoice.pk}/").content.decode()
    assert "/void/" not in html  # something is credited: credit the rest instead


# ---- The draft editor ----------------------------------------------------------------------------


def test_finance_creates_a_draft_then_issues_it(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    assert client.get(f"/staff/billing/invoices/new/?customer={tenant.customer.pk}").status_code == 200
    response = client.post(
        "/staff/billing/invoices/new/",
        _lines_post(
            ("Microsoft 365 E3", "10", "36", "20"), ("Setup", "1.5", "99.99", "0"), ("", "", "", ""),
            customer=str(tenant.customer.pk), notes="PO 4711", action="save",
        ),
    )  # fmt: skip
    invoice = Invoice.objects.get(customer=tenant.customer)
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    assert (invoice.status, invoice.number, invoice.notes) == (Invoice.Status.DRAFT, "", "PO 4711")
    assert [(x.description, x.amount, x.tax_amount) for x in invoice.lines.order_by("position")] == [
        ("Microsoft 365 E3", Decimal("360.00"), Decimal("72.00")),
        ("Setup", Decimal("149.99"), Decimal("0.00")),  # 149.985 rounded half-up, once per line
    ]
    assert invoice.total == Decimal("581.99")
    assert b"581.99" in client.get(response["Location"]).content

    response = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/")
    invoice.refresh_from_db()
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    assert (invoice.status, invoice.number, invoice.issue_date) == (Invoice.Status.ISSUED, "INV-2026-000001", TODAY)
    assert AuditEvent.objects.filter(action="invoice.issued", actor=tenant.finance).count() == 1
    # Issuing again takes no second number.
    client.post(f"/staff/billing/invoices/{invoice.pk}/issue/")
    invoice.refresh_from_db()
    assert invoice.number == "INV-2026-000001"


def test_save_and_issue_in_one_step(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).post(
        "/staff/billing/invoices/new/",
        _lines_post(("Azure plan", "1", "250.00", "0"), customer=str(tenant.customer.pk), action="issue"),
    )
    invoice = Invoice.objects.get(customer=tenant.customer)
    assert response.status_code == 302
    assert (invoice.status, invoice.number, invoice.total) == (
        Invoice.Status.ISSUED,
        "INV-2026-000001",
        Decimal("250.00"),
    )


def test_bad_lines_are_shown_per_field_and_nothing_is_saved(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    response = client.post(
        "/staff/billing/invoices/new/",
        _lines_post(("Seats", "-1", "abc", "120"), ("", "2", "", ""), customer=str(tenant.customer.pk)),
    )
    assert response.status_code == 400
    errors = response.context["formset"].errors
    assert set(errors[0]) == {"quantity", "unit_price", "tax_rate"}
    assert set(errors[1]) == {"description", "unit_price"}
    assert b"Nothing was saved" in response.content
    assert not Invoice.objects.exists()
    # No line at all, and a customer of another scope: both refused.
    response = client.post("/staff/billing/invoices/new/", _lines_post(("", "", "", ""), customer="999999"))
    assert response.status_code == 400
    assert "customer" in response.context["form"].errors
    assert response.context["formset"].errors[0]  # the first line is required
    assert not Invoice.objects.exists()


def test_a_draft_is_edited_lines_replaced_and_removed(tenant: Tenant, client_for) -> None:
    invoice = draft(tenant.customer, line("Old A", "1", "10.00", "0"), line("Old B", "2", "5.00", "0"))
    client = client_for(tenant.finance)
    page = client.get(f"/staff/billing/invoices/{invoice.pk}/edit/")
    assert page.status_code == 200
    first_line = invoice.lines.order_by("position").first()
    assert page.context["formset"].initial[0] == {
        "line_id": first_line.pk, "subscription": None, "description": "Old A", "quantity": Decimal("1"), "unit_price": Decimal("10"),
        "tax_rate": Decimal("0"), "unit_code": "C62", "vat_category": "Z", "vat_exemption_reason": "",
        "vat_exemption_code": "",
    }  # fmt: skip
    data = _lines_post(("Old A", "3", "10", "0"), ("Old B", "2", "5", "0"), ("New C", "1", "7.5", "10"), initial=2)
    data |= {"lines-1-DELETE": "on", "notes": "Updated"}
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/edit/", data)
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert [x.description for x in invoice.lines.order_by("position")] == ["Old A", "New C"]
    assert (invoice.total, invoice.notes, invoice.status) == (Decimal("38.25"), "Updated", Invoice.Status.DRAFT)


def test_editing_keeps_what_the_page_does_not_show_of_a_subscription_line(tenant: Tenant, client_for) -> None:
    subscription = Subscription.objects.create(
        partner=tenant.partner, customer=tenant.customer, product="Microsoft 365 E3", quantity=10,
        unit_price=Decimal("36.00"), start_date=dt.date(2026, 1, 1),
    )  # fmt: skip
    generated = LineInput(
        description="Microsoft 365 E3 — November", quantity=Decimal(10), unit_price=Decimal("36.00"),
        kind="subscription", subscription=subscription, period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
    )  # fmt: skip
    invoice = draft(tenant.customer, generated)
    other = draft(tenant.other_customer, dataclasses.replace(generated, subscription=None))
    saved = invoice.lines.get()
    foreign_line = other.lines.get()
    data = _lines_post(("Microsoft 365 E3 — November", "12", "36", "0"), ("Extra", "1", "5", "0"), initial=1)
    data |= {"lines-0-line_id": str(saved.pk), "lines-1-line_id": str(foreign_line.pk)}  # a forged id is ignored
    data |= {"lines-0-subscription": str(subscription.pk)}  # the picker shows the line's subscription
    client_for(tenant.finance).post(f"/staff/billing/invoices/{invoice.pk}/edit/", data)
    first, second = invoice.lines.order_by("position")
    assert (first.quantity, first.kind, first.subscription_id, first.period_start, first.period_end) == (
        Decimal("12"), "subscription", subscription.pk, dt.date(2026, 11, 1), dt.date(2026, 11, 30),
    )  # fmt: skip
    assert (second.kind, second.subscription_id, second.period_start) == ("manual", None, None)


def test_an_issued_invoice_cannot_be_edited(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    client = client_for(tenant.finance)
    response = client.get(f"/staff/billing/invoices/{invoice.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/staff/billing/invoices/{invoice.pk}/", 302)]
    assert b"is issued and cannot change" in response.content
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/edit/", _lines_post(("Hacked", "1", "1", "0")))
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")
    assert list(invoice.lines.values_list("description", flat=True)) == ["Seats"]
    assert not AuditEvent.objects.filter(action="invoice.draft_updated").exists()


def test_a_draft_is_deleted_from_its_page(tenant: Tenant, client_for) -> None:
    drafted = draft(tenant.customer, line("Seats", "1", "100.00", "0"))
    client = client_for(tenant.finance)
    html = client.get(f"/staff/billing/invoices/{drafted.pk}/").content.decode()
    assert re.search(rf'<form method="post" action="/staff/billing/invoices/{drafted.pk}/delete/" data-confirm="', html)
    response = client.post(f"/staff/billing/invoices/{drafted.pk}/delete/", follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert b"Draft deleted." in response.content
    assert not Invoice.objects.filter(pk=drafted.pk).exists()
    assert AuditEvent.objects.get(action="invoice.draft_deleted").actor == tenant.finance


def test_an_issued_invoice_has_no_delete_button_and_is_not_deleted(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    client = client_for(tenant.admin)
    assert "/delete/" not in client.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/delete/", follow=True)
    assert response.redirect_chain == [(f"/staff/billing/invoices/{invoice.pk}/", 302)]
    assert b"is issued and cannot change" in response.content
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert not AuditEvent.objects.filter(action="invoice.draft_deleted").exists()


# ---- Payments --------------------------------------------------------------------------------------


def test_a_payment_for_one_invoice_updates_its_balance(tenant: Tenant, client_for) -> None:
    older = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    invoice = issued(tenant.customer, line("Nov", "1", "300.00", "0"))
    client = client_for(tenant.finance)
    page = client.get(f"/staff/billing/payments/new/?invoice={invoice.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["invoice"] == invoice.pk
    assert page.context["form"].initial["amount"] == Decimal("300.00")
    response = client.post(
        f"/staff/billing/payments/new/?invoice={invoice.pk}",
        _payment_post(amount="120.00", allocation="invoice", invoice=str(invoice.pk)),
    )
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    older.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PARTIALLY_PAID, Decimal("180.00"))
    assert older.balance == Decimal("100.00")  # not the oldest: the one chosen
    payment = Payment.objects.get()
    assert (payment.received_on, payment.reference, payment.recorded_by) == (
        dt.date(2026, 11, 18), "BACS 42", tenant.finance,
    )  # fmt: skip


def test_a_payment_without_allocation_pays_the_oldest_first_and_keeps_the_rest_as_credit(
    tenant: Tenant, client_for
) -> None:
    older = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    client = client_for(tenant.finance)
    assert client.get("/staff/billing/payments/new/").context["pick_form"] is not None
    response = client.post(
        f"/staff/billing/payments/new/?customer={tenant.customer.pk}", _payment_post(amount="150.00")
    )
    assert response["Location"] == f"/staff/billing/customers/{tenant.customer.pk}/"
    older.refresh_from_db()
    assert older.status == Invoice.Status.PAID
    assert Payment.objects.get().unallocated == Decimal("50.00")
    page = client.get(response["Location"])
    assert page.context["account"].credit == Decimal("50.00")
    assert b"is kept as credit" in page.content


def test_an_over_allocation_is_refused_with_the_error_and_nothing_is_recorded(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Nov", "1", "300.00", "0"))
    client = client_for(tenant.finance)
    url = f"/staff/billing/payments/new/?customer={tenant.customer.pk}"
    more_than_paid = _payment_post(
        amount="100.00", allocation="invoice", invoice=str(invoice.pk), invoice_amount="150.00"
    )
    response = client.post(url, more_than_paid)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["The allocations add up to more than the payment."]
    assert b"The allocations add up to more than the payment." in response.content
    more_than_owed = _payment_post(amount="500.00", allocation="invoice", invoice=str(invoice.pk))
    response = client.post(url, more_than_owed)
    assert response.status_code == 400
    assert "is not between 0 and the balance of INV-2026-000001" in response.context["form"].non_field_errors()[0]
    no_invoice = client.post(url, _payment_post(allocation="invoice"))
    assert "invoice" in no_invoice.context["form"].errors
    future = client.post(url, _payment_post(received_on="2026-12-01"))
    assert "received_on" in future.context["form"].errors
    assert not Payment.objects.exists()
    assert not PaymentAllocation.objects.exists()
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("300.00"), Invoice.Status.ISSUED)


def test_a_payment_cannot_name_another_customers_invoice(tenant: Tenant, client_for) -> None:
    theirs = issued(tenant.other_customer)
    response = client_for(tenant.finance).post(
        f"/staff/billing/payments/new/?customer={tenant.customer.pk}",
        _payment_post(allocation="invoice", invoice=str(theirs.pk)),
    )
    assert response.status_code == 400
    assert "invoice" in response.context["form"].errors
    assert not Payment.objects.exists()


def test_the_payment_list_filters_by_customer(tenant: Tenant, client_for) -> None:
    for customer, amount in ((tenant.customer, "10.00"), (tenant.other_customer, "20.00")):
        payment_record(partner=tenant.partner, customer=customer, actor=None, amount=Decimal(amount), received_on=TODAY)
    client = client_for(tenant.agent)
    everything = client.get("/staff/billing/payments/")
    assert everything.context["total"] == 2
    only_one = client.get(f"/staff/billing/payments/?customer={tenant.other_customer.pk}")
    assert [p.amount for p in only_one.context["page"].items] == [Decimal("20.00")]
    assert b"Alpha Customer Two" in only_one.content
    csv = client_for(tenant.finance).get(f"/staff/billing/payments.csv?customer={tenant.other_customer.pk}")
    rows = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 2
    assert "Alpha Customer Two" in rows[1]


# ---- Credit notes and voiding --------------------------------------------------------------------


def test_a_credit_note_through_the_page(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    client = client_for(tenant.finance)
    url = f"/staff/billing/invoices/{invoice.pk}/credit/"
    page = client.get(url)
    assert page.context["form"]["amount"].value() is None  # empty, so typing line quantities alone works
    assert 'placeholder="100.00"' in page.content.decode()
    too_much = client.post(url, {"amount": "100.01", "reason": "Too much"})
    assert too_much.status_code == 400
    assert "amount" in too_much.context["form"].errors
    no_reason = client.post(url, {"amount": "10.00", "reason": "  "})
    assert "reason" in no_reason.context["form"].errors
    assert not CreditNote.objects.exists()
    response = client.post(url, {"amount": "40.00", "reason": "Two seats returned"})
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    note = CreditNote.objects.get()
    assert (note.number, note.amount, note.reason, note.issued_by) == (
        "CN-2026-000001", Decimal("40.00"), "Two seats returned", tenant.finance,
    )  # fmt: skip
    assert (invoice.balance, invoice.amount_credited) == (Decimal("60.00"), Decimal("40.00"))


def test_void_needs_a_reason_and_keeps_the_number(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    client = client_for(tenant.finance)
    url = f"/staff/billing/invoices/{invoice.pk}/void/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "reason" in refused.context["form"].errors
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    response = client.post(url, {"reason": "Issued twice for the same month"})
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.balance, invoice.void_reason) == (
        Invoice.Status.VOID, "INV-2026-000001", Decimal("0.00"), "Issued twice for the same month",
    )  # fmt: skip
    assert b"Issued twice for the same month" in client.get(response["Location"]).content


def test_an_invoice_with_payments_is_not_voided(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("1.00"), received_on=TODAY
    )
    response = client_for(tenant.finance).post(f"/staff/billing/invoices/{invoice.pk}/void/", {"reason": "Oops"})
    assert response["Location"] == f"/staff/billing/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


# ---- Who may do what -----------------------------------------------------------------------------


def _write_requests(invoice: Invoice, open_invoice: Invoice, tenant: Tenant) -> list[tuple[str, str]]:
    return [
        ("get", "/staff/billing/invoices/new/"),
        ("post", "/staff/billing/invoices/new/"),
        ("get", f"/staff/billing/invoices/{invoice.pk}/edit/"),
        ("post", f"/staff/billing/invoices/{invoice.pk}/edit/"),
        ("get", f"/staff/billing/invoices/{invoice.pk}/issue/"),
        ("post", f"/staff/billing/invoices/{invoice.pk}/issue/"),
        ("post", f"/staff/billing/invoices/{invoice.pk}/delete/"),
        ("get", f"/staff/billing/invoices/{open_invoice.pk}/void/"),
        ("post", f"/staff/billing/invoices/{open_invoice.pk}/void/"),
        ("get", f"/staff/billing/invoices/{open_invoice.pk}/credit/"),
        ("post", f"/staff/billing/invoices/{open_invoice.pk}/credit/"),
        ("get", f"/staff/billing/payments/new/?customer={tenant.customer.pk}"),
        ("post", f"/staff/billing/payments/new/?customer={tenant.customer.pk}"),
    ]


def test_agents_read_but_cannot_write(tenant: Tenant, client_for) -> None:
    drafted = draft(tenant.customer)
    open_invoice = issued(tenant.customer)
    client = client_for(tenant.agent)
    for url in (
        LIST,
        f"{LIST}{drafted.pk}/",
        "/staff/billing/payments/",
        f"/staff/billing/customers/{tenant.customer.pk}/",
    ):
        assert client.get(url).status_code == 200, url
    for method, url in _write_requests(drafted, open_invoice, tenant):
        data = _payment_post(reason="x", amount="1.00") if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 403, (method, url)
    drafted.refresh_from_db()
    open_invoice.refresh_from_db()
    assert (drafted.status, open_invoice.status) == (Invoice.Status.DRAFT, Invoice.Status.ISSUED)
    assert not Payment.objects.exists()
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize("role", ["customer_admin", "customer_member"])
def test_customer_users_get_no_staff_billing_page(tenant: Tenant, client_for, role: str) -> None:
    drafted = draft(tenant.customer)
    open_invoice = issued(tenant.customer)
    client = client_for(getattr(tenant, role))
    reads = [
        ("get", LIST), ("get", f"{LIST}{open_invoice.pk}/"), ("get", "/staff/billing/payments/"),
        ("get", f"/staff/billing/customers/{tenant.customer.pk}/"), ("get", "/staff/billing/invoices.csv"),
        ("get", "/staff/billing/payments.csv"),
    ]  # fmt: skip
    for method, url in reads + _write_requests(drafted, open_invoice, tenant):
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_another_partners_invoice_is_not_found(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    drafted = draft(other_tenant.customer)
    open_invoice = issued(other_tenant.customer)
    client = client_for(tenant.finance)
    for pk in (drafted.pk, open_invoice.pk):
        for suffix in ("", "edit/", "issue/", "void/", "credit/", "delete/"):
            url = f"{LIST}{pk}/{suffix}"
            assert client.get(url).status_code == (405 if suffix == "delete/" else 404), url
            if suffix:  # the detail page only reads (POST is 405 there)
                assert client.post(url, {"reason": "x", "amount": "1.00"}).status_code == 404, url
    assert client.get(f"/staff/billing/payments/new/?invoice={open_invoice.pk}").status_code == 404
    assert client.get(f"/staff/billing/payments/new/?customer={other_tenant.customer.pk}").status_code == 404
    assert client.get(f"/staff/billing/customers/{other_tenant.customer.pk}/").status_code == 404
    drafted.refresh_from_db()
    open_invoice.refresh_from_db()
    assert (drafted.status, open_invoice.status) == (Invoice.Status.DRAFT, Invoice.Status.ISSUED)


# ---- The customer's billing page at the staff side, the dashboard, the customer home ------------------


def test_the_customer_billing_page_shows_the_account(tenant: Tenant, client_for) -> None:
    issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    issued(tenant.customer, line("Nov", "1", "50.00", "0"))
    issued(tenant.other_customer, line("Other", "1", "999.00", "0"))
    response = client_for(tenant.agent).get(f"/staff/billing/customers/{tenant.customer.pk}/")
    account = response.context["account"]
    assert (account.balance, account.overdue, account.open_invoices) == (Decimal("150.00"), Decimal("100.00"), 2)
    assert _numbers(response.content) == ["INV-2026-000002", "INV-2026-000001"]
    detail = client_for(tenant.agent).get(f"/staff/customers/{tenant.customer.pk}/")
    assert f'href="/staff/billing/customers/{tenant.customer.pk}/"'.encode() in detail.content


def test_the_dashboard_shows_receivables_per_currency(tenant: Tenant, client_for) -> None:
    euro = CustomerFactory(partner=tenant.partner, currency="EUR")
    issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))  # overdue
    issued(tenant.customer, line("Nov", "1", "50.00", "0"))
    issued(euro, line("EUR", "1", "70.00", "0"), on=dt.date(2026, 9, 1))  # overdue
    payment_record(partner=tenant.partner, customer=euro, actor=None, amount=Decimal("20.00"), received_on=TODAY)
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("5.00"),
        received_on=dt.date(2026, 10, 31),  # last month: not collected this month
    )  # fmt: skip
    response = client_for(tenant.agent).get("/staff/")
    summary = response.context["receivables"]
    assert [(x.currency, x.open_balance, x.overdue, x.overdue_invoices, x.collected_this_month) for x in summary.by_currency] == [
        ("EUR", Decimal("50.00"), Decimal("50.00"), 1, Decimal("20.00")),
        ("USD", Decimal("145.00"), Decimal("95.00"), 1, Decimal("0.00")),
    ]  # fmt: skip
    assert summary.overdue_invoices == 2
    assert "145.00\xa0USD" in response.content.decode()


def test_the_customer_home_shows_its_own_invoices_balance_and_subscriptions(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    mine = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    my_draft = draft(tenant.customer, line("Secret draft", "1", "1.00", "0"))
    sibling = issued(tenant.other_customer, line("Sibling", "1", "777.00", "0"))
    issued(other_tenant.customer, line("Foreign", "1", "888.00", "0"))
    invoice_void(invoice=issued(tenant.customer), actor=None, reason="Duplicate")
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("40.00"), received_on=TODAY
    )
    payment_record(
        partner=tenant.partner, customer=tenant.other_customer, actor=None, amount=Decimal("777.00"), received_on=TODAY
    )
    Subscription.objects.create(
        partner=tenant.partner, customer=tenant.customer, product="Microsoft 365 Business Premium", quantity=12,
        unit_price=Decimal("22.00"), start_date=dt.date(2026, 1, 1), status=Subscription.Status.SUSPENDED,
    )  # fmt: skip
    Subscription.objects.create(
        partner=tenant.partner, customer=tenant.other_customer, product="Dynamics 365 Sales", quantity=3,
        unit_price=Decimal("95.00"), start_date=dt.date(2026, 1, 1),
    )  # fmt: skip
    response = client_for(tenant.customer_member).get("/my/")
    assert response.status_code == 200
    html = response.content.decode()
    account = response.context["account"]
    assert (account.balance, account.overdue) == (Decimal("60.00"), Decimal("60.00"))
    assert [i.number for i in response.context["invoices"].items] == ["INV-2026-000003", mine.number]
    assert mine.number in html
    assert "60.00\xa0USD" in html
    assert f'href="/documents/invoices/{mine.pk}.pdf"' in html
    assert "Microsoft 365 Business Premium" in html
    assert "Suspended" in html
    # (The other partner's series has its own INV-2026-000001: its amount tells it apart.)
    for never in (sibling.number, f"Draft #{my_draft.pk}", "Secret draft", "Dynamics 365 Sales", "777.00", "888.00"):
        assert never not in html, never


def test_a_payment_dated_ahead_is_refused_by_the_page_and_the_api_alike(tenant: Tenant, client_for, api_for) -> None:
    issued(tenant.customer, line("Nov", "1", "300.00", "0"))
    ahead = (clock.today(tenant.partner.time_zone) + dt.timedelta(days=30)).isoformat()
    page = client_for(tenant.finance).post(
        f"/staff/billing/payments/new/?customer={tenant.customer.pk}",
        {**_payment_post(amount="100.00"), "received_on": ahead},
    )
    assert page.status_code == 400
    assert page.context["form"].errors["received_on"] == ["A payment cannot be received in the future."]
    api = api_for(tenant.finance).post(
        "/api/v1/payments/", {"customer": tenant.customer.pk, "amount": "100.00", "received_on": ahead}
    )
    assert api.status_code == 400
    assert api.json()["fields"] == {"received_on": ["A payment cannot be received in the future."]}
    assert not Payment.objects.exists()


def test_the_issue_page_ticks_the_email_and_names_the_drafts_own_dates(tenant: Tenant, client_for) -> None:
    tenant.customer.billing_email = "ap@alpha-customer.example"
    tenant.customer.save(update_fields=["billing_email"])
    drafted = draft(tenant.customer)
    client = client_for(tenant.finance)
    html = client.get(f"/staff/billing/invoices/{drafted.pk}/issue/").content.decode()
    assert re.search(r'<input type="checkbox" name="email" value="yes" id="issue-email" checked>', html)
    assert "Email it to the customer with the PDF (ap@alpha-customer.example)" in html
    assert "date as its issue date." in html  # today's
    drafted.issue_date, drafted.due_date = dt.date(2026, 11, 2), dt.date(2026, 12, 17)
    drafted.save(update_fields=["issue_date", "due_date"])
    html = client.get(f"/staff/billing/invoices/{drafted.pk}/issue/").content.decode()
    assert "and Nov 2, 2026 as its issue date, as set on the draft." in html
    assert "It is due on Dec 17, 2026, as set on the draft." in html
