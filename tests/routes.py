"""The portal's URL map as the tests walk it: every route of the URL conf with its placeholders, and a
tenant with a row of every kind, so that object routes have real ids to try.

Shared by the tenant isolation walk (tests/isolation/test_isolation.py) and the role matrix
(tests/isolation/test_role_matrix.py): a new URL pattern is walked by both without any change here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from billing.collections.services import collections_run
from billing.invoicing.models import ExportJob
from billing.invoicing.services import credit_note_issue, payment_record
from billing.reconciliation.services import reconciliation_import_create
from partner_portal.audit import audit_record
from partner_portal.services import InvitationRequest, invitation_create
from tests.conftest import Tenant
from tests.factories.billing import draft, issued
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, csv_bytes, nce_row
from tests.factories.subscriptions import SubscriptionFactory, azure_plan

ID_KWARG = re.compile(r"(^|_)(pk|id)$|^object_id$")
WRITE_METHODS = ("post", "patch", "put", "delete")
PORTAL_APPS = ("partner_portal", "subscriptions", "billing", "tickets", "escalation")


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # path with {kwarg} placeholders
    kwargs: tuple[str, ...]
    write_methods: tuple[str, ...] = WRITE_METHODS

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        text = _to_template(str(p.pattern))
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _routes(p.url_patterns, prefix + text, ns)
        elif isinstance(p, URLPattern):
            template = "/" + prefix + text
            yield Route(
                name=f"{namespace}{p.name or ''}",
                template=template,
                kwargs=tuple(re.findall(r"{(\w+)}", template)),
                write_methods=_write_methods(p.callback),
            )


def _write_methods(callback: object) -> tuple[str, ...]:
    """The writing methods a view answers; the others are refused before any code of the portal runs."""
    actions = getattr(callback, "actions", None)  # a DRF viewset route: its method -> action map
    if actions:
        return tuple(m for m in WRITE_METHODS if m in actions)
    view_class = getattr(callback, "view_class", None)
    if view_class is None:  # a function view: try everything
        return WRITE_METHODS
    return tuple(m for m in WRITE_METHODS if hasattr(view_class, m))


def _to_template(pattern: str) -> str:
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)  # named regex groups
    pattern = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)  # path converters
    pattern = pattern.lstrip("^").rstrip("$").replace("\\.", ".").replace("/?", "/")
    return pattern.replace("\\Z", "")


def all_routes() -> list[Route]:
    return list(_routes(get_resolver().url_patterns))


def align_id_sequences() -> None:
    """Start the id sequence of every portal table at one common value (PostgreSQL).

    The rows created next then share a few id values across tables, so trying one id tries a row of
    every table: the walk needs a handful of ids per route instead of one per row of the database.
    Sequences only move forward, so no id is ever reused.
    """
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for label in PORTAL_APPS for m in apps.get_app_config(label).get_models()]
    with connection.cursor() as cursor:
        sequences = []
        for table in tables:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            if sequence:
                sequences.append(sequence)
        start = 1
        for sequence in sequences:
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608 - names from the catalogue
            start = max(start, cursor.fetchone()[0] + 1)
        for sequence in sequences:
            cursor.execute("SELECT setval(%s, %s, false)", [sequence, start])


def populate(victim: Tenant, *, align: bool = True) -> None:
    """A row of every kind the victim owns, so that every object route has an id to try."""
    if align:
        align_id_sequences()
    audit_record(partner=victim.partner, actor=victim.admin, action="customer.updated", target=victim.customer)
    invoice = issued(victim.customer)
    payment_record(
        partner=victim.partner,
        customer=victim.customer,
        actor=None,
        amount=Decimal("100.00"),
        received_on=invoice.issue_date,
    )
    credit_note_issue(invoice=invoice, actor=None, amount=Decimal("10.00"), reason="Goodwill")
    draft(victim.customer)
    # Collections: the policy, a run and its notice (the invoice is a week overdue on the run's date).
    collections_run(partner=victim.partner, run_date=invoice.due_date + dt.timedelta(days=7))
    # ... left uncertain (its worker died while sending), so that "mark as sent" and "send again" would act.
    from billing.collections.models import Notice

    Notice.objects.filter(partner=victim.partner).update(status=Notice.Status.UNCERTAIN, message_id="<n@victim>")
    ExportJob.objects.create(partner=victim.partner, requested_by=victim.finance, total=1)
    rows = [nce_row(customer_id=str(victim.customer.tenant_id), customer_name=victim.customer.name),
            nce_row(customer_id="00000000-0000-4000-8000-0000000000ff", customer_name="Unmatched Ltd")]  # fmt: skip
    reconciliation_import_create(
        partner=victim.partner,
        actor=victim.finance,
        file_name="recon.csv",
        content=csv_bytes(NEW_COMMERCE_HEADER, rows),
        period="2026-11",
    )
    invitation_create(
        partner=victim.partner,
        actor=victim.admin,
        request=InvitationRequest(email="invited@victim.example", role="customer_member", customer=victim.customer),
        base_url="http://testserver/",
    )
    # Subscriptions: a suspension waiting for Microsoft (change + history), an Azure plan step, credentials.
    from subscriptions.services import partner_center_account_set, subscription_suspend

    subscription_suspend(subscription=SubscriptionFactory(customer=victim.customer), reason="Overdue", actor=None)
    subscription_suspend(subscription=azure_plan(customer=victim.customer), reason="Overdue", actor=victim.finance)
    partner_center_account_set(
        partner=victim.partner, actor=victim.admin, aad_tenant_id=victim.customer.tenant_id,
        application_id=victim.other_customer.tenant_id, secret="victim-secret",
    )  # fmt: skip
    from subscriptions.models import PartnerCenterSync, Subscription

    sync = PartnerCenterSync.objects.create(
        partner=victim.partner, requested_by=victim.admin, status="done", total=2, done=2
    )
    from subscriptions.models import SubscriptionDifference

    SubscriptionDifference.objects.create(
        partner=victim.partner, subscription=Subscription.objects.filter(partner=victim.partner).first(), sync=sync,
        field="quantity", portal_value="10", microsoft_value="12",
    )  # fmt: skip
    # Escalation: an entitlement, an escalation of a technical ticket, a breach notice.
    from escalation.models import BreachNotice
    from tests.factories.escalation import entitlement as escalation_entitlement
    from tests.factories.escalation import escalated

    escalation_entitlement(victim.partner, "premier", (dt.date(2020, 1, 1), None))
    escalation = escalated(victim.customer, category="technical", actor=victim.agent)
    BreachNotice.objects.create(partner=victim.partner, ticket=escalation.ticket, kind="resolution")
    # Tickets: the offering with a holiday, a ticket with a file, a reply and an internal note with files,
    # billed time and a per-incident charge. Rows made directly where a service would add audit events:
    # every extra primary key value multiplies the walk.
    from tests.factories.tickets import offering as support_offering
    from tests.factories.tickets import ticket as support_ticket
    from tests.factories.tickets import upload
    from tickets.models import IncidentCharge, TicketMessage, TicketRating, TimeEntry
    from tickets.services import attachment_store

    support_offering(victim.partner, holidays={dt.date(2026, 12, 25): "Victim Holiday"})
    victim_ticket = support_ticket(
        victim.customer, opened_by=victim.customer_admin, files=[upload()], invoices=[invoice]
    )
    for body, internal in (("Victim reply", False), ("Victim note", True)):
        message = TicketMessage.objects.create(
            partner=victim.partner, ticket=victim_ticket, author=victim.agent, body=body, internal=internal
        )
        attachment_store(ticket=victim_ticket, message=message, upload=upload(), uploaded_by=victim.agent)
    TimeEntry.objects.create(
        partner=victim.partner, ticket=victim_ticket, agent=victim.agent, minutes=30, worked_on=dt.date(2026, 11, 2),
        billed_invoice=invoice, invoice_line=invoice.lines.first(),
    )  # fmt: skip
    IncidentCharge.objects.create(
        partner=victim.partner, ticket=victim_ticket, amount=Decimal("50.00"), period="2026-11"
    )
    TicketRating.objects.create(
        partner=victim.partner, ticket=victim_ticket, score=2, comment="Victim rating comment", agent=victim.agent,
        product_family=victim_ticket.product_family,
    )  # fmt: skip
    # API tokens of a staff member and of a customer user (revocable by their owner and partner admins).
    from partner_portal.services import api_token_issue

    api_token_issue(user=victim.finance, name="Victim finance ERP")
    api_token_issue(user=victim.customer_admin, name="Victim customer ERP")
    # Support plans: a plan (its description names the customer, so a leak shows) with SLA targets, the
    # customer on it, its fee billed, and an offering target for one product family.
    from tickets.models import CustomerSupportPlan, PlanCharge, SlaTarget, SupportPlan

    victim_plan = SupportPlan.objects.create(
        partner=victim.partner, name="Victim Plan", description=f"For {victim.customer.name}", price_model="monthly",
        monthly_fee=Decimal("99.00"),
    )  # fmt: skip
    SlaTarget.objects.create(
        partner=victim.partner, plan=victim_plan, severity="A", first_response_minutes=15, resolution_minutes=60
    )
    SlaTarget.objects.create(
        partner=victim.partner, offering=victim_ticket.partner.support_offering, severity="B",
        product_family="azure", first_response_minutes=30, resolution_minutes=90,
    )  # fmt: skip
    CustomerSupportPlan.objects.create(partner=victim.partner, customer=victim.customer, plan=victim_plan)
    # Support email: the mailbox and a quarantined email whose sender and subject name the victim.
    from subscriptions.secrets import secret_encrypt
    from tickets.mailbox.models import InboundEmail, SupportMailbox

    mailbox = SupportMailbox.objects.create(
        partner=victim.partner, address=f"support@{victim.partner.slug}.test", host="imap.victim.test",
        username=victim.admin.email, password_encrypted=secret_encrypt("victim-mailbox-secret"),
    )  # fmt: skip
    InboundEmail.objects.create(
        partner=victim.partner, mailbox=mailbox, uidvalidity=1, uid=1, message_id="<q@victim.test>",
        from_address=victim.customer_member.email, subject=f"About {victim.customer.name}", body="Victim body",
        raw=b"From: x\r\n\r\nVictim body", status=InboundEmail.Status.QUARANTINED, reason="contact of several customers",
    )  # fmt: skip
    PlanCharge.objects.create(
        partner=victim.partner, customer=victim.customer, plan=victim_plan, period="2026-11", kind="fee",
        quantity=Decimal(1), unit_price=Decimal("99.00"), invoice=invoice, invoice_line=invoice.lines.first(),
    )  # fmt: skip
    # Peppol sending: the access point account and a rejected submission with its history, whose reason
    # names the customer, so a leak shows.
    from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent

    AccessPointAccount.objects.create(
        partner=victim.partner, api_key_encrypted=secret_encrypt("victim-storecove-key"),
        webhook_secret_encrypted=secret_encrypt("victim-webhook-token"), status="active", legal_entity_id=1,
    )  # fmt: skip
    submission = EInvoiceSubmission.objects.create(
        partner=victim.partner, customer=victim.customer, kind="invoice", invoice=invoice, number=invoice.number,
        provider="storecove", receiver_scheme="BE:EN", receiver_id="0202239951", status="rejected",
        rejection_reason=f"Receiver {victim.customer.name} not found",
    )  # fmt: skip
    SubmissionEvent.objects.create(partner=victim.partner, submission=submission, status="rejected", detail="Victim")
    # Canned replies: one whose text names the customer, so a leak shows.
    from tickets.models import CannedReply

    CannedReply.objects.create(
        partner=victim.partner, title="Victim canned reply", body_en=f"Dear {victim.customer.name}, {{agent}}"
    )
    # Knowledge base: a published article (the first of its table, which the role matrix opens) and a
    # draft, both naming the partner, and one opened from a suggestion by the victim's customer user.
    from tickets.knowledge.services import ArticleInput, article_publish, article_save, article_suggestion_opened

    published = article_save(
        partner=victim.partner, actor=victim.agent,
        data=ArticleInput(title_en=f"Victim article of {victim.partner.name}", body_en=f"Ask {victim.admin.email}."),
    )  # fmt: skip
    article_publish(partner=victim.partner, actor=victim.agent, article=published, publish=True)
    article_save(
        partner=victim.partner, actor=victim.agent,
        data=ArticleInput(title_ru=f"Черновик {victim.partner.name}", body_ru="Текст"),
    )  # fmt: skip
    article_suggestion_opened(customer=victim.customer, user=victim.customer_admin, article=published, flow="0" * 32)
