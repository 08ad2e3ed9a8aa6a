"""Take the README's screenshots again from a running demo (`make demo`) in Debian's Chromium.

    make demo &            # serves http://127.0.0.1:8000/ with the demo data
    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000] [--out docs/screenshots]

Each picture is a page as a demo user sees it, at 1366x900 (the phone one at 390x844). The script only
reads pages, except the language switch for the Russian picture, which it switches back afterwards.
"""

from __future__ import annotations

import argparse
import ast
import os
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _demo_password() -> str:
    """The documented demo password, read from partner_portal/demo.py without setting Django up."""
    tree = ast.parse((ROOT / "partner_portal" / "demo.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DEMO_PASSWORD" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("DEMO_PASSWORD not found in partner_portal/demo.py")


# (file, user, path): the staff pages, each as the role that works there.
STAFF_PAGES = [
    ("staff-dashboard.png", "admin@contoso.example", "/staff/"),
    ("customer-list.png", "admin@contoso.example", "/staff/customers/"),
    ("team.png", "admin@contoso.example", "/staff/team/"),
    ("audit-log.png", "admin@contoso.example", "/staff/audit/"),
    ("finance-dashboard.png", "finance@contoso.example", "/staff/billing/"),
    ("invoice-list.png", "finance@contoso.example", "/staff/billing/invoices/"),
    ("collections-overview.png", "finance@contoso.example", "/staff/collections/"),
    ("escalation-list.png", "agent@contoso.example", "/staff/escalation/"),
]


def _page(browser: Browser, base_url: str, email: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(base_url=base_url, locale="en-US", viewport=viewport)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", _demo_password())
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/accounts/login/" in page.url:
        raise SystemExit(f"could not sign in as {email}: is the demo seeded (make demo)?")
    return page


def _shot(page: Page, path: str, out: Path) -> None:
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    if response is None or response.status != 200:
        raise SystemExit(f"{path} answered {response.status if response else 'nothing'}")
    page.screenshot(path=str(out))
    print(f"{out}  <- {path}")


def _switch_language(page: Page, code: str) -> None:
    page.goto("/my/")
    page.click(f"form.lang-switch button[name=language][value={code}]")
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for name, email, path in STAFF_PAGES:
            page = _page(browser, args.url, email, DESKTOP)
            _shot(page, path, out / name)
            page.context.close()

        # The ticket page: the first escalated ticket (its SLA and its escalation to Microsoft).
        page = _page(browser, args.url, "agent@contoso.example", DESKTOP)
        page.goto("/staff/escalation/")
        page.locator("main table tbody tr a").first.click()
        page.wait_for_load_state("networkidle")
        page.locator("main a[href^='/staff/tickets/']").first.click()
        page.wait_for_load_state("networkidle")
        _shot(page, page.url.removeprefix(args.url), out / "ticket-detail.png")
        page.context.close()

        page = _page(browser, args.url, "billing@northwind.example", DESKTOP)
        _shot(page, "/my/", out / "customer-home.png")
        _switch_language(page, "ru")
        try:
            _shot(page, "/my/", out / "customer-home-ru.png")
        finally:
            _switch_language(page, "en")
        page.context.close()

        page = _page(browser, args.url, "billing@northwind.example", PHONE)
        _shot(page, "/my/", out / "customer-home-phone.png")
        page.context.close()

        page = _page(browser, args.url, "billing@adatum.example", DESKTOP)
        _shot(page, "/my/", out / "customer-suspended.png")
        page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
