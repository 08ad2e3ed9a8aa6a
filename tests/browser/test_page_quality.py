"""Every main page, as each role sees it, in Chromium: no serious accessibility violation (axe-core),
no id used twice, no sideways scrolling at a laptop's width (1366 px) or a phone's (390 px), and
nothing the Content-Security-Policy had to block."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from billing.collections.services import collections_run
from billing.invoicing.services import credit_note_issue, payment_record
from partner_portal import clock
from partner_portal.models import Role
from partner_portal.services import InvitationRequest, invitation_create
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line
from tests.factories.subscriptions import SubscriptionFactory
from tests.factories.tickets import PNG, plan, ticket
from tests.tickets.mailbox.test_reading import message
from tickets.canned.services import CannedReplyInput, canned_reply_save
from tickets.knowledge.services import ArticleInput, article_publish, article_save
from tickets.mailbox.models import SupportMailbox
from tickets.mailbox.services import MailboxInput, inbound_email_process, support_mailbox_save
from tickets.services import customer_plan_assign, ticket_message_add

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1366, 390)
SERIOUS = {"serious", "critical"}
DUPLICATE_IDS = """() => {
  const seen = {}; const twice = [];
  document.querySelectorAll('[id]').forEach(el => { if (seen[el.id]) twice.push(el.id); seen[el.id] = true; });
  return [...new Set(twice)];
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The deepest elements that stick out on the right: what to fix when a page scrolls sideways.
WIDEST = """() => {
  const out = [];
  document.querySelectorAll('body *').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && ![...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1)) {
      out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    }
  });
  return [...new Set(out)].slice(0, 4).join(' | ');
}"""


def _csp_watch(page: Page) -> list[str]:
    """The page's console messages about the Content-Security-Policy, as they come."""
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def _problems(page: Page, axe: Axe, path: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, path
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            culprits = page.evaluate(WIDEST)
            found.append(f"{path} at {width} px scrolls sideways by {overflow} px: {culprits}")
    for twice in page.evaluate(DUPLICATE_IDS):
        found.append(f"{path}: id {twice!r} is used twice")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(path)
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{path}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def test_staff_and_customer_pages(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    invoice = issued(tenant.customer, line("Microsoft 365 E3 " + "x" * 120, "10", "36.00", "20"))
    SubscriptionFactory(partner=tenant.partner, customer=tenant.customer)
    long_subject = "Outlook" * 30  # 210 characters without a break
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, subject=long_subject[:200])
    ticket_message_add(ticket=t, author=tenant.agent, body="Could you send a screenshot?", internal=False)
    gold = plan(tenant.partner, "Gold", price_model="monthly", monthly_fee="199.00", included_hours=4,
                targets=[("A", "", 15, 120), ("A", "azure", 10, 60)])  # fmt: skip
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    canned = canned_reply_save(
        partner=tenant.partner, actor=None, data=CannedReplyInput(title="Licence assigned", body_en="Hi {customer}")
    )
    mailbox = support_mailbox_save(
        partner=tenant.partner, actor=None,
        data=MailboxInput(address="help@alpha.test", host="imap.alpha.test", port=993, username="help", password="pw"),
    )  # fmt: skip
    SupportMailbox.objects.filter(pk=mailbox.pk).update(last_error="cannot connect: " + "x" * 300, failures=2)
    stray = inbound_email_process(mailbox_id=mailbox.pk, uidvalidity=1, uid=1, raw=message(
        sender="someone@unknown.test", to=mailbox.address, subject="Hello " * 40, body="Line " * 200,
        files=[("screen.png", PNG, "image/png")],
    ))  # fmt: skip
    assert stray is not None
    kb = article_save(partner=tenant.partner, actor=None, data=ArticleInput(
        title_en="How do I pay an invoice? " + "Long" * 40, body_en="## Paying\n\n| a | b |\n|---|---|\n| " + "x" * 300
        + " | y |\n\n```\n" + "code " * 60 + "\n```\n\n- one\n- [two](https://example.com)",
    ))  # fmt: skip
    article_publish(partner=tenant.partner, actor=None, article=kb, publish=True)
    axe = Axe()

    blocked = _csp_watch(page)
    sign_in(page, tenant.admin.email)
    staff_pages = [
        "/staff/", "/staff/customers/", f"/staff/customers/{tenant.customer.pk}/", "/staff/team/", "/staff/audit/",
        "/staff/subscriptions/", "/staff/billing/", "/staff/billing/invoices/", f"/staff/billing/invoices/{invoice.pk}/",
        "/staff/billing/invoices/new/", "/staff/billing/payments/", "/staff/tickets/", f"/staff/tickets/{t.pk}/",
        "/staff/collections/", "/staff/collections/policy/", "/staff/escalation/", "/staff/support/offering/",
        "/staff/support/plans/", "/staff/support/plans/new/", f"/staff/support/plans/{gold.pk}/",
        f"/staff/customers/{tenant.customer.pk}/support-plan/", "/staff/support/canned-replies/",
        "/staff/support/canned-replies/new/", f"/staff/support/canned-replies/{canned.pk}/",
        f"/staff/support/canned-replies/{canned.pk}/delete/",
        f"/staff/customers/{tenant.customer.pk}/support-plan/", "/staff/support/mailbox/", "/staff/support/quarantine/",
        f"/staff/support/quarantine/{stray.pk}/", "/staff/support/knowledge/", "/staff/support/knowledge/new/",
        f"/staff/support/knowledge/{kb.pk}/", f"/staff/support/knowledge/{kb.pk}/delete/",
    ]  # fmt: skip
    problems = [p for path in staff_pages for p in _problems(page, axe, path)]

    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    blocked += _csp_watch(customer)
    sign_in(customer, tenant.customer_admin.email)
    for path in ["/my/", "/my/support/", f"/my/tickets/{t.pk}/", "/my/tickets/new/", "/my/knowledge/",
                 f"/my/knowledge/{kb.pk}/"]:  # fmt: skip
        problems += _problems(customer, axe, path)
    customer.context.close()
    assert problems == [], "\n".join(problems)
    assert blocked == []


def test_the_other_staff_pages(page: Page, live_server) -> None:
    """Every other staff page a person opens from the menus, with rows in it: the same checks."""
    tenant = make_tenant("Alpha")
    subscription = SubscriptionFactory(partner=tenant.partner, customer=tenant.customer)
    invoice = issued(tenant.customer, line("Microsoft 365 E3 " + "x" * 120, "10", "36.00", "20"))
    payment = payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("100.00"),
        received_on=clock.today(), reference="Bank statement line " + "7" * 60,
    )  # fmt: skip
    note = credit_note_issue(invoice=invoice, actor=tenant.finance, reason="Goodwill " * 20, amount=Decimal("12.00"))
    run = collections_run(partner=tenant.partner, run_date=clock.today())
    axe = Axe()
    blocked = _csp_watch(page)
    sign_in(page, tenant.admin.email)
    paths = [
        reverse(name, args=args)
        for name, args in [
            ("payment_detail", [payment.pk]), ("payment_create", []), ("refund_create", [payment.pk]),
            ("credit_note_detail", [note.pk]), ("credit_note_create", [invoice.pk]), ("invoice_void", [invoice.pk]),
            ("customer_billing", [tenant.customer.pk]), ("export_list", []), ("reconciliation_list", []),
            ("online_payments_settings", []), ("payable_create", []), ("collection_notice_templates", []),
            ("collection_dry_run", []), ("collection_run_list", []), ("collection_run_detail", [run.pk]),
            ("partner_settings", []), ("subscription_detail", [subscription.pk]),
            ("subscription_difference_list", []), ("partner_center_account", []), ("entitlement_list", []),
            ("entitlement_create", []), ("support_tier_list", []), ("ticket_create", []), ("customer_create", []),
            ("customer_edit", [tenant.customer.pk]),
        ]
    ]  # fmt: skip
    problems = [p for path in paths for p in _problems(page, axe, path)]
    assert problems == [], "\n".join(problems)
    assert blocked == []


def test_after_a_refused_submit_the_keyboard_is_on_the_field_at_fault(page: Page) -> None:
    tenant = make_tenant("Alpha")
    invitation = invitation_create(
        partner=tenant.partner,
        actor=tenant.admin,
        request=InvitationRequest(email="new.agent@alpha.example", role=Role.SUPPORT_AGENT),
        base_url="http://testserver",
    )
    page.goto(f"/invitations/{invitation.token}/")
    page.fill("input[name=password1]", "a-long-password-42")
    page.fill("input[name=password2]", "a-different-password-43")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".has-error")).to_have_count(1)
    assert page.evaluate("document.activeElement.name") == "password2"


def test_the_headers_focus_ring_shows_on_the_dark_header(page: Page) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.admin.email)
    link = page.locator(".site-header a[href='/staff/team/']")
    link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    style = link.evaluate("el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineColor]")
    assert style == ["solid", "rgb(90, 162, 255)"]  # the accent colour, not the faint ring of the page


def test_the_api_docs_run_under_the_policy(page: Page) -> None:
    tenant = make_tenant("Alpha")
    blocked = _csp_watch(page)
    sign_in(page, tenant.admin.email)
    response = page.goto("/api/docs/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CSP Billing Support Portal API")
    assert blocked == []
