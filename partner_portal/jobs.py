"""The one "for every partner" loop of the scheduled jobs.

A job's service runs one partner at a time; the Celery task (every partner) and the management
command (`--partner slug`, or every partner) both call the app's `..._all` service, which loops here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import QuerySet

from partner_portal import logcontext
from partner_portal.errors import PortalError
from partner_portal.models import Partner

T = TypeVar("T")


class UnknownPartner(PortalError):
    """A job was asked to run for a partner slug that does not exist."""


def partners_for_job(*, slug: str | None = None) -> QuerySet[Partner]:
    """Every partner in a stable order, or the one named by `slug` (UnknownPartner if there is none)."""
    partners = Partner.objects.order_by("pk")
    if slug:
        partners = partners.filter(slug=slug)
        if not partners.exists():
            raise UnknownPartner(f"no partner with slug {slug!r}")
    return partners


def for_each_partner(run: Callable[[Partner], T], *, slug: str | None = None) -> list[tuple[Partner, T]]:
    """Run `run` for each partner (or the one named), in order; returns each partner with its result."""
    results = []
    for partner in partners_for_job(slug=slug):
        with logcontext.bound(partner_id=partner.pk):  # each partner's log lines name it
            results.append((partner, run(partner)))
    return results
