"""An agent opens the quarantine, reads an email from an unknown sender, chooses the customer by typing
its name and lands on the ticket opened from the email, its screenshot attached."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.tickets import PNG
from tests.tickets.mailbox.test_reading import message
from tickets.mailbox.models import InboundEmail
from tickets.mailbox.services import MailboxInput, inbound_email_process, support_mailbox_save
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_accepts_a_quarantined_email_for_a_customer(page: Page) -> None:
    tenant = make_tenant("Alpha")
    mailbox = support_mailbox_save(
        partner=tenant.partner, actor=None,
        data=MailboxInput(address="help@alpha.test", host="imap.alpha.test", port=993, username="help",
                          password="pw-for-the-browser"),
    )  # fmt: skip
    email = inbound_email_process(
        mailbox_id=mailbox.pk, uidvalidity=1, uid=1,
        raw=message(sender="Olga <olga@newdomain.test>", to=mailbox.address, subject="VPN is down for everyone",
                    body="Since 9 am nobody can connect. <b>Urgent</b>", files=[("vpn.png", PNG, "image/png")]),
    )  # fmt: skip
    assert email is not None
    assert email.status == InboundEmail.Status.QUARANTINED

    sign_in(page, tenant.agent.email)
    page.goto("/staff/tickets/")
    page.get_by_role("link", name="Quarantine").click()
    expect(page.locator("h1")).to_have_text("Quarantine")
    page.get_by_role("link", name="VPN is down for everyone").click()
    main = page.locator("main")
    expect(main).to_contain_text("Since 9 am nobody can connect. <b>Urgent</b>")  # shown as text, not markup
    expect(main).to_contain_text("vpn.png")

    box = page.get_by_role("combobox", name="Customer")
    box.fill(tenant.other_customer.name[:12])
    option = page.get_by_role("listbox", name="Matching customers").get_by_role(
        "option", name=tenant.other_customer.name
    )
    option.click()
    page.get_by_role("button", name="Accept and open ticket").click()

    expect(page.locator("h1")).to_contain_text("VPN is down for everyone")
    ticket = Ticket.objects.get(partner=tenant.partner)
    assert page.url.endswith(f"/staff/tickets/{ticket.pk}/")
    assert ticket.customer == tenant.other_customer
    expect(main).to_contain_text(tenant.other_customer.name)
    expect(main).to_contain_text("Since 9 am nobody can connect.")
    expect(main).to_contain_text("vpn.png")
    email.refresh_from_db()
    assert (email.status, email.ticket_id) == (InboundEmail.Status.ACCEPTED, ticket.pk)

    # Back in the quarantine, the email is gone.
    page.goto("/staff/support/quarantine/")
    expect(page.locator("main")).to_contain_text("The quarantine is empty")
