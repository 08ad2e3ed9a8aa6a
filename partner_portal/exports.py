"""The core's CSV exports: the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from partner_portal.audit_labels import action_label
from partner_portal.csvexport import csv_lines
from partner_portal.models import AuditEvent

AUDIT_COLUMNS = [
    "id", "created_at", "actor_email", "action", "action_label", "target_type", "target_id", "target",
    "customer", "customer_tenant_id", "data",
]  # fmt: skip


def audit_csv(events: QuerySet[AuditEvent]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        for e in events.order_by("created_at", "pk").iterator(chunk_size=2000):
            yield [
                e.pk, e.created_at.isoformat(), e.actor.email if e.actor else "", e.action, action_label(e.action),
                e.target_type, e.target_id, e.target_repr, e.customer.name if e.customer else "",
                e.customer.tenant_id if e.customer else "", json.dumps(e.data, ensure_ascii=False, sort_keys=True),
            ]  # fmt: skip

    return csv_lines(AUDIT_COLUMNS, rows())
