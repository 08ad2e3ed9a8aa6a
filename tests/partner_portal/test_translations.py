from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from partner_portal.services import InvitationInvalid, invitation_get_open

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_the_russian_catalogue_is_complete() -> None:
    result = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@pytest.mark.django_db
def test_service_errors_reach_users_in_their_language() -> None:
    with translation.override("ru"), pytest.raises(InvitationInvalid) as refused:
        invitation_get_open(token="no-such-token")
    assert str(refused.value) == "Срок действия приглашения истёк, или оно уже было использовано. Запросите новое."


@pytest.mark.django_db
def test_a_russian_page_names_two_different_things_differently(tenant, client_for) -> None:
    """The customer's home once showed two cards called Счета (Billing and Invoices)."""
    tenant.customer_admin.language = "ru"
    tenant.customer_admin.save(update_fields=["language"])
    html = client_for(tenant.customer_admin).get("/my/").content.decode()
    titles = re.findall(r'<h2 id="[^"]+"><svg.*?</svg>([^<]+)</h2>', html)
    assert "Расчёты" in titles
    assert "Счета" in titles
    assert len(titles) == len(set(titles))
