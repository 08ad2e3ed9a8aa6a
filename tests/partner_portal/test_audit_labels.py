"""Every audit action the portal records reads as words on the activity feed, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from partner_portal.audit_labels import ACTION_LABELS, action_label

ROOT = Path(__file__).resolve().parents[2]
APPS = ("partner_portal", "subscriptions", "billing", "tickets", "escalation")
ACTION = re.compile(r"\"([a-z_]+\.[a-z_]+)\"")


def _recorded_actions() -> set[str]:
    """Action names written as literals next to audit writes in the apps' services."""
    found: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if "audit_record" not in text and "AuditEvent(" not in text:
                continue
            for match in re.finditer(r"action\s*=\s*(\"[^\"]+\"|\(?[^\n]*\"[a-z_]+\.[a-z_]+\"[^\n]*)", text):
                found.update(ACTION.findall(match.group(1)))
    return {action for action in found if action.split(".")[0] not in APPS}  # model labels are not actions


def test_every_recorded_action_has_a_label() -> None:
    recorded = _recorded_actions()
    assert "invoice.issued" in recorded  # the scan finds the actions (a broken scan would pass vacuously)
    assert sorted(recorded - ACTION_LABELS.keys()) == []


def test_labels_are_translated() -> None:
    with translation.override("en"):
        english = {key: str(label) for key, label in ACTION_LABELS.items()}
    with translation.override("ru"):
        assert action_label("invoice.issued") == "Счёт выставлен"
        untranslated = [key for key, label in ACTION_LABELS.items() if str(label) == english[key]]
    assert untranslated == []
    assert action_label("some.unknown_action") == "some.unknown_action"
