"""Collections pages: the overview, the policy editor, runs, holds, the customer's banner and the
policy in plain words; who may do what, and that nobody reaches another tenant's rows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from billing.collections import selectors as selectors_collections
from billing.collections import wording
from billing.collections.models import CollectionPolicy, CollectionRun, CollectionStep, Notice
from billing.collections.services import StepInput, collection_policy_get, collection_policy_update, collections_run
from billing.invoicing.services import payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent, Customer
from partner_portal.tenancy import Scope
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.collections import invoice_due
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
OVERVIEW = "/staff/collections/"
POLICY = "/staff/collections/policy/"
RUNS = "/staff/collections/runs/"
START = "/staff/collections/runs/start/"
DEFAULT_WORDS = (
    "Invoices are due 30 days after issue. We send a reminder 3 days before the due date, on the due date, "
    "7 and 14 days after it; a final notice 21 days after it. 30 days after the due date we suspend the "
    "subscriptions billed on the overdue invoice if at least 10.00\xa0USD is overdue. Once the overdue balance "
    "is paid, we reactivate them automatically. No notice is sent after the due date while less than "
    "10.00\xa0USD is overdue."
)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen(TODAY):
        yield


def _days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def _policy_post(steps: list[tuple[str, str]], **values: str) -> dict[str, str]:
    data = {
        "min_amount": "10.00",
        "grace_days": "0",
        "suspend_scope": "overdue_invoices",
        "reactivate_automatically": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, (offset, action) in enumerate(steps):
        data |= {f"steps-{i}-offset_days": offset, f"steps-{i}-action": action}
    return data | values


def _suspended_customer(tenant: Tenant, on_commit) -> tuple[Customer, Subscription]:
    """The tenant's first customer, 30 days past due on an invoice billing its one subscription,
    after today's run: suspended (the record-only Partner Center confirms at once)."""
    subscription = SubscriptionFactory(customer=tenant.customer, product="Microsoft 365 E3")
    invoice_due(tenant.customer, _days_ago(30), "432.00", subscription)
    with on_commit():
        collections_run(partner=tenant.partner, run_date=TODAY)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.suspension_source) == (Subscription.Status.SUSPENDED, "collections")
    return tenant.customer, subscription


def _overview_names(html: bytes) -> list[str]:
    return re.findall(r'<a href="/staff/billing/customers/\d+/">([^<]+)</a>', html.decode())


# ---- Who may do what ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OVERVIEW, POLICY, RUNS])
def test_anonymous_users_are_sent_to_sign_in(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [OVERVIEW, POLICY, RUNS])
def test_customer_users_may_not_open_staff_collections_pages(tenant: Tenant, client_for, url: str) -> None:
    assert client_for(tenant.customer_admin).get(url).status_code == 403


def test_customer_users_may_not_start_a_run_or_hold(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.customer_admin)
    assert client.post(START).status_code == 403
    hold = f"/staff/collections/customers/{tenant.customer.pk}/hold/"
    assert client.post(hold, {"until": "2026-12-01", "reason": "x"}).status_code == 403
    assert not CollectionRun.objects.exists()


def test_another_partners_run_and_customer_are_not_found(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    run = collections_run(partner=other_tenant.partner, run_date=TODAY)
    client = client_for(tenant.admin)
    assert client.get(f"{RUNS}{run.pk}/").status_code == 404
    hold = f"/staff/collections/customers/{other_tenant.customer.pk}/hold/"
    assert client.get(hold).status_code == 404
    assert client.post(hold, {"until": "2026-12-01", "reason": "Promised"}).status_code == 404
    other_tenant.customer.refresh_from_db()
    assert other_tenant.customer.promise_to_pay_until is None


def test_agents_read_the_policy_but_cannot_change_it(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    response = client.get(POLICY)
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert b"Only partner admins can change the collections policy" in response.content
    assert b"Save policy" not in response.content
    assert b'name="min_amount"' in response.content
    assert b"disabled" in response.content
    refused = client.post(POLICY, _policy_post([("30", "suspend")], min_amount="0.00"))
    assert refused.status_code == 403
    assert not CollectionPolicy.objects.exists()  # not even the default one was created


def test_agents_see_the_overview_and_runs_but_cannot_run_or_hold(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    overview = client.get(OVERVIEW)
    assert overview.status_code == 200
    assert b"Run collections now" not in overview.content
    assert client.get(RUNS).status_code == 200
    assert client.post(START).status_code == 403
    assert client.get(f"/staff/collections/customers/{tenant.customer.pk}/hold/").status_code == 403
    assert not CollectionRun.objects.exists()


def test_finance_may_not_change_the_policy(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.finance).post(POLICY, _policy_post([("30", "suspend")]))
    assert response.status_code == 403


# ---- The policy editor -------------------------------------------------------------------------------


def test_the_policy_page_shows_the_default_steps_in_order(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).get(POLICY)
    assert response.status_code == 200
    initial = [(f.initial.get("offset_days"), f.initial.get("action")) for f in response.context["formset"].forms]
    assert initial == [
        (-3, "remind"), (0, "remind"), (7, "remind"), (14, "remind"), (21, "final_notice"), (30, "suspend"),
        (None, None), (None, None),
    ]  # fmt: skip
    assert DEFAULT_WORDS.replace("Invoices are due 30 days after issue. ", "") in response.content.decode()


def test_an_admin_saves_the_policy_blank_rows_ignored_and_audited(tenant: Tenant, client_for) -> None:
    steps = [("-3", "remind"), ("", ""), ("10", "remind"), ("20", "final_notice"), ("45", "suspend")]
    data = _policy_post(steps, min_amount="50.00", grace_days="2", suspend_scope="all")
    data.pop("reactivate_automatically")
    response = client_for(tenant.admin).post(POLICY, data)
    assert response.status_code == 302
    assert response["Location"] == POLICY
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert (policy.min_amount, policy.grace_days, policy.suspend_scope, policy.reactivate_automatically) == (
        Decimal("50.00"), 2, "all", False,
    )  # fmt: skip
    assert list(policy.steps.values_list("offset_days", "action")) == [
        (-3, "remind"), (10, "remind"), (20, "final_notice"), (45, "suspend"),
    ]  # fmt: skip
    event = AuditEvent.objects.get(action="collections.policy_updated")
    assert (event.actor, event.data["after"]["min_amount"]) == (tenant.admin, "50.00")


def test_removing_a_step_with_its_tick_box(tenant: Tenant, client_for) -> None:
    data = _policy_post([("7", "remind"), ("14", "remind"), ("30", "suspend")], **{"steps-1-DELETE": "on"})
    assert client_for(tenant.admin).post(POLICY, data).status_code == 302
    steps = CollectionPolicy.objects.get(partner=tenant.partner).steps.values_list("offset_days", flat=True)
    assert list(steps) == [7, 30]


def test_a_refused_policy_shows_the_rule_and_keeps_what_was_typed(tenant: Tenant, client_for) -> None:
    collection_policy_get(partner=tenant.partner)
    steps = [("5", "suspend"), ("21", "final_notice"), ("", "remind")]
    response = client_for(tenant.admin).post(POLICY, _policy_post(steps, min_amount="25.50", grace_days="3"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Enter the day of this step." in html  # the half-filled row
    assert 'name="min_amount" value="25.50"' in html
    assert 'name="grace_days" value="3"' in html
    assert 'name="steps-0-offset_days" value="5"' in html
    assert 'name="steps-1-offset_days" value="21"' in html
    # The default policy is untouched.
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert (policy.min_amount, policy.steps.count()) == (Decimal("10.00"), 6)


def test_the_services_rules_are_shown_next_to_the_steps_and_fields(tenant: Tenant, client_for) -> None:
    steps = [("5", "suspend"), ("21", "final_notice")]
    response = client_for(tenant.admin).post(POLICY, _policy_post(steps, grace_days="120"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Suspension must be the last step: every reminder and notice comes before it." in html
    assert response.context["form"].errors["grace_days"] == ["Grace days must be between 0 and 90."]
    assert 'name="steps-1-action"' in html
    assert '<option value="final_notice" selected>' in html
    assert not CollectionPolicy.objects.filter(partner=tenant.partner, grace_days=120).exists()


def test_a_policy_with_no_step_is_refused(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).post(POLICY, _policy_post([("", "")]))
    assert response.status_code == 400
    assert "Add at least one step." in response.content.decode()


# ---- The policy in plain words ---------------------------------------------------------------------


def _words(customer: Customer) -> str:
    view = selectors_collections.collection_policy_read(partner=customer.partner)
    return " ".join(
        wording.policy_in_words(
            policy=view.policy,
            steps=view.steps,
            credit_days=customer.credit_days,
            currency=customer.currency,
            extra_grace_days=customer.collections_extra_grace_days,
            exempt=customer.collections_exempt,
        )
    )


def test_the_default_policy_in_plain_english(tenant: Tenant) -> None:
    with translation.override("en"):
        assert _words(tenant.customer) == DEFAULT_WORDS


def test_the_default_policy_in_plain_russian(tenant: Tenant) -> None:
    customer = tenant.customer
    customer.currency, customer.credit_days = "RUB", 14
    with translation.override("ru"):
        assert _words(customer) == (
            "Счета подлежат оплате в течение 14 дней после выставления. Мы отправляем напоминание за 3 дня "
            "до срока оплаты, в день оплаты, через 7 и 14 дней после него; последнее предупреждение через 21 "
            "день после него. Через 30 дней после срока оплаты мы приостанавливаем подписки, включённые в "
            "просроченный счёт, если просрочено не меньше 10,00\xa0RUB. Как только просроченная сумма оплачена, "
            "мы автоматически возобновляем их. После срока оплаты уведомления не отправляются, пока "
            "просрочено меньше 10,00\xa0RUB."
        )


def test_grace_days_move_the_days_after_the_due_date_and_exempt_customers_read_so(tenant: Tenant) -> None:
    collection_policy_update(
        partner=tenant.partner, actor=tenant.admin, min_amount=Decimal("0.00"), grace_days=2, suspend_scope="all",
        reactivate_automatically=False,
        steps=[StepInput(0, "remind"), StepInput(10, "final_notice"), StepInput(20, "suspend")],
    )  # fmt: skip
    customer = tenant.customer
    customer.credit_days, customer.collections_extra_grace_days = 1, 3
    assert _words(customer) == (
        "Invoices are due 1 day after issue. We send a reminder on the due date; a final notice 15 days after it. "
        "25 days after the due date we suspend all your subscriptions if at least 0.00\xa0USD is overdue. "
        "Once the overdue balance is paid, we reactivate them on request."
    )
    customer.collections_exempt = True
    assert _words(customer).endswith(
        "a final notice 15 days after it. Your subscriptions are not suspended for late payment: "
        "you receive reminders only."
    )


def test_the_customers_home_and_staff_billing_page_show_the_policy(tenant: Tenant, client_for) -> None:
    home = client_for(tenant.customer_admin).get("/my/")
    assert DEFAULT_WORDS in home.content.decode()
    staff = client_for(tenant.agent).get(f"/staff/billing/customers/{tenant.customer.pk}/")
    assert DEFAULT_WORDS in staff.content.decode()


# ---- The customer's banner ----------------------------------------------------------------------------


def test_no_banner_for_a_customer_in_good_standing(tenant: Tenant, client_for) -> None:
    SubscriptionFactory(customer=tenant.customer)
    invoice_due(tenant.customer, TODAY + dt.timedelta(days=10), "100.00")
    response = client_for(tenant.customer_admin).get("/my/")
    assert b"data-collections-banner" not in response.content


def test_the_suspension_banner_says_what_why_and_how_and_goes_once_paid(tenant: Tenant, client_for, on_commit) -> None:
    tenant.partner.payment_instructions = "Bank transfer to Alpha Partners, IBAN GB00 TEST 0000 0000."
    tenant.partner.save()
    customer, subscription = _suspended_customer(tenant, on_commit)
    client = client_for(tenant.customer_admin)
    html = client.get("/my/").content.decode()
    assert 'data-collections-banner="suspended"' in html
    assert "Some of your subscriptions are suspended for non-payment" in html
    assert "<strong>Microsoft 365 E3</strong> — suspended" in html
    assert "Why: 432.00\xa0USD is overdue on 1 invoice:" in html
    assert "INV-2026-000001" in html
    assert "Bank transfer to Alpha Partners, IBAN GB00 TEST 0000 0000." in html
    # The other customer of the partner sees nothing of it.
    assert b"data-collections-banner" not in client_for(tenant.other_customer_admin).get("/my/").content

    payment_record(
        partner=tenant.partner, customer=customer, actor=tenant.finance, amount=Decimal("432.00"), received_on=TODAY
    )
    with on_commit():
        collections_run(partner=tenant.partner, run_date=TODAY)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert b"data-collections-banner" not in client.get("/my/").content


def test_the_banner_names_the_oldest_overdue_invoices_and_counts_the_rest(
    tenant: Tenant, client_for, on_commit
) -> None:
    _suspended_customer(tenant, on_commit)  # INV-2026-000001, 432.00, 30 days overdue
    for days in range(2, 9):  # seven more, each overdue by fewer days than the one before
        invoice_due(tenant.customer, _days_ago(30 - days), "10.00")
    client = client_for(tenant.customer_admin)
    client.get("/my/")  # the session's first request reads what later ones find cached
    with CaptureQueriesContext(connection) as eight:
        html = client.get("/my/").content.decode()
    assert "Why: 502.00\xa0USD is overdue on 8 invoices:" in html
    named = re.findall(r"INV-2026-0000\d\d</a>", html.split("Why:", 1)[1].split("</p>", 1)[0])
    assert named == [f"INV-2026-00000{n}</a>" for n in range(1, 6)]  # the five oldest, oldest first
    assert "(10.00\xa0USD) and 3 more." in html

    for days in range(9, 20):
        invoice_due(tenant.customer, _days_ago(30 - days), "10.00")
    with CaptureQueriesContext(connection) as nineteen:
        html = client.get("/my/").content.decode()
    assert "overdue on 19 invoices:" in html
    assert "and 14 more." in html
    assert len(nineteen) == len(eight)  # the banner does not read more rows one by one


def test_a_softer_notice_when_suspension_is_days_away(tenant: Tenant, client_for) -> None:
    SubscriptionFactory(customer=tenant.customer)
    invoice_due(tenant.customer, _days_ago(26), "250.00")
    collections_run(partner=tenant.partner, run_date=_days_ago(5))  # the final notice, 21 days overdue
    html = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert 'data-collections-banner="soon"' in html
    assert "250.00\xa0USD is overdue: your subscriptions will be suspended in 4 days, on Nov 24, 2026" in html


def test_no_warning_for_an_exempt_customer_or_one_held(tenant: Tenant, client_for) -> None:
    invoice_due(tenant.customer, _days_ago(26), "250.00")
    Customer.objects.filter(pk=tenant.customer.pk).update(collections_exempt=True)
    client = client_for(tenant.customer_admin)
    assert b"data-collections-banner" not in client.get("/my/").content
    Customer.objects.filter(pk=tenant.customer.pk).update(collections_exempt=False, promise_to_pay_until=_days_ago(-10))
    html = client.get("/my/").content.decode()
    assert "data-collections-banner" not in html
    assert "As agreed, no reminder is sent and nothing is suspended until Nov 30, 2026." in html


# ---- The overview -------------------------------------------------------------------------------------


@pytest.fixture
def in_collections(tenant: Tenant, on_commit) -> dict[str, Customer]:
    """Customers at different points: due in 2 days, 8 days late, 22 days late (held), 35 days late
    and suspended, 40 days late and exempt; and one paid up (not listed)."""
    p = tenant.partner
    made = {
        "soon": CustomerFactory(partner=p, name="Soon Ltd"),
        "late": CustomerFactory(partner=p, name="Late Ltd", domain="late.example"),
        "held": CustomerFactory(partner=p, name="Held Ltd", promise_to_pay_until=TODAY + dt.timedelta(days=5)),
        "suspended": CustomerFactory(partner=p, name="Suspended Ltd"),
        "exempt": CustomerFactory(partner=p, name="Exempt Ltd", collections_exempt=True),
        "fine": CustomerFactory(partner=p, name="Fine Ltd"),
    }
    invoice_due(made["soon"], TODAY + dt.timedelta(days=2), "20.00")
    invoice_due(made["late"], _days_ago(8), "80.00")
    invoice_due(made["held"], _days_ago(22), "300.00")
    subscription = SubscriptionFactory(customer=made["suspended"])
    invoice_due(made["suspended"], _days_ago(35), "900.00", subscription)
    invoice_due(made["exempt"], _days_ago(40), "150.00")
    invoice_due(made["fine"], TODAY + dt.timedelta(days=20), "60.00")
    with on_commit():
        collections_run(partner=p, run_date=TODAY)
    return made


def test_the_overview_lists_who_is_overdue_with_amount_days_last_notice_and_next_action(
    tenant: Tenant, in_collections: dict[str, Customer], client_for
) -> None:
    response = client_for(tenant.agent).get(OVERVIEW)
    assert response.status_code == 200
    # Whoever has owed longest first: an order that holds whatever currency each customer is billed in.
    assert _overview_names(response.content) == ["Exempt Ltd", "Suspended Ltd", "Held Ltd", "Late Ltd", "Soon Ltd"]
    assert response.context["total"] == 5  # Fine Ltd is not due for 20 days: not in collections
    rows = {r.customer.name: r for r in response.context["rows"]}
    late = rows["Late Ltd"]
    assert (late.customer.overdue_amount, late.days_overdue) == (Decimal("80.00"), 8)
    assert (late.last_notice.offset_days, late.last_notice.action) == (7, "remind")
    assert (late.next_action.action, late.next_action.on) == ("remind", TODAY + dt.timedelta(days=6))
    suspended = rows["Suspended Ltd"]
    assert (suspended.customer.suspended_count, suspended.customer.step_reached) == (1, "suspend")
    assert suspended.next_action is None
    held = rows["Held Ltd"]
    assert held.held is True
    assert held.last_notice is None  # paused: nothing was sent
    # The day after the promise ends (day 28 overdue) the due step is the final notice.
    assert (held.next_action.action, held.next_action.on) == ("final_notice", TODAY + dt.timedelta(days=6))
    exempt = rows["Exempt Ltd"]
    assert exempt.next_action is None  # never suspended, and the final notice went already
    html = response.content.decode()
    assert "80.00\xa0USD" in html
    assert "Held until" in html
    assert "Exempt" in html


def test_the_overview_announces_the_next_action_the_customers_own_page_announces(
    tenant: Tenant, in_collections: dict[str, Customer], client_for
) -> None:
    # A new invoice of the customer collections suspended: no reminder and no final notice for it
    # (nothing announces a suspension to a suspended customer), its own suspension on day 30.
    invoice_due(in_collections["suspended"], _days_ago(8), "40.00")
    response = client_for(tenant.agent).get(OVERVIEW)
    rows = {r.customer.name: r for r in response.context["rows"]}
    suspended = rows["Suspended Ltd"].next_action
    assert suspended is not None
    assert (suspended.action, suspended.on) == ("suspend", TODAY + dt.timedelta(days=22))
    scope = Scope(membership=tenant.agent.membership)
    for name, row in rows.items():
        status = selectors_collections.customer_collections_status(scope=scope, customer=row.customer)
        assert row.next_action == status.next_action, name


def test_the_overview_lists_customers_about_to_be_reminded(
    tenant: Tenant, in_collections: dict[str, Customer], client_for
) -> None:
    # Soon Ltd is due in 2 days: the -3 reminder went out, so it is in collections, nothing overdue.
    assert Notice.objects.filter(customer=in_collections["soon"], offset_days=-3).exists()
    response = client_for(tenant.agent).get(f"{OVERVIEW}?q=soon")
    rows = response.context["rows"]
    assert [r.customer.name for r in rows] == ["Soon Ltd"]
    assert (rows[0].customer.overdue_amount, rows[0].days_overdue) == (Decimal("0.00"), 0)
    assert (rows[0].next_action.action, rows[0].next_action.on) == ("remind", TODAY + dt.timedelta(days=2))


def test_the_overview_filters_and_search(tenant: Tenant, in_collections: dict[str, Customer], client_for) -> None:
    client = client_for(tenant.agent)
    assert _overview_names(client.get(f"{OVERVIEW}?situation=suspended").content) == ["Suspended Ltd"]
    assert _overview_names(client.get(f"{OVERVIEW}?situation=held").content) == ["Held Ltd"]
    assert _overview_names(client.get(f"{OVERVIEW}?situation=exempt").content) == ["Exempt Ltd"]
    assert _overview_names(client.get(f"{OVERVIEW}?step=suspend").content) == ["Suspended Ltd"]
    assert _overview_names(client.get(f"{OVERVIEW}?step=remind").content) == ["Late Ltd", "Soon Ltd"]
    # Held: paused; exempt and 40 days late: its due step is the suspension, which it never gets.
    assert _overview_names(client.get(f"{OVERVIEW}?step=none").content) == ["Exempt Ltd", "Held Ltd"]
    assert _overview_names(client.get(f"{OVERVIEW}?q=late.example").content) == ["Late Ltd"]
    empty = client.get(f"{OVERVIEW}?q=nobody")
    assert b"No customer matches these filters" in empty.content


def test_the_overview_sorts(tenant: Tenant, in_collections: dict[str, Customer], client_for) -> None:
    client = client_for(tenant.agent)
    assert _overview_names(client.get(f"{OVERVIEW}?sort=name").content) == [
        "Exempt Ltd", "Held Ltd", "Late Ltd", "Soon Ltd", "Suspended Ltd",
    ]  # fmt: skip
    assert _overview_names(client.get(f"{OVERVIEW}?sort=-days").content) == [
        "Exempt Ltd", "Suspended Ltd", "Held Ltd", "Late Ltd", "Soon Ltd",
    ]  # fmt: skip
    assert _overview_names(client.get(f"{OVERVIEW}?sort=overdue").content)[:2] == ["Soon Ltd", "Late Ltd"]


def test_sorted_by_amount_the_overview_keeps_to_one_currency(
    tenant: Tenant, in_collections: dict[str, Customer], client_for
) -> None:
    euros = CustomerFactory(partner=tenant.partner, name="Euro GmbH", currency="EUR")
    invoice_due(euros, _days_ago(50), "5000.00")  # more than anyone's USD, in another currency
    collections_run(partner=tenant.partner, run_date=TODAY)  # the overview's figures are the last run's
    client = client_for(tenant.agent)
    everyone = _overview_names(client.get(OVERVIEW).content)
    assert everyone[0] == "Euro GmbH"  # the default order (days overdue) shows every currency
    by_amount = client.get(f"{OVERVIEW}?sort=-overdue")
    assert _overview_names(by_amount.content) == ["Suspended Ltd", "Held Ltd", "Exempt Ltd", "Late Ltd", "Soon Ltd"]
    assert by_amount.context["form"]["currency"].value() == "USD"  # the partner's currency, shown and changeable
    assert _overview_names(client.get(f"{OVERVIEW}?sort=-overdue&currency=EUR").content) == ["Euro GmbH"]


def test_the_overview_pages_with_a_cursor(
    tenant: Tenant, in_collections: dict[str, Customer], client_for, monkeypatch
) -> None:
    monkeypatch.setattr("billing.collections.views.CollectionsOverviewView.page_size", 2)
    client = client_for(tenant.agent)
    first = client.get(f"{OVERVIEW}?sort=name")
    assert _overview_names(first.content) == ["Exempt Ltd", "Held Ltd"]
    second = client.get(f"{OVERVIEW}?sort=name&cursor={first.context['page'].next_cursor}")
    assert _overview_names(second.content) == ["Late Ltd", "Soon Ltd"]
    third = client.get(f"{OVERVIEW}?sort=name&cursor={second.context['page'].next_cursor}")
    assert _overview_names(third.content) == ["Suspended Ltd"]
    back = client.get(f"{OVERVIEW}?sort=name&cursor={third.context['page'].prev_cursor}")
    assert _overview_names(back.content) == ["Late Ltd", "Soon Ltd"]
    names, cursor = [], ""
    for _page in range(3):
        response = client.get(f"{OVERVIEW}?sort=-overdue&cursor={cursor}")
        names += _overview_names(response.content)
        cursor = response.context["page"].next_cursor or ""
    assert cursor == ""
    assert names == [
        "Suspended Ltd", "Held Ltd", "Exempt Ltd", "Late Ltd", "Soon Ltd",
    ]  # fmt: skip


def test_the_overview_takes_the_same_number_of_queries_for_3_or_12_customers(
    tenant: Tenant, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(tenant.agent)

    def add(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory(partner=tenant.partner)
            invoice_due(customer, _days_ago(8), "80.00")
            invoice_due(customer, _days_ago(31), "20.00", SubscriptionFactory(customer=customer))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(OVERVIEW).status_code == 200
        return len(captured)

    add(3)
    collections_run(partner=tenant.partner, run_date=TODAY)
    few = queries()
    add(9)
    collections_run(partner=tenant.partner, run_date=TODAY)
    assert queries() == few
    with django_assert_max_num_queries(14):
        client.get(OVERVIEW)


# ---- Runs --------------------------------------------------------------------------------------------


def test_finance_runs_collections_now_and_sees_what_it_did(tenant: Tenant, client_for, mailoutbox) -> None:
    invoice = invoice_due(tenant.customer, _days_ago(7), "80.00")
    client = client_for(tenant.finance)
    response = client.post(START)
    run = CollectionRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{RUNS}{run.pk}/"
    assert (run.run_date, run.triggered_by, run.actor, run.status) == (TODAY, "page", tenant.finance, "done")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Collections run for Nov 20, 2026 done: 1 notice, 0 suspensions, 0 reactivations." in html
    assert f">{invoice.number}</a>" in html
    assert "7 days after the due date" in html
    assert [o["customer"] for o in page.context["outcomes"]] == [tenant.customer.name]
    listing = client.get(RUNS).content.decode()
    assert f'href="{RUNS}{run.pk}/"' in listing


def test_the_run_start_is_post_only(tenant: Tenant, client_for) -> None:
    assert client_for(tenant.admin).get(START).status_code == 405
    assert not CollectionRun.objects.exists()


# ---- Holding a customer out of collections -----------------------------------------------------------


def test_finance_holds_a_customer_until_a_date_with_a_reason(tenant: Tenant, client_for) -> None:
    url = f"/staff/collections/customers/{tenant.customer.pk}/hold/"
    client = client_for(tenant.finance)
    assert client.get(url).status_code == 200
    response = client.post(url, {"until": "2026-12-05", "reason": "Promised by phone: transfer on the 4th"})
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW
    tenant.customer.refresh_from_db()
    assert tenant.customer.promise_to_pay_until == dt.date(2026, 12, 5)
    event = AuditEvent.objects.get(action="collections.hold_granted")
    assert (event.actor, event.customer, event.data["reason"]) == (
        tenant.finance, tenant.customer, "Promised by phone: transfer on the 4th",
    )  # fmt: skip


def test_a_hold_in_the_past_is_refused_and_keeps_the_reason(tenant: Tenant, client_for) -> None:
    url = f"/staff/collections/customers/{tenant.customer.pk}/hold/"
    response = client_for(tenant.admin).post(url, {"until": "2026-11-19", "reason": "Late promise"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose today or a later day." in html
    assert "Late promise</textarea>" in html
    tenant.customer.refresh_from_db()
    assert tenant.customer.promise_to_pay_until is None


def test_a_hold_from_the_billing_page_returns_there(tenant: Tenant, client_for) -> None:
    url = f"/staff/collections/customers/{tenant.customer.pk}/hold/"
    response = client_for(tenant.admin).post(
        url, {"until": "2026-11-25", "reason": "PO in approval", "next": "billing"}
    )
    assert response["Location"] == f"/staff/billing/customers/{tenant.customer.pk}/"


def test_the_staff_billing_page_shows_collections_and_notices(tenant: Tenant, client_for) -> None:
    invoice_due(tenant.customer, _days_ago(21), "500.00")
    collections_run(partner=tenant.partner, run_date=TODAY)
    html = client_for(tenant.finance).get(f"/staff/billing/customers/{tenant.customer.pk}/").content.decode()
    assert "Overdue: <strong>500.00\xa0USD</strong>." in html
    assert "Next: Suspension on Nov 29, 2026 (INV-2026-000001)." in html
    assert "21 days after the due date" in html
    assert "Hold out of collections" in html
    agent = client_for(tenant.agent).get(f"/staff/billing/customers/{tenant.customer.pk}/").content.decode()
    assert "Hold out of collections" not in agent


def test_steps_of_a_saved_policy_are_the_ones_used(tenant: Tenant) -> None:
    collection_policy_update(
        partner=tenant.partner, actor=tenant.admin, min_amount=Decimal("50.00"), grace_days=0,
        suspend_scope="overdue_invoices", reactivate_automatically=True,
        steps=[StepInput(5, CollectionStep.Action.REMIND), StepInput(30, CollectionStep.Action.SUSPEND)],
    )  # fmt: skip
    view = selectors_collections.collection_policy_read(partner=tenant.partner)
    assert [(s.offset_days, s.action) for s in view.steps] == [(5, "remind"), (30, "suspend")]
    assert view.policy.min_amount == Decimal("50.00")


# ---- The demo ------------------------------------------------------------------------------------------


def test_the_demo_shows_every_step_of_the_default_policy(client_for) -> None:
    from django.core.management import call_command

    from partner_portal.models import User

    with clock.frozen(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        steps = dict(Notice.objects.filter(partner__slug="contoso").values_list("customer__domain", "offset_days"))
        assert steps == {
            "lucerne.example": -3,
            "proseware.example": 0,
            "fourthcoffee.example": 7,
            "wideworldimporters.example": 14,
            "litware.example": 21,
            "alpineskihouse.example": 21,  # exempt: notices, never a suspension
            "adatum.example": 30,
        }
        adatum = Subscription.objects.filter(customer__domain="adatum.example")
        assert set(adatum.values_list("status", flat=True)) == {Subscription.Status.SUSPENDED}
        coho = Customer.objects.get(domain="cohowinery.example")
        assert coho.promise_to_pay_until == dt.date(2026, 11, 26)
        home = client_for(User.objects.get(email="billing@adatum.example")).get("/my/").content.decode()
        assert 'data-collections-banner="suspended"' in home
        assert "Bank transfer to Contoso Cloud Partners" in home
        northwind = client_for(User.objects.get(email="billing@northwind.example")).get("/my/").content.decode()
        assert "data-collections-banner" not in northwind
