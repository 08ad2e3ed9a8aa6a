from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from partner_portal.services import InvitationInvalid, invitation_get_open

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_the_russian_catalogue_is_complete() -> None:
    result = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


def test_every_string_of_the_source_is_in_the_russian_catalogue(tmp_path: Path) -> None:
    """makemessages over a copy of the source with no catalogue: every string it finds must have a
    Russian translation (a string added without one shows English on a Russian page)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():
        if name.startswith(("tests/", "bench/", "locale/")) or not (ROOT / name).is_file():
            continue
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tmp_path / name)
    (tmp_path / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "ru", "-v0"], cwd=tmp_path, env=env, check=True)
    found = polib.pofile(str(tmp_path / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    translated = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(CATALOGUE)) if entry.translated()}
    missing = sorted(entry.msgid for entry in found if (entry.msgctxt, entry.msgid) not in translated)
    assert missing == []


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
