"""The collections policy in sentences a customer reads, in the active language (presentation, used by the pages and the customer's collections status)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext, ngettext

from billing.collections import rules
from billing.collections.models import CollectionPolicy, CollectionStep
from billing.collections.rules import StepLike
from billing.templatetags.money import money

Action = CollectionStep.Action


def _join(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c" in the active language."""
    if len(parts) <= 1:
        return "".join(parts)
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(parts[:-1]), "last": parts[-1]}


def _when(offsets: list[int]) -> list[str]:
    """Reminder days in words, grouped: "3 days before the due date", "on the due date", "7 and 14 days after it"."""
    before = sorted((o for o in offsets if o < 0), reverse=False)
    after = sorted(o for o in offsets if o > 0)
    phrases: list[str] = []
    if before:
        numbers = _join([str(abs(o)) for o in before])
        phrases.append(
            ngettext("%(days)s day before the due date", "%(days)s days before the due date", abs(before[-1])).replace(
                "%(days)s", numbers
            )
        )
    if 0 in offsets:
        phrases.append(gettext("on the due date"))
    if after:
        numbers = _join([str(o) for o in after])
        phrases.append(
            ngettext("%(days)s day after it", "%(days)s days after it", after[-1]).replace("%(days)s", numbers)
        )
    return phrases


def policy_in_words(
    *,
    policy: CollectionPolicy,
    steps: Iterable[StepLike],
    credit_days: int | None,
    currency: str,
    extra_grace_days: int = 0,
    exempt: bool = False,
) -> list[str]:
    """The policy as sentences a customer reads, in the active language, with the grace days already
    added to the days after the due date (the days that actually apply to this customer)."""
    grace = policy.grace_days + extra_grace_days
    effective = [(rules.effective_offset(s, grace), s.action) for s in steps]
    sentences: list[str] = []
    if credit_days is not None:
        if credit_days == 0:
            sentences.append(gettext("Invoices are due on the day they are issued."))
        else:
            sentences.append(
                ngettext(
                    "Invoices are due %(days)s day after issue.",
                    "Invoices are due %(days)s days after issue.",
                    credit_days,
                )
                % {"days": credit_days}
            )
    reminders = [o for o, a in effective if a == Action.REMIND]
    finals = [o for o, a in effective if a == Action.FINAL_NOTICE]
    suspends = [o for o, a in effective if a == Action.SUSPEND]
    notices: list[str] = []
    if reminders:
        notices.append(gettext("a reminder %(when)s") % {"when": ", ".join(_when(reminders))})
    for offset in finals:
        notices.append(gettext("a final notice %(when)s") % {"when": ", ".join(_when([offset]))})
    if notices:
        sentences.append(gettext("We send %(notices)s.") % {"notices": "; ".join(notices)})
    minimum = policy.minimum_for(currency)
    amount = money(minimum, currency)
    if suspends and not exempt:
        days = suspends[0]
        if policy.suspend_scope == CollectionPolicy.SuspendScope.ALL:
            text = ngettext(
                "%(days)s day after the due date we suspend all your subscriptions if at least %(amount)s is overdue.",
                "%(days)s days after the due date we suspend all your subscriptions if at least %(amount)s is overdue.",
                days,
            )
        else:
            text = ngettext(
                "%(days)s day after the due date we suspend the subscriptions billed on the overdue invoice "
                "if at least %(amount)s is overdue.",
                "%(days)s days after the due date we suspend the subscriptions billed on the overdue invoice "
                "if at least %(amount)s is overdue.",
                days,
            )
        sentences.append(text % {"days": days, "amount": amount})
        if policy.reactivate_automatically:
            sentences.append(gettext("Once the overdue balance is paid, we reactivate them automatically."))
        else:
            sentences.append(gettext("Once the overdue balance is paid, we reactivate them on request."))
    elif suspends and exempt:
        sentences.append(gettext("Your subscriptions are not suspended for late payment: you receive reminders only."))
    if minimum > 0 and (reminders or finals):
        sentences.append(
            gettext("No notice is sent after the due date while less than %(amount)s is overdue.") % {"amount": amount}
        )
    return sentences
