"""The one partner loop of the scheduled jobs, and the commands that use it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from partner_portal.jobs import UnknownPartner, for_each_partner, partners_for_job
from tests.conftest import Tenant


def test_every_partner_in_order_or_the_one_named(tenant: Tenant, other_tenant: Tenant) -> None:
    assert [p.slug for p, _ in for_each_partner(lambda p: p.pk)] == [tenant.partner.slug, other_tenant.partner.slug]
    assert for_each_partner(lambda p: p.name, slug=other_tenant.partner.slug) == [
        (other_tenant.partner, other_tenant.partner.name)
    ]


def test_an_unknown_partner_is_refused_before_anything_runs(tenant: Tenant) -> None:
    ran: list[int] = []
    with pytest.raises(UnknownPartner, match="no partner with slug 'nobody'"):
        for_each_partner(ran.append, slug="nobody")
    assert ran == []
    assert list(partners_for_job()) == [tenant.partner]


@pytest.mark.parametrize("command", ["bill_support", "escalate_tickets", "run_collections", "generate_invoices"])
def test_the_commands_name_an_unknown_partner(tenant: Tenant, command: str) -> None:
    with pytest.raises(CommandError, match="no partner with slug 'nobody'"):
        call_command(command, "--partner", "nobody")
