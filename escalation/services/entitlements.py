"""A partner's Microsoft support entitlements: recorded, corrected and ended by its admins. Audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from escalation.errors import EntitlementInvalid
from escalation.models import Entitlement, EntitlementType
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User


@dataclass(frozen=True)
class EntitlementInput:
    kind: str
    valid_from: dt.date
    valid_until: dt.date | None = None
    reference: str = ""
    preference: int = 100
    incidents: int | None = None  # for a kind that counts incidents: how many remain


def _audit_data(entitlement: Entitlement) -> dict[str, str | int | None]:
    return {
        "kind": entitlement.kind_id,
        "reference": entitlement.reference,
        "valid_from": entitlement.valid_from.isoformat(),
        "valid_until": entitlement.valid_until.isoformat() if entitlement.valid_until else None,
        "preference": entitlement.preference,
        "incidents_remaining": entitlement.incidents_remaining,
    }


def _choosable() -> str:
    """The types a partner can record today, named in the page's language, for refusals."""
    today = clock.today()
    names = [t.display_name for t in EntitlementType.objects.order_by("rank", "code") if t.can_be_chosen_on(today)]
    return ", ".join(names)


def _validate(
    *, partner: Partner, data: EntitlementInput, exclude_pk: int | None = None, current_kind: str | None = None
) -> tuple[EntitlementType, int | None]:
    """The entitlement type and the incidents it starts with, or EntitlementInvalid saying what is wrong."""
    kind = EntitlementType.objects.select_related("tier").filter(code=data.kind).first()
    if kind is None:
        raise EntitlementInvalid(_("Unknown entitlement type. Choose one of: %(types)s.") % {"types": _choosable()})
    # A retired type (Gold and Silver competencies, which opened Signature Cloud Support until 30 September 2022),
    # or one whose tier Microsoft retired, stays on the entitlements that already name it, but no entitlement can
    # be recorded or changed to it.
    if data.kind != current_kind:
        today = clock.today(partner.time_zone)
        if not kind.can_be_chosen_on(today) or kind.tier.retired:
            raise EntitlementInvalid(
                _("%(kind)s is retired: Microsoft no longer offers it. Choose one of: %(types)s.")
                % {"kind": kind.display_name, "types": _choosable()}
            )
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise EntitlementInvalid(_("The end of validity cannot be before its start."))
    incidents: int | None = None
    if kind.counts_incidents:
        incidents = data.incidents if data.incidents is not None else kind.default_incidents
        if incidents is None or not 0 <= incidents <= 1000:
            raise EntitlementInvalid(
                _("%(kind)s counts incidents: give how many remain, a number from 0 to 1000.")
                % {"kind": kind.display_name}
            )
    if not 0 < data.preference <= 1000:
        raise EntitlementInvalid(_("The order of preference is a number from 1 to 1000."))
    # The same contract or competency twice over the same days would make the order of preference ambiguous.
    overlapping = Entitlement.objects.for_partner(partner).filter(kind__code=data.kind)
    if data.valid_until is not None:
        overlapping = overlapping.filter(valid_from__lte=data.valid_until)
    overlapping = overlapping.exclude(valid_until__lt=data.valid_from)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    clash = overlapping.select_related("kind").order_by("valid_from").first()
    if clash is not None:
        raise EntitlementInvalid(
            _("%(kind)s is already recorded for part of this period (%(period)s); change or end that one instead.")
            % {"kind": clash.get_kind_display(), "period": _period(clash)}
        )
    return kind, incidents


def _period(entitlement: Entitlement) -> str:
    until = entitlement.valid_until.isoformat() if entitlement.valid_until else _("open-ended")
    return f"{entitlement.valid_from.isoformat()} – {until}"


@transaction.atomic
def entitlement_create(*, partner: Partner, actor: User | None, data: EntitlementInput) -> Entitlement:
    """Record a contract or competency. Refused (nothing recorded) when it overlaps one of the same kind."""
    kind, incidents = _validate(partner=partner, data=data)
    entitlement = Entitlement.objects.create(
        partner=partner, kind=kind, reference=data.reference.strip(), valid_from=data.valid_from,
        valid_until=data.valid_until, preference=data.preference, incidents_remaining=incidents,
        created_by=actor,
    )  # fmt: skip
    audit_record(
        partner=partner, actor=actor, action="entitlement.created", target=entitlement, data=_audit_data(entitlement)
    )
    return entitlement


@transaction.atomic
def entitlement_update(*, entitlement: Entitlement, actor: User | None, data: EntitlementInput) -> Entitlement:
    """Correct an entitlement's kind, reference, dates or preference. Escalations already routed keep their tier."""
    entitlement = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    kind, incidents = _validate(
        partner=entitlement.partner, data=data, exclude_pk=entitlement.pk, current_kind=entitlement.kind_id
    )
    before = _audit_data(entitlement)
    entitlement.kind, entitlement.reference = kind, data.reference.strip()
    entitlement.valid_from, entitlement.valid_until = data.valid_from, data.valid_until
    entitlement.preference, entitlement.incidents_remaining = data.preference, incidents
    entitlement.save(
        update_fields=["kind", "reference", "valid_from", "valid_until", "preference", "incidents_remaining"]
    )
    after = _audit_data(entitlement)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit_record(
            partner=entitlement.partner, actor=actor, action="entitlement.updated", target=entitlement,
            data={"changes": changes},
        )  # fmt: skip
    return entitlement


@transaction.atomic
def entitlement_end(*, entitlement: Entitlement, actor: User | None, last_day: dt.date) -> Entitlement:
    """End an entitlement: `last_day` is the last day it counts (inclusive). It can only be shortened."""
    entitlement = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    if last_day < entitlement.valid_from:
        raise EntitlementInvalid(
            _("It starts on %(day)s: the last day cannot be before that.") % {"day": entitlement.valid_from.isoformat()}
        )
    if entitlement.valid_until is not None and last_day > entitlement.valid_until:
        raise EntitlementInvalid(
            _("It already ends on %(day)s; to extend it, edit its dates.")
            % {"day": entitlement.valid_until.isoformat()}
        )
    previous = entitlement.valid_until
    entitlement.valid_until = last_day
    entitlement.save(update_fields=["valid_until"])
    audit_record(
        partner=entitlement.partner, actor=actor, action="entitlement.ended", target=entitlement,
        data={"valid_until": [previous.isoformat() if previous else None, last_day.isoformat()]},
    )  # fmt: skip
    return entitlement
