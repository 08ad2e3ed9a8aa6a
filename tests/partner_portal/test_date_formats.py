"""One date format per language, whatever the template asked for (short or long)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import formats, translation

from partner_portal.services import InvitationRequest, invitation_create

DAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(("language", "written"), [("en", "Dec 6, 2026"), ("ru", "06.12.2026")])
def test_short_and_long_dates_read_the_same(language: str, written: str) -> None:
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == written
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == written


@pytest.mark.django_db
def test_a_page_with_both_kinds_of_date_shows_one_format(tenant, client_for) -> None:
    """The team page dates members with the long format and invitations with the short one."""
    invitation_create(
        partner=tenant.partner,
        actor=tenant.admin,
        request=InvitationRequest(email="late.joiner@example.com", role="finance"),
        base_url="http://testserver",
    )
    html = client_for(tenant.admin).get("/staff/team/").content.decode()
    today = formats.date_format(tenant.admin.membership.created_at, "DATE_FORMAT")
    assert html.count(today) >= 2  # "Member since" and "Sent"
    assert "/20" not in html.split("<main")[1].split("</main>")[0]  # no 12/06/2026 left anywhere in the page
