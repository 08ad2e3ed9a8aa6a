"""Canned replies: saving them (checked, audited), filling them in for a ticket, counting their use.

A text is plain text where `{name}` is one of VARIABLES. Filling in is one regular-expression pass
over the partner's text with values computed here, so a value is never read as a placeholder again
(a customer called "{agent}" stays "{agent}"), and there is nothing else to run: no template engine,
no attribute lookup, no format specification. Saving refuses a `{word}` that is not a variable; a word
in braces left by an older text would be shown as written. Braces around anything but a single word
(`{$_.Name}` in a PowerShell line) are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from tickets.canned.models import CannedReply
from tickets.errors import CannedReplyInvalid
from tickets.models import WEEKDAYS, SupportOffering, Ticket, default_hours

# Every variable a text may use, with what it holds (shown beside the form).
VARIABLES: dict[str, object] = {
    "customer": gettext_lazy("The customer's name."),
    "ticket_number": gettext_lazy("The ticket's number, e.g. T-000042."),
    "agent": gettext_lazy("The name of the one who sends the reply."),
    "offering_hours": gettext_lazy("Your support hours from the support offering, with their time zone."),
}
TITLE_MAX = 100
BODY_MAX = 10_000

_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


@dataclass(frozen=True)
class CannedReplyInput:
    """What the form sets."""

    title: str
    body_en: str = ""
    body_ru: str = ""


@dataclass(frozen=True)
class RenderedReply:
    reply: CannedReply
    body: str
    language: str  # the language of the text inserted: the customer's, or the other when it has none


def unknown_variables(text: str) -> list[str]:
    """The `{word}` placeholders of `text` that are not VARIABLES, as written, each once."""
    found: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in VARIABLES and match.group(0) not in found:
            found.append(match.group(0))
    return found


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known `{variable}` replaced by its value; anything else stays as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _errors(partner: Partner, data: CannedReplyInput, reply: CannedReply | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = [_("Give the canned reply a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("A title has at most %(max)d characters.") % {"max": TITLE_MAX}]
    else:
        taken = CannedReply.objects.filter(partner=partner, title__iexact=title)
        if reply is not None:
            taken = taken.exclude(pk=reply.pk)
        if taken.exists():
            errors["title"] = [_("Another canned reply already has this title.")]
    if not data.body_en.strip() and not data.body_ru.strip():
        errors["body_en"] = [_("Write the text in English, in Russian or in both.")]
    for name in ("body_en", "body_ru"):
        text = getattr(data, name)
        messages = []
        if len(text) > BODY_MAX:
            messages.append(_("A text has at most %(max)d characters.") % {"max": BODY_MAX})
        for shown in unknown_variables(text):
            messages.append(
                _("Unknown variable %(variable)s. Use one of: %(known)s.")
                % {"variable": shown, "known": ", ".join(f"{{{name}}}" for name in VARIABLES)}
            )
        if messages:
            errors.setdefault(name, []).extend(messages)
    return errors


def _changed(reply: CannedReply, data: CannedReplyInput) -> list[str]:
    return [
        name
        for name, value in (("title", data.title.strip()), ("body_en", data.body_en.strip()),
                            ("body_ru", data.body_ru.strip()))
        if getattr(reply, name) != value
    ]  # fmt: skip


@transaction.atomic
def canned_reply_save(
    *, partner: Partner, actor: User | None, data: CannedReplyInput, reply: CannedReply | None = None
) -> CannedReply:
    """Create a canned reply (`reply` None) or change one. Refused as a whole with a message per field
    (CannedReplyInvalid): a title, unique in the partner whatever its case; at least one text; only
    known variables. Audited with the fields changed; the use counter is left as it is."""
    if reply is not None and reply.partner_id != partner.pk:
        raise CannedReplyInvalid(_("The canned reply belongs to another partner."))
    errors = _errors(partner, data, reply)
    if errors:
        raise CannedReplyInvalid(fields=errors)
    created = reply is None
    reply = CannedReply(partner=partner) if reply is None else CannedReply.objects.select_for_update().get(pk=reply.pk)
    changed = _changed(reply, data)
    if not created and not changed:
        return reply
    reply.title, reply.body_en, reply.body_ru = data.title.strip(), data.body_en.strip(), data.body_ru.strip()
    reply.updated_at, reply.updated_by = clock.now(), actor
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as exc:  # a concurrent save took the title
        raise CannedReplyInvalid(fields={"title": [_("Another canned reply already has this title.")]}) from exc
    audit_record(
        partner=partner, actor=actor, action="canned_reply.created" if created else "canned_reply.updated",
        target=reply, data={"title": reply.title, "changed": changed},
    )  # fmt: skip
    return reply


@transaction.atomic
def canned_reply_delete(*, partner: Partner, actor: User | None, reply: CannedReply) -> None:
    """Delete a canned reply. Replies already sent with it keep their text. Audited with its title."""
    if reply.partner_id != partner.pk:
        raise CannedReplyInvalid(_("The canned reply belongs to another partner."))
    reply = CannedReply.objects.select_for_update().get(pk=reply.pk)  # its title and count as they are now
    audit_record(
        partner=partner, actor=actor, action="canned_reply.deleted", target=reply,
        data={"title": reply.title, "use_count": reply.use_count},
    )  # fmt: skip
    reply.delete()


def canned_reply_use(*, reply: CannedReply) -> None:
    """Count one use now (a reply or note that started from it was sent). One conditional UPDATE with
    F(), so two agents sending at once both count; a reply deleted meanwhile counts nothing."""
    CannedReply.objects.filter(pk=reply.pk).update(use_count=F("use_count") + 1, last_used_at=clock.now())


def offering_hours_text(offering: SupportOffering) -> str:
    """The hours of service in one line, in the active language: "Mon–Fri 09:00–18:00; Sat 10:00–14:00
    (Europe/Berlin)". Days in a row with the same periods are one range; closed days are left out."""
    groups: list[tuple[int, int, str]] = []
    for index, day in enumerate(WEEKDAYS):
        periods = (offering.hours or {}).get(day) or []
        if not periods:
            continue
        text = ", ".join(f"{start}–{end}" for start, end in periods)
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))
    if not groups:
        return _("no regular hours (%(zone)s)") % {"zone": offering.time_zone}
    parts = [
        f"{WEEKDAYS_ABBR[first]}–{WEEKDAYS_ABBR[last]} {text}" if last > first else f"{WEEKDAYS_ABBR[first]} {text}"
        for first, last, text in groups
    ]
    return f"{'; '.join(parts)} ({offering.time_zone})"


def _offering(partner_id: int) -> SupportOffering:
    # Read, never created here: a partner that never saved its offering has the defaults.
    found = SupportOffering.objects.filter(partner_id=partner_id).first()
    return found if found is not None else SupportOffering(partner_id=partner_id, hours=default_hours())


def canned_reply_render(*, reply: CannedReply, ticket: Ticket, agent: User) -> RenderedReply:
    """The text to insert into `agent`'s reply on `ticket`: in the ticket's customer's language (else the
    other text), with the variables filled in for that ticket, the hours in the customer's language.
    Reads only; the use is counted when the reply is sent (`ticket_message_add`)."""
    if reply.partner_id != ticket.partner_id:
        raise CannedReplyInvalid(_("The canned reply belongs to another partner."))
    text, language = reply.body_for(ticket.customer.language)
    with translation.override(language):
        values = {
            "customer": ticket.customer.name,
            "ticket_number": ticket.reference,
            "agent": agent.get_full_name(),
            "offering_hours": offering_hours_text(_offering(ticket.partner_id)),
        }
    return RenderedReply(reply=reply, body=fill(text, values), language=language)
