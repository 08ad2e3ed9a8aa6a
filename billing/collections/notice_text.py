"""The wording of collections notices that partners edit: `{{ variable }}` placeholders and nothing else.

A template is plain text. `{{ name }}` is replaced by the value of one of VARIABLES, already formatted
as text in the customer's language (money with its currency, dates in the language's format); there
are no tags, filters, attribute lookups or method calls, so a template can neither run code nor reach
a model. The HTML part of the email is the same text, escaped, with links and paragraphs.

`default_texts()` is the built-in wording of a step, written with the same variables, in the same
words (and translations) as the built-in email: what the editor starts from and "reset" returns to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.html import linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.collections.models import CollectionPolicy, CollectionStep

Action = CollectionStep.Action
LANGUAGES = ("en", "ru")

# Every variable a template may use, with what it holds (shown beside the editor).
VARIABLES: dict[str, object] = {
    "customer_name": _("The customer's name."),
    "contact_name": _("The customer's billing contact, or its name when it has none."),
    "invoice_number": _("The invoice's number."),
    "invoice_total": _("The invoice's total, with its currency."),
    "amount_due": _("What is still open on the invoice, with its currency."),
    "due_date": _("The invoice's due date."),
    "days_overdue": _("Days since the due date (0 before it)."),
    "days_until_due": _("Days until the due date (0 on it and after it)."),
    "overdue_total": _("The customer's overdue balance in the invoice's currency."),
    "overdue_invoices": _("The customer's overdue invoices, one a line: number, amount open, due date."),
    "next_step": _("What happens next and when, in one sentence (empty after the last step)."),
    "next_step_date": _("The day of the next step (empty after the last step)."),
    "suspension_date": _(
        "The day the subscriptions are suspended if the invoice stays unpaid (empty when the customer is never suspended)."
    ),
    "partner_name": _("Your company's name."),
    "partner_email": _("Your support email."),
    "partner_phone": _("Your support phone."),
    "pay_url": _("A link to pay the invoice online (empty while no payment provider is set up)."),
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LINE_BREAKS = re.compile(r"[ \t\r\n]+")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


def template_errors(text: str) -> list[str]:
    """What is wrong with a template text, in the active language: unknown variables, tags, loose braces."""
    errors: list[str] = []
    unknown: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        name = _NAME.match(match.group(1))
        if name is None or name.group(1) not in VARIABLES:
            shown = match.group(0)
            if shown not in unknown:
                unknown.append(shown)
    for shown in unknown:
        errors.append(
            gettext("Unknown variable %(variable)s. Use one of the variables listed beside the form.")
            % {"variable": shown}
        )
    rest = _PLACEHOLDER.sub("", text)
    if "{%" in rest or "%}" in rest:
        errors.append(gettext("Template tags such as {% … %} are not allowed: use {{ variable }} only."))
    elif "{{" in rest or "}}" in rest:
        errors.append(gettext("A variable is not closed: write it as {{ variable }}."))
    return errors


def render_text(text: str, values: Mapping[str, str]) -> str:
    """The text with each `{{ variable }}` replaced by its value (checked with template_errors first)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip(), ""), text)


def render_subject(text: str, values: Mapping[str, str]) -> str:
    """A subject is one line: whitespace (a value with line breaks too) collapsed."""
    return _LINE_BREAKS.sub(" ", render_text(text, values)).strip()  # keeps no-break spaces in amounts


def render_html(text: str, values: Mapping[str, str]) -> SafeString:
    """The body as HTML: the rendered text escaped, links made clickable, blank lines as paragraphs."""
    rendered = render_text(text, values)
    return mark_safe(linebreaks(urlize(rendered, autoescape=True), autoescape=False))  # noqa: S308 - escaped by urlize


@dataclass(frozen=True)
class Texts:
    subject: str
    body: str


def _join(*paragraphs: str) -> str:
    return "\n\n".join(p for p in paragraphs if p)


def _overdue_sentence() -> str:
    # The built-in sentence, with the plural form of "many days": the template cannot choose a form.
    return ngettext(
        "Invoice %(number)s was due on %(date)s and is %(days)s day overdue; %(amount)s is still open.",
        "Invoice %(number)s was due on %(date)s and is %(days)s days overdue; %(amount)s is still open.",
        5,
    ) % {
        "number": "{{ invoice_number }}",
        "date": "{{ due_date }}",
        "days": "{{ days_overdue }}",
        "amount": "{{ amount_due }}",
    }


def _default_in_active_language(*, action: str, offset_days: int, policy: CollectionPolicy | None) -> Texts:
    number = "{{ invoice_number }}"
    date = "{{ due_date }}"
    if action == Action.SUSPEND:
        subject = gettext("Your Microsoft subscriptions are being suspended: invoice %(number)s is overdue")
        all_of_them = policy is not None and policy.suspend_scope == CollectionPolicy.SuspendScope.ALL
        scope = (
            gettext("As our collections policy sets out, we are suspending your Microsoft subscriptions.")
            if all_of_them
            else gettext(
                "As our collections policy sets out, we are suspending the Microsoft subscriptions billed on your "
                "overdue invoices."
            )
        )
        again = (
            gettext("They are reactivated automatically once the overdue balance is paid.")
            if policy is None or policy.reactivate_automatically
            else gettext("Once the overdue balance is paid, ask us to reactivate them.")
        )
        lead = f"{_overdue_sentence()} {scope} {again}"
    elif action == Action.FINAL_NOTICE:
        subject = gettext("Final notice: invoice %(number)s is overdue")
        lead = f"{_overdue_sentence()} {gettext('This is our final notice.')}"
    elif offset_days < 0:
        subject = gettext("Reminder: invoice %(number)s is due on %(date)s")
        lead = gettext("A friendly reminder: invoice %(number)s of %(amount)s is due on %(date)s.") % {
            "number": number,
            "amount": "{{ amount_due }}",
            "date": date,
        }
    elif offset_days == 0:
        subject = gettext("Invoice %(number)s is due today")
        lead = gettext("Invoice %(number)s of %(amount)s is due today, %(date)s.") % {
            "number": number,
            "amount": "{{ amount_due }}",
            "date": date,
        }
    else:
        subject = gettext("Reminder: invoice %(number)s is overdue")
        lead = _overdue_sentence()
    subject = subject.replace("%(number)s", number).replace("%(date)s", date)
    facts = f"{gettext('Amount due:')} {{{{ amount_due }}}}\n{gettext('Due date:')} {{{{ due_date }}}}"
    if offset_days > 0:
        facts += "\n" + gettext("Your overdue balance in total: %(total)s.") % {"total": "{{ overdue_total }}"}
    contact = gettext("Questions? Contact %(partner)s:") % {"partner": "{{ partner_name }}"}
    body = _join(
        gettext("Hello %(name)s,") % {"name": "{{ contact_name }}"},
        lead,
        facts,
        "{{ next_step }}",
        gettext("The invoice is attached as a PDF."),
        gettext(
            "If you have paid already, thank you: please ignore this message, a payment can take a few days to reach us."
        ),
        f"{contact} {{{{ partner_email }}}} {{{{ partner_phone }}}}",
    )
    return Texts(subject=subject, body=body)


def default_texts(*, action: str, offset_days: int, language: str, policy: CollectionPolicy | None = None) -> Texts:
    """The built-in wording of a step's notice in `language`, as a template."""
    with translation.override(language):
        return _default_in_active_language(action=action, offset_days=offset_days, policy=policy)
