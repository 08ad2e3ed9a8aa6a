"""The partner's own wording of collections notices: saving, resetting, rendering, previewing, test sends.

A step whose template the partner never edited keeps the built-in email (templates/emails/
collections_notice*); an edited one is rendered from the partner's text with the restricted
`{{ variable }}` substitution of billing.collections.notice_text, so a template reaches no model.
The run's sender and the preview build the email with the same function (`notice_email`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from billing.collections import notice_text, rules
from billing.collections.errors import NoticePreviewUnavailable, NoticeTemplateInvalid
from billing.collections.models import CollectionPolicy, CollectionStep, Notice, NoticeTemplate
from billing.collections.services.policy import collection_policy_get
from billing.invoicing.models import ZERO, Invoice
from billing.invoicing.paylink import invoice_pay_url
from billing.invoicing.services.sending import invoice_email_attachments
from billing.templatetags.money import money
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User

Action = CollectionStep.Action
FIELDS = ("subject_en", "body_en", "subject_ru", "body_ru")


@dataclass(frozen=True)
class NoticeDraft:
    """Texts being edited, not saved: what a preview or a test send renders instead of the saved ones."""

    subject_en: str
    body_en: str
    subject_ru: str
    body_ru: str

    def texts(self, language: str) -> tuple[str, str]:
        if language == "ru":
            return self.subject_ru, self.body_ru
        return self.subject_en, self.body_en


@dataclass(frozen=True)
class NoticeContent:
    subject: str
    text: str
    html: str


def _pay_url(*, notice: Notice) -> str:
    """The signed link a customer follows to pay the notice's invoice online: empty while the partner
    has no payment provider connected."""
    return invoice_pay_url(notice.invoice)


def notice_template_get(*, partner: Partner, offset_days: int, action: str) -> NoticeTemplate | None:
    return NoticeTemplate.objects.filter(partner=partner, offset_days=offset_days, action=action).first()


def notice_template_errors(texts: Mapping[str, str]) -> dict[str, list[str]]:
    """The messages per field of a template's four texts (empty: it can be saved)."""
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        value = texts.get(name, "")
        found = notice_text.template_errors(value)
        if not value.strip():
            found.insert(0, _("This text cannot be empty."))
        if found:
            errors[name] = found
    return errors


@transaction.atomic
def notice_template_save(
    *, partner: Partner, step: CollectionStep, actor: User | None, draft: NoticeDraft
) -> NoticeTemplate:
    """Save the partner's wording of the step's notice (both languages); audited. NoticeTemplateInvalid
    with a message per field for an unknown variable, a template tag or an empty text."""
    texts = {name: getattr(draft, name) for name in FIELDS}
    errors = notice_template_errors(texts)
    if errors:
        raise NoticeTemplateInvalid(errors)
    template, created = NoticeTemplate.objects.select_for_update().get_or_create(
        partner=partner, offset_days=step.offset_days, action=step.action, defaults={**texts, "updated_by": actor}
    )
    if not created:
        for name, value in texts.items():
            setattr(template, name, value)
        template.updated_at, template.updated_by = clock.now(), actor
        template.save(update_fields=[*FIELDS, "updated_at", "updated_by"])
    audit_record(
        partner=partner, actor=actor, action="collections.notice_template_saved", target=template,
        data={"offset_days": step.offset_days, "action": step.action, **texts},
    )  # fmt: skip
    return template


@transaction.atomic
def notice_template_reset(*, partner: Partner, step: CollectionStep, actor: User | None) -> bool:
    """Back to the built-in wording for the step: the partner's template is deleted; audited. False if
    there was none (nothing to reset)."""
    template = (
        NoticeTemplate.objects.select_for_update()
        .filter(partner=partner, offset_days=step.offset_days, action=step.action)
        .first()
    )
    if template is None:
        return False
    audit_record(
        partner=partner, actor=actor, action="collections.notice_template_reset", target=template,
        data={"offset_days": step.offset_days, "action": step.action},
    )  # fmt: skip
    template.delete()
    return True


# --- Rendering ---------------------------------------------------------------------------------------


def _date(value: dt.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value is not None else ""


def _next_step_sentence(next_action: str, next_date: dt.date | None) -> str:
    when = {"next_date": _date(next_date)}
    if not next_action or next_date is None:
        return ""
    if next_action == Action.REMIND:
        return _("If the invoice is still unpaid, we will remind you again on %(next_date)s.") % when
    if next_action == Action.FINAL_NOTICE:
        return _("If the invoice is still unpaid on %(next_date)s, we will send a final notice.") % when
    return _("If the invoice is still unpaid on %(next_date)s, your Microsoft subscriptions will be suspended.") % when


def _suspension_date(*, notice: Notice, policy: CollectionPolicy, steps: Sequence[CollectionStep],
                     next_action: str) -> dt.date | None:  # fmt: skip
    customer, invoice = notice.customer, notice.invoice
    if customer.collections_exempt or invoice.due_date is None:
        return None
    notice_day = invoice.due_date + dt.timedelta(days=notice.days_overdue)
    if notice.action == Action.SUSPEND:
        return notice_day
    if next_action == Action.SUSPEND:
        return notice.next_action_date
    grace = policy.grace_days + customer.collections_extra_grace_days
    offsets = [rules.effective_offset(s, grace) for s in steps if s.action == Action.SUSPEND]
    if not offsets:
        return None
    return max(invoice.due_date + dt.timedelta(days=min(offsets)), notice_day)


def notice_values(*, notice: Notice, policy: CollectionPolicy, steps: Sequence[CollectionStep]) -> dict[str, str]:
    """Every variable's value for the notice, formatted in the active language."""
    invoice, customer, partner = notice.invoice, notice.customer, notice.partner
    currency = invoice.currency
    notice_day = (invoice.due_date or clock.today()) + dt.timedelta(days=notice.days_overdue)
    overdue = list(
        Invoice.objects.filter(
            customer=customer, currency=currency, status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO,
            due_date__lt=notice_day,
        ).order_by("due_date", "pk").values_list("number", "balance", "due_date")[:50]
    )  # fmt: skip
    next_action = notice.next_action
    if next_action == Action.SUSPEND and customer.collections_exempt:
        next_action = ""  # never suspended: do not threaten it (as the built-in email)
    suspension = _suspension_date(notice=notice, policy=policy, steps=steps, next_action=next_action)
    return {
        "customer_name": customer.name,
        "contact_name": customer.billing_contact or customer.name,
        "invoice_number": invoice.number,
        "invoice_total": money(invoice.total, currency),
        "amount_due": money(notice.amount_due, currency),
        "due_date": _date(invoice.due_date),
        "days_overdue": str(max(notice.days_overdue, 0)),
        "days_until_due": str(max(-notice.days_overdue, 0)),
        "overdue_total": money(notice.overdue_total, currency),
        "overdue_invoices": "\n".join(
            f"{number} · {money(balance, currency)} · {_date(due)}" for number, balance, due in overdue
        ),
        "next_step": _next_step_sentence(next_action, notice.next_action_date if next_action else None),
        "next_step_date": _date(notice.next_action_date) if next_action else "",
        "suspension_date": _date(suspension),
        "partner_name": partner.name,
        "partner_email": partner.support_email,
        "partner_phone": partner.support_phone,
        "pay_url": _pay_url(notice=notice),
    }


def _builtin_content(*, notice: Notice, policy: CollectionPolicy) -> NoticeContent:
    invoice, customer = notice.invoice, notice.customer
    next_action = notice.next_action
    if next_action == Action.SUSPEND and customer.collections_exempt:
        next_action = ""
    context = {
        "notice": notice, "invoice": invoice, "customer": customer, "partner": notice.partner,
        "days_late": max(notice.days_overdue, 0), "days_left": max(-notice.days_overdue, 0),
        "next_action": next_action, "next_action_date": notice.next_action_date,
        "suspend_scope": policy.suspend_scope, "reactivate_automatically": policy.reactivate_automatically,
        "pay_url": _pay_url(notice=notice),
    }  # fmt: skip
    subject = " ".join(render_to_string("emails/collections_notice_subject.txt", context).split())
    return NoticeContent(
        subject=subject,
        text=render_to_string("emails/collections_notice.txt", context),
        html=render_to_string("emails/collections_notice.html", context),
    )


def notice_content(
    *, notice: Notice, language: str, draft: NoticeDraft | None = None, policy: CollectionPolicy | None = None
) -> NoticeContent:
    """The notice's subject, text and HTML in `language`: from `draft` if given, else from the
    partner's template of the notice's step, else the built-in email."""
    policy = policy or collection_policy_get(partner=notice.partner)
    with translation.override(language):
        source: NoticeDraft | NoticeTemplate | None = draft or notice_template_get(
            partner=notice.partner, offset_days=notice.offset_days, action=notice.action
        )
        if source is None:
            return _builtin_content(notice=notice, policy=policy)
        subject_text, body_text = source.texts(language)
        values = notice_values(notice=notice, policy=policy, steps=list(policy.steps.all()))
        subject = notice_text.render_subject(subject_text, values)
        body = notice_text.render_text(body_text, values)
        context = {"partner": notice.partner, "subject": subject, "body": body,
                   "html_body": notice_text.render_html(body_text, values)}  # fmt: skip
        return NoticeContent(
            subject=subject,
            text=render_to_string("emails/collections_notice_custom.txt", context),
            html=render_to_string("emails/collections_notice_custom.html", context),
        )


def notice_email(
    *, notice: Notice, to: list[str], language: str, draft: NoticeDraft | None = None,
    headers: dict[str, str] | None = None, subject_prefix: str = "",
) -> EmailMultiAlternatives:  # fmt: skip
    """The notice's email (text, HTML, the invoice in the customer's e-invoice format: the PDF, the
    Factur-X PDF, or the PDF and its UBL) in `language`, ready to send."""
    content = notice_content(notice=notice, language=language, draft=draft)
    with translation.override(language):
        attachments = invoice_email_attachments(notice.invoice)
    message = EmailMultiAlternatives(
        subject_prefix + content.subject, content.text, settings.DEFAULT_FROM_EMAIL, to, headers=headers
    )
    message.attach_alternative(content.html, "text/html")
    for filename, attachment, mimetype in attachments:
        message.attach(filename, attachment, mimetype)
    return message


# --- Preview and test send ---------------------------------------------------------------------------


def notice_preview_notice(*, partner: Partner, step: CollectionStep, customer: Customer) -> Notice:
    """An unsaved notice of the step for the customer's real figures, as on the day the step would reach
    its oldest open invoice (else its latest issued invoice). NoticePreviewUnavailable if it has none."""
    invoices = Invoice.objects.filter(partner=partner, customer=customer, due_date__isnull=False)
    invoice = (
        invoices.filter(status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO).order_by("due_date", "pk").first()
        or invoices.exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)).order_by("-due_date", "-pk").first()
    )
    if invoice is None or invoice.due_date is None:
        raise NoticePreviewUnavailable(_("%(customer)s has no issued invoice to show.") % {"customer": customer.name})
    policy = collection_policy_get(partner=partner)
    steps = list(policy.steps.all())
    grace = policy.grace_days + customer.collections_extra_grace_days
    days_overdue = rules.effective_offset(step, grace)
    notice_day = invoice.due_date + dt.timedelta(days=days_overdue)
    overdue_total = Invoice.objects.filter(
        customer=customer, currency=invoice.currency, status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO,
        due_date__lt=notice_day,
    ).aggregate(total=Sum("balance"))["total"] or ZERO  # fmt: skip
    ahead = rules.next_step(steps, days_overdue, grace_days=grace)
    return Notice(
        partner=partner, customer=customer, invoice=invoice, offset_days=step.offset_days, action=step.action,
        amount_due=invoice.balance if invoice.balance > ZERO else invoice.total,
        overdue_total=max(overdue_total, invoice.balance), days_overdue=days_overdue,
        next_action=ahead[0].action if ahead else "",
        next_action_date=notice_day + dt.timedelta(days=ahead[1]) if ahead else None,
    )  # fmt: skip


def notice_template_test_send(
    *, partner: Partner, step: CollectionStep, customer: Customer, language: str, actor: User,
    draft: NoticeDraft | None = None,
) -> str:  # fmt: skip
    """Email the step's notice for the customer's real figures to the signed-in user's own address, not
    the customer's, with the subject marked as a test; audited. Returns the address it went to."""
    if not actor.email:
        raise NoticePreviewUnavailable(_("Your account has no email address to send the test to."))
    if draft is not None:
        errors = notice_template_errors({name: getattr(draft, name) for name in FIELDS})
        if errors:
            raise NoticeTemplateInvalid(errors)
    notice = notice_preview_notice(partner=partner, step=step, customer=customer)
    with translation.override(language):
        prefix = _("[Test] ")
    message = notice_email(notice=notice, to=[actor.email], language=language, draft=draft, subject_prefix=prefix)
    message.send()
    audit_record(
        partner=partner, customer=customer, actor=actor, action="collections.notice_template_test_sent",
        target=customer,
        data={"offset_days": step.offset_days, "action": step.action, "language": language, "to": actor.email,
              "invoice": notice.invoice.number},
    )  # fmt: skip
    return actor.email
