"""Demo escalations, on top of the tickets demo. Idempotent: rows are found before made.

Contoso holds, in its order of preference, a Premier contract (current) and an Advanced contract (ended),
and still lists the Gold competency that opened Signature Cloud Support until Microsoft retired both on
30 September 2022, so its history shows Advanced while it ran, Premier today, and business support for a
billing question. Fabrikam has no technical entitlement: an agent who tries to escalate
its technical ticket is told what it would need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from escalation.errors import EscalationError
from escalation.models import Entitlement, Escalation
from escalation.services import EntitlementInput, entitlement_create, escalation_update, ticket_escalate
from partner_portal import clock
from partner_portal.demo import DemoCore
from partner_portal.models import Customer, User
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_message_add, ticket_status_change


@dataclass(frozen=True)
class DemoEscalation:
    customer: str  # domain
    subject: str
    description: str
    category: str
    product_family: str
    severity: str
    days_ago: int  # when it was escalated (the tier is the one routed to that day)
    reason: str
    case_number: str
    status: str  # where the case stands now
    internal_note: str = ""


CONTOSO_HISTORY = [
    DemoEscalation(
        "litware.example",
        "Teams meetings drop after 10 minutes",
        "Every Teams meeting with more than 20 people "
        "drops for all attendees after about ten minutes, in the desktop and the web client.",
        "technical",
        "microsoft_365",
        "A",
        340,
        "Reproduced on clean machines and networks; service health shows nothing. Needs Microsoft's Teams engineering.",
        "2501100010000731",
        Escalation.Status.CLOSED,
        "Call quality dashboard shows the drop at the media relay; not our network.",
    ),
    DemoEscalation(
        "wideworldimporters.example",
        "Azure SQL database failover group stuck",
        "The failover group of the orders database has been in 'seeding' for two days; the secondary is unusable.",
        "technical",
        "azure",
        "B",
        190,
        "Seeding is stuck at 97 % after two retries; only Microsoft can reset the replication link.",
        "2505280010004412",
        Escalation.Status.RESOLVED,
        "Checked DTU and log rate: nothing throttled. Screenshot of the portal attached to the case.",
    ),
    DemoEscalation(
        "northwind.example",
        "Exchange Online mailbox migration fails at 95 %",
        "Migrating the last ten mailboxes from Exchange 2016 stops at 95 % with a transient error that never clears.",
        "technical",
        "microsoft_365",
        "B",
        2,
        "Batch retried three times; migration logs show MRS stalls on the source "
        "server. Microsoft must look at the migration service.",
        "2611290010001298",
        Escalation.Status.IN_PROGRESS,
        "Customer's on-premises server was patched last week; the logs are on the share.",
    ),
    DemoEscalation(
        "adatum.example",
        "Credit for a cancelled Microsoft 365 E5 seat missing",
        "We cancelled 5 E5 seats within the 7-day window but the reconciliation file still charges them.",
        "billing",
        "microsoft_365",
        "C",
        1,
        "Partner Center shows the cancellation but the invoice reconciliation file still charges the seats.",
        "",
        Escalation.Status.TO_FILE,
    ),
]


def _ticket(customer: Customer, spec: DemoEscalation, agent: User, at: dt.datetime) -> Ticket:
    existing = Ticket.objects.filter(customer=customer, subject=spec.subject).first()
    if existing is not None:
        return existing
    customer_user = User.objects.filter(membership__customer=customer).first()
    with clock.frozen(at):
        ticket = ticket_create(
            partner=customer.partner, customer=customer, opened_by=customer_user, subject=spec.subject,
            description=spec.description, category=spec.category, product_family=spec.product_family,
            severity=spec.severity, assignee=agent,
        )  # fmt: skip
    with clock.frozen(at + dt.timedelta(minutes=25)):
        ticket_message_add(
            ticket=ticket, author=agent, internal=False,
            body="Thank you, we are on it. We will take it to Microsoft if we cannot fix it ourselves.",
        )  # fmt: skip
    if spec.internal_note:
        with clock.frozen(at + dt.timedelta(minutes=50)):
            ticket_message_add(ticket=ticket, author=agent, body=spec.internal_note, internal=True)
    return ticket


def _history(core: DemoCore, agent: User) -> None:
    for spec in CONTOSO_HISTORY:
        customer = core.customers[spec.customer]
        now = clock.now()
        escalated_at = now - dt.timedelta(days=spec.days_ago)
        ticket = _ticket(customer, spec, agent, escalated_at - dt.timedelta(hours=3))
        if Escalation.objects.filter(ticket=ticket).exists():
            continue
        with clock.frozen(escalated_at):
            escalation = ticket_escalate(ticket=ticket, reason=spec.reason, actor=agent)
        if spec.case_number:
            with clock.frozen(escalated_at + dt.timedelta(hours=1)):
                escalation = escalation_update(
                    escalation=escalation, actor=agent, microsoft_case_number=spec.case_number
                )
        if spec.status in (Escalation.Status.IN_PROGRESS, Escalation.Status.RESOLVED, Escalation.Status.CLOSED):
            with clock.frozen(min(escalated_at + dt.timedelta(days=1), now)):
                escalation = escalation_update(escalation=escalation, actor=agent, status=Escalation.Status.IN_PROGRESS)
        if spec.status in (Escalation.Status.RESOLVED, Escalation.Status.CLOSED):
            done = min(escalated_at + dt.timedelta(days=6), now)
            with clock.frozen(done):
                escalation_update(escalation=escalation, actor=agent, status=spec.status)
                ticket_status_change(ticket=ticket, status=Ticket.Status.RESOLVED, actor=agent)
            if spec.status == Escalation.Status.CLOSED:
                with clock.frozen(done + dt.timedelta(days=2)):
                    ticket_status_change(ticket=ticket, status=Ticket.Status.CLOSED, actor=agent)


def _entitlements(core: DemoCore, admin: User) -> None:
    contoso = core.partners["contoso"]
    if Entitlement.objects.for_partner(contoso).exists():
        return
    today = clock.today(contoso.time_zone)
    for kind, reference, start, end, preference in (
        ("premier", "PSfP-CON-2026-118", today - dt.timedelta(days=120), None, 1),
        ("advanced", "ASfP-CON-2025-044", today - dt.timedelta(days=400), today - dt.timedelta(days=121), 2),
    ):
        entitlement_create(
            partner=contoso, actor=admin,
            data=EntitlementInput(kind=kind, reference=reference, valid_from=start, valid_until=end, preference=preference),
        )  # fmt: skip
    # Recorded before Microsoft retired it (no new Gold competency can be recorded): shown as ended.
    Entitlement.objects.create(
        partner=contoso, kind_id="gold", reference="Gold Cloud Productivity",
        valid_from=dt.date(2020, 7, 1), valid_until=dt.date(2022, 9, 30), preference=3, created_by=admin,
    )  # fmt: skip


def _fabrikam_technical_ticket(core: DemoCore) -> None:
    """A technical ticket Fabrikam cannot escalate: it records no Premier or Advanced contract."""
    customer = core.customers["tailspintoys.example"]
    subject = "Azure virtual machines will not start after maintenance"
    if Ticket.objects.filter(customer=customer, category=Ticket.Category.TECHNICAL).exists():
        return
    ticket_create(
        partner=customer.partner, customer=customer, opened_by=core.users.get("billing@tailspin.example"),
        subject=subject, category=Ticket.Category.TECHNICAL, product_family=Ticket.ProductFamily.AZURE,
        severity=Ticket.Severity.A,
        description="Since last night's platform maintenance, our three production VMs stay in 'Starting'.",
    )  # fmt: skip


def _already_escalated_tickets(core: DemoCore) -> None:
    """Tickets the tickets demo left escalated get their case, routed as of today (where the partner can)."""
    for slug, email in (("contoso", "agent@contoso.example"), ("fabrikam", "admin@fabrikam.example")):
        waiting = Ticket.objects.for_partner(core.partners[slug]).filter(
            status=Ticket.Status.ESCALATED, escalations__isnull=True
        )
        for ticket in waiting.order_by("pk"):
            try:
                ticket_escalate(
                    ticket=ticket, reason="Beyond our baseline support: needs Microsoft.", actor=core.users[email]
                )
            except EscalationError:
                continue  # a technical ticket of a partner with no entitlement stays as the tickets demo left it


@transaction.atomic
def seed_demo(core: DemoCore) -> None:
    admin = core.users["admin@contoso.example"]
    agent = core.users["agent@contoso.example"]
    _entitlements(core, admin)
    _history(core, agent)
    _already_escalated_tickets(core)
    _fabrikam_technical_ticket(core)
