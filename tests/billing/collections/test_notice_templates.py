"""Partners' own wording of notices: defaults, validation, rendering in the customer's language, the
run sending it, reset, the test send, and the dry run agreeing with the run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client

from billing.collections import notice_text
from billing.collections.errors import NoticeTemplateInvalid
from billing.collections.models import CollectionRun, CollectionStep, Notice, NoticeTemplate
from billing.collections.services import (
    NoticeDraft,
    collection_policy_get,
    collections_dry_run,
    notice_content,
    notice_preview_notice,
    notice_template_reset,
    notice_template_save,
    notice_template_test_send,
)
from billing.payments_online.services import payment_provider_account_set
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import SubscriptionChange
from tests.factories.collections import DUE, invoice_due, run_on
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def _step(tenant, offset: int) -> CollectionStep:
    return collection_policy_get(partner=tenant.partner).steps.get(offset_days=offset)


def _draft(**changes: str) -> NoticeDraft:
    texts = {
        "subject_en": "Invoice {{ invoice_number }}: {{ amount_due }} open",
        "body_en": "Dear {{ contact_name }},\n\n{{ invoice_number }} is {{ days_overdue }} days late.\n\n"
        "Overdue:\n{{ overdue_invoices }}\n\nPay: {{ pay_url }}",
        "subject_ru": "Счёт {{ invoice_number }}: к оплате {{ amount_due }}",
        "body_ru": "Здравствуйте, {{ contact_name }}!\n\nСчёт {{ invoice_number }} просрочен на {{ days_overdue }} дн.",
    }
    return NoticeDraft(**{**texts, **changes})


def _html(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_the_defaults_are_the_built_in_wording_in_both_languages_and_valid() -> None:
    english = notice_text.default_texts(action="remind", offset_days=7, language="en")
    assert english.subject == "Reminder: invoice {{ invoice_number }} is overdue"
    assert english.body.startswith(
        "Hello {{ contact_name }},\n\nInvoice {{ invoice_number }} was due on {{ due_date }}"
    )
    assert "The invoice is attached as a PDF." in english.body
    russian = notice_text.default_texts(action="final_notice", offset_days=21, language="ru")
    assert russian.subject == "Последнее предупреждение: счёт {{ invoice_number }} просрочен"
    assert "Это наше последнее предупреждение." in russian.body
    before = notice_text.default_texts(action="remind", offset_days=-3, language="en")
    assert "A friendly reminder: invoice {{ invoice_number }} of {{ amount_due }} is due on {{ due_date }}." in (
        before.body
    )
    for texts in (english, russian, before):
        assert notice_text.template_errors(texts.subject) == []
        assert notice_text.template_errors(texts.body) == []


def test_an_unknown_variable_a_tag_or_an_empty_text_is_refused_per_field(tenant) -> None:
    draft = _draft(body_en="Hi {{ customer.partner.name }}", subject_ru="", body_ru="{% load static %}")
    with pytest.raises(NoticeTemplateInvalid) as refused:
        notice_template_save(partner=tenant.partner, step=_step(tenant, 7), actor=tenant.admin, draft=draft)
    assert refused.value.errors == {
        "body_en": ["Unknown variable {{ customer.partner.name }}. Use one of the variables listed beside the form."],
        "subject_ru": ["This text cannot be empty."],
        "body_ru": ["Template tags such as {% … %} are not allowed: use {{ variable }} only."],
    }
    assert NoticeTemplate.objects.count() == 0


def test_the_run_sends_the_partners_wording_in_the_customers_language(tenant, on_commit) -> None:
    tenant.customer.billing_contact = "<b>Иван</b>"
    tenant.customer.language = "ru"
    tenant.customer.save()
    notice_template_save(partner=tenant.partner, step=_step(tenant, 7), actor=tenant.admin, draft=_draft())
    invoice = invoice_due(tenant.customer, DUE, "1200.00")
    with on_commit():
        run_on(tenant.partner, 7)
    [message] = mail.outbox
    assert message.to == [tenant.customer.billing_email]
    assert message.subject == f"Счёт {invoice.number}: к оплате 1\xa0200,00\xa0USD"
    assert message.body.startswith(f"Здравствуйте, <b>Иван</b>!\n\nСчёт {invoice.number} просрочен на 7 дн.")
    assert "&lt;b&gt;Иван&lt;/b&gt;" in _html(message)
    assert "<b>Иван</b>" not in _html(message)
    assert message.attachments[0][2] == "application/pdf"
    assert Notice.objects.get(invoice=invoice).status == "sent"


def test_english_values_the_overdue_list_and_an_empty_pay_url(tenant) -> None:
    older = invoice_due(tenant.customer, DUE - dt.timedelta(days=10), "50.00")
    invoice = invoice_due(tenant.customer, DUE, "1200.00")
    notice = Notice(
        partner=tenant.partner, customer=tenant.customer, invoice=invoice, offset_days=7, action="remind",
        amount_due=invoice.balance, overdue_total=invoice.balance + older.balance, days_overdue=7,
        next_action="remind", next_action_date=DUE + dt.timedelta(days=14),
    )  # fmt: skip
    content = notice_content(notice=notice, language="en", draft=_draft())
    assert content.subject == f"Invoice {invoice.number}: 1,200.00\xa0USD open"
    assert (
        f"Overdue:\n{older.number} · 50.00\xa0USD · Nov 20, 2026\n{invoice.number} · 1,200.00\xa0USD · Nov 30, 2026"
        in content.text
    )
    assert content.text.rstrip().endswith(f"Pay: \n--\n{tenant.partner.name}")


def test_no_template_keeps_the_built_in_email_and_reset_returns_to_it(tenant, on_commit) -> None:
    step = _step(tenant, 7)
    notice_template_save(partner=tenant.partner, step=step, actor=tenant.admin, draft=_draft())
    assert notice_template_reset(partner=tenant.partner, step=step, actor=tenant.admin) is True
    assert notice_template_reset(partner=tenant.partner, step=step, actor=tenant.admin) is False
    invoice = invoice_due(tenant.customer, DUE, "1200.00")
    with on_commit():
        run_on(tenant.partner, 7)
    assert mail.outbox[0].subject == f"Reminder: invoice {invoice.number} is overdue"
    actions = AuditEvent.objects.filter(action__startswith="collections.notice_template").order_by("pk")
    assert list(actions.values_list("action", flat=True)) == [
        "collections.notice_template_saved",
        "collections.notice_template_reset",
    ]


def test_another_partners_template_is_not_used(tenant, other_tenant, on_commit) -> None:
    notice_template_save(
        partner=other_tenant.partner, step=_step(other_tenant, 7), actor=other_tenant.admin, draft=_draft()
    )
    invoice = invoice_due(tenant.customer, DUE, "1200.00")
    with on_commit():
        run_on(tenant.partner, 7)
    assert mail.outbox[0].subject == f"Reminder: invoice {invoice.number} is overdue"


def test_the_preview_uses_the_customers_real_invoice_on_the_steps_day(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "300.00")
    notice = notice_preview_notice(partner=tenant.partner, step=_step(tenant, 21), customer=tenant.customer)
    assert (notice.invoice, notice.days_overdue, notice.amount_due) == (invoice, 21, invoice.balance)
    assert (notice.next_action, notice.next_action_date) == ("suspend", DUE + dt.timedelta(days=30))
    content = notice_content(notice=notice, language="en")
    assert content.subject == f"Final notice: invoice {invoice.number} is overdue"
    assert "If the invoice is still unpaid on Dec 30, 2026, your Microsoft subscriptions will be suspended." in (
        content.text
    )
    assert Notice.objects.count() == 0


def test_a_test_send_goes_to_the_admin_only_marked_and_audited(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "300.00")
    to = notice_template_test_send(
        partner=tenant.partner, step=_step(tenant, 7), customer=tenant.customer, language="ru", actor=tenant.admin,
        draft=_draft(),
    )  # fmt: skip
    [message] = mail.outbox
    assert to == tenant.admin.email
    assert message.to == [tenant.admin.email]
    assert message.subject == f"[Тест] Счёт {invoice.number}: к оплате 300,00\xa0USD"
    event = AuditEvent.objects.get(action="collections.notice_template_test_sent")
    assert (event.actor, event.customer, event.data["to"], event.data["language"]) == (
        tenant.admin,
        tenant.customer,
        tenant.admin.email,
        "ru",
    )
    assert Notice.objects.count() == 0


def test_the_dry_run_lists_what_the_run_then_does_and_changes_nothing(tenant, django_capture_on_commit_callbacks):
    sub = SubscriptionFactory(customer=tenant.customer)
    suspended = invoice_due(tenant.customer, DUE - dt.timedelta(days=30), "500.00", sub)
    reminded = invoice_due(tenant.other_customer, DUE - dt.timedelta(days=7), "80.00")
    invoice_due(tenant.other_customer, DUE + dt.timedelta(days=20), "80.00")  # no step due yet
    run_date = DUE
    with django_capture_on_commit_callbacks() as scheduled:
        dry = collections_dry_run(partner=tenant.partner, run_date=run_date, actor=tenant.admin)
    assert scheduled == []
    assert dry.status == "done"
    assert [(n.invoice_number, n.action, n.offset_days) for n in dry.notices] == [
        (suspended.number, "suspend", 30),
        (reminded.number, "remind", 7),
    ]
    assert [(c.customer, c.subscription_id, c.wanted) for c in dry.suspensions] == [
        (tenant.customer.name, sub.pk, "suspended")
    ]
    assert (Notice.objects.count(), CollectionRun.objects.count(), SubscriptionChange.objects.count()) == (0, 0, 0)
    assert not AuditEvent.objects.filter(action__startswith="collections.").exists()
    assert mail.outbox == []

    run = run_on(tenant.partner, run_date)
    made = list(Notice.objects.filter(run=run).values_list("invoice__number", "action", "offset_days"))
    assert sorted(made) == sorted((n.invoice_number, n.action, n.offset_days) for n in dry.notices)
    changes = list(SubscriptionChange.objects.values_list("subscription_id", "wanted_status"))
    assert changes == [(c.subscription_id, c.wanted) for c in dry.changes]


def test_with_a_payment_provider_both_wordings_carry_the_invoices_pay_link(tenant, settings) -> None:
    settings.PAYMENTS_DEMO_PROVIDER = True
    payment_provider_account_set(partner=tenant.partner, actor=tenant.admin, provider="demo")
    invoice = invoice_due(tenant.customer, DUE, "1200.00")
    notice = Notice(
        partner=tenant.partner, customer=tenant.customer, invoice=invoice, offset_days=7, action="remind",
        amount_due=invoice.balance, overdue_total=invoice.balance, days_overdue=7,
        next_action="remind", next_action_date=DUE + dt.timedelta(days=14),
    )  # fmt: skip
    built_in = notice_content(notice=notice, language="en")
    own = notice_content(notice=notice, language="en", draft=_draft())
    for content in (built_in, own):
        [link] = [word for word in content.text.split() if "/pay/" in word]
        assert Client().get(link.removeprefix(settings.PORTAL_BASE_URL.rstrip("/"))).status_code == 200
    assert "/pay/" in built_in.html
