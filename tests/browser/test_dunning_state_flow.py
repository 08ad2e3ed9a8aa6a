"""Dunning in the browser after a policy change and after a promise to pay.

An admin adds a reminder on day 3 and 2 grace days and runs collections from the page: a customer who
had the final notice gets no milder reminder, a suspended customer gets no notice announcing a
suspension, and the overview's next action is what a later run does. A customer held by a promise to
pay gets the final notice first when the hold ends, not a suspension.

The portal's clock (`partner_portal.clock`) is moved for the live server's thread as well as this one;
a staff session ends overnight, so staff sign in again on each new day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import formats, translation
from playwright.sync_api import Locator, Page, expect

from billing.collections.models import Notice
from partner_portal import clock
from partner_portal.models import Customer
from subscriptions.models import Subscription
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, run_on, steps_sent
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)

MoveClock = Callable[[int], None]


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> MoveClock:
    """Set the portal's time to 09:00 UTC on DUE + `day` days, for every thread (the live server's too)."""
    at = {"now": dt.datetime.combine(DUE, dt.time(9), tzinfo=dt.UTC)}
    monkeypatch.setattr(clock, "now", lambda: at["now"])

    def move(day: int) -> None:
        at["now"] = dt.datetime.combine(DUE + dt.timedelta(days=day), dt.time(9), tzinfo=dt.UTC)

    return move


def _short(day: int) -> str:
    with translation.override("en"):
        return str(formats.date_format(DUE + dt.timedelta(days=day), "SHORT_DATE_FORMAT"))


def _long(day: int) -> str:
    with translation.override("en"):
        return str(formats.date_format(DUE + dt.timedelta(days=day), "DATE_FORMAT"))


def _overview_row(page: Page, customer: Customer) -> Locator:
    page.goto("/staff/collections/")
    return page.locator(f"tr[data-customer='{customer.pk}']")


def _run_collections_now(page: Page) -> Locator:
    page.goto("/staff/collections/")
    page.click("text=Run collections now")
    return page.locator(".messages")


def _notice_steps(page: Page, customer: Customer) -> list[str]:
    """The steps listed in the notices of the customer's billing page, as a user reads them."""
    page.goto(f"/staff/billing/customers/{customer.pk}/")
    return [
        " ".join(text.split()) for text in page.locator(".table-notices tbody tr td:nth-child(3)").all_inner_texts()
    ]


def test_after_a_policy_change_dunning_never_steps_back(page: Page, move_clock: MoveClock) -> None:
    tenant = make_tenant("Alpha")
    final_customer = CustomerFactory(partner=tenant.partner, name="Final Ltd")
    suspended_customer = CustomerFactory(partner=tenant.partner, name="Suspended Ltd")
    final_sub = SubscriptionFactory(customer=final_customer, product="Microsoft 365 E3")
    suspended_sub = SubscriptionFactory(customer=suspended_customer, product="Microsoft 365 E5")
    final_invoice = invoice_due(final_customer, DUE, "100.00", final_sub)
    suspended_invoice = invoice_due(suspended_customer, DUE - dt.timedelta(days=9), "200.00", suspended_sub)
    # Day 21 under the default policy: Final Ltd has its final notice, Suspended Ltd (day 30) is suspended.
    move_clock(21)
    run_on(tenant.partner, 21)
    Subscription.objects.filter(pk=suspended_sub.pk).update(status=Subscription.Status.SUSPENDED)
    assert steps_sent(final_invoice) == [(21, "final_notice")]
    assert steps_sent(suspended_invoice) == [(30, "suspend")]
    page.on("dialog", lambda dialog: dialog.accept())  # "Run collections now?"

    # Day 22: the admin adds a reminder 3 days after the due date and 2 grace days.
    move_clock(22)
    sign_in(page, tenant.admin.email)
    page.goto("/staff/collections/policy/")
    page.click("text=Add step")
    new_row = page.locator("[data-step-row]").last
    new_row.locator("input[name$='-offset_days']").fill("3")
    new_row.locator("select[name$='-action']").select_option("remind")
    page.fill("input[name=grace_days]", "2")
    page.click("main form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Collections policy saved")

    # The overview announces, for Final Ltd, the suspension 9 days after its final notice under the
    # new policy (day 32), not the day-14 reminder that is now the due step.
    row = _overview_row(page, final_customer)
    expect(row.locator("td").nth(5)).to_contain_text("Suspension")
    expect(row.locator("td").nth(5)).to_contain_text(_short(32))
    expect(row.locator("td").nth(5)).not_to_contain_text("Reminder")
    expect(_overview_row(page, suspended_customer).locator("td").nth(5)).not_to_contain_text("Final notice")

    # The run takes nothing: no milder reminder for Final Ltd, no final notice for Suspended Ltd.
    expect(_run_collections_now(page)).to_contain_text("0 notices, 0 suspensions, 0 reactivations")
    assert _notice_steps(page, final_customer) == ["Final notice 21 days after the due date"]
    assert _notice_steps(page, suspended_customer) == ["Suspension 30 days after the due date"]
    assert not Notice.objects.filter(customer=suspended_customer, action__in=["remind", "final_notice"]).exists()

    # Day 31 nothing; day 32, as the overview said, Final Ltd is suspended.
    move_clock(31)
    sign_in(page, tenant.admin.email)
    expect(_run_collections_now(page)).to_contain_text("0 notices, 0 suspensions, 0 reactivations")
    move_clock(32)
    sign_in(page, tenant.admin.email)
    expect(_run_collections_now(page)).to_contain_text("1 notice, 1 suspension, 0 reactivations")
    assert _notice_steps(page, final_customer) == [
        "Suspension 30 days after the due date",
        "Final notice 21 days after the due date",
    ]
    final_sub.refresh_from_db()
    assert final_sub.status == Subscription.Status.SUSPENDED


def test_when_a_promise_to_pay_ends_the_final_notice_comes_first(page: Page, move_clock: MoveClock) -> None:
    tenant = make_tenant("Alpha")
    sub = SubscriptionFactory(customer=tenant.customer, product="Microsoft 365 E3")
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    page.on("dialog", lambda dialog: dialog.accept())

    # Day 20: finance holds the customer until day 35, past the suspension day (30).
    move_clock(20)
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/customers/{tenant.customer.pk}/")
    page.click("text=Hold out of collections")
    page.fill("input[name=until]", (DUE + dt.timedelta(days=35)).isoformat())
    page.fill("textarea[name=reason]", "Promised to pay by bank transfer.")
    page.click("main form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text(f"is held out of collections until {_long(35)}")

    # Runs during the hold send nothing; the overview announces the final notice for the day after it.
    for day in (21, 30, 35):
        move_clock(day)
        sign_in(page, tenant.finance.email)
        expect(_run_collections_now(page)).to_contain_text("0 notices, 0 suspensions")
    next_action = _overview_row(page, tenant.customer).locator("td").nth(5)
    expect(next_action).to_contain_text("Final notice")
    expect(next_action).to_contain_text(_short(36))

    # Day 36: the hold is over and the suspension day is long past; the final notice comes first.
    move_clock(36)
    sign_in(page, tenant.finance.email)
    expect(_run_collections_now(page)).to_contain_text("1 notice, 0 suspensions, 0 reactivations")
    assert _notice_steps(page, tenant.customer) == ["Final notice 21 days after the due date"]
    panel = page.locator("section[aria-labelledby=collections-title]")
    expect(panel).to_contain_text(f"Next: Suspension on {_long(45)} ({invoice.number}).")
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    assert steps_sent(invoice) == [(21, "final_notice")]
