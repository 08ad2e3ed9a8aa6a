"""Demo support offerings and tickets in every status, through the tickets services.

Contoso charges support by the hour (one ticket's time is already billed), Fabrikam per incident;
Contoso also sells two support plans, and A. Datum is on Premium; its agents have three canned replies,
and its customers a knowledge base of billing answers in English and Russian.
Idempotent: an offering already configured and a ticket whose subject exists are left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from billing.invoicing.models import Invoice
from billing.invoicing.services import previous_period
from partner_portal import clock
from partner_portal.demo import DemoCore
from partner_portal.models import Customer, Partner, User
from tickets.canned.models import CannedReply
from tickets.canned.services import CannedReplyInput, canned_reply_save
from tickets.knowledge.models import Article
from tickets.knowledge.services import ArticleInput, article_publish, article_save
from tickets.models import SupportOffering, SupportPlan, Ticket
from tickets.services import (
    HolidayInput,
    OfferingInput,
    PlanInput,
    TargetInput,
    customer_plan_assign,
    support_charges_bill,
    support_offering_get,
    support_offering_update,
    support_plan_save,
    ticket_create,
    ticket_message_add,
    ticket_status_change,
    time_entry_add,
)

S = Ticket.Status
WEEKDAYS_9_TO_6 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}


@dataclass(frozen=True)
class Step:
    """One thing that happens to a demo ticket, `hours_after` its opening."""

    hours_after: float
    kind: str  # "reply", "note", "customer", "status"
    text: str = ""
    status: str = ""


@dataclass(frozen=True)
class DemoTicket:
    customer: str  # the demo customer's domain
    subject: str
    description: str
    category: str
    product: str
    severity: str
    days_ago: float
    assign: bool = True
    billing: bool = False  # link the customer's latest issued invoice
    steps: list[Step] = field(default_factory=list)


TICKETS = [
    DemoTicket(
        "northwind.example",
        "Outlook asks for the password again and again",
        "Since Monday three users on new laptops get a password prompt in Outlook every few minutes.",
        Ticket.Category.TECHNICAL,
        Ticket.ProductFamily.MICROSOFT_365,
        "B",
        0.1,
        assign=False,
    ),
    DemoTicket(
        "northwind.example",
        "Question about the last invoice",
        "The last invoice charges 12 Microsoft 365 E3 seats, but we removed two in the middle of the month.",
        Ticket.Category.BILLING,
        Ticket.ProductFamily.MICROSOFT_365,
        "C",
        1.2,
        billing=True,
        steps=[
            Step(
                1,
                "note",
                "Seats went from 12 to 10 on the 14th; the invoice is pro-rated correctly. Explain the lines.",
            ),
            Step(2, "reply", "The two seats were charged until the 14th only: see the second line of the invoice."),
        ],
    ),
    DemoTicket(
        "northwind.example",
        "Add five Microsoft 365 E3 licences",
        "We hire five people next week. Please add five E3 seats to our subscription.",
        Ticket.Category.SUBSCRIPTION_MANAGEMENT,
        Ticket.ProductFamily.MICROSOFT_365,
        "C",
        2,
        steps=[
            Step(1, "reply", "Happy to. Should the new seats be on the annual or the monthly subscription?"),
            Step(1.1, "status", status=S.PENDING_CUSTOMER),
        ],
    ),
    DemoTicket(
        "northwind.example",
        "Teams calls drop every ten minutes",
        "Calls in Teams drop after about ten minutes for everybody in the Seattle office.",
        Ticket.Category.TECHNICAL,
        Ticket.ProductFamily.MICROSOFT_365,
        "A",
        40,
        steps=[
            Step(0.5, "reply", "We are checking your network settings against the Teams requirements."),
            Step(
                3, "note", "The firewall closes idle UDP flows after 600 s: the customer's IT must raise the timeout."
            ),
            Step(4, "reply", "Your firewall ends idle calls after ten minutes. Raise the UDP timeout to 30 minutes."),
            Step(30, "customer", "Done, calls have stayed up all morning. Thank you!"),
            Step(31, "status", status=S.RESOLVED),
        ],
    ),
    DemoTicket(
        "adatum.example",
        "SharePoint site shared with the wrong group",
        "Our finance site is visible to the whole company. Please help us restrict it.",
        Ticket.Category.TECHNICAL,
        Ticket.ProductFamily.MICROSOFT_365,
        "B",
        12,
        steps=[
            Step(1, "reply", "We removed the 'Everyone except external users' group; only Finance has access now."),
            Step(2, "status", status=S.RESOLVED),
            Step(20, "status", status=S.CLOSED),
        ],
    ),
    DemoTicket(
        "adatum.example",
        "Dynamics 365 Sales licence not showing",
        "A user we bought a Dynamics 365 Sales licence for cannot open the app.",
        Ticket.Category.SUBSCRIPTION_MANAGEMENT,
        Ticket.ProductFamily.DYNAMICS_365,
        "C",
        0.5,
        steps=[Step(0.2, "status", status=S.OPEN)],
    ),
    DemoTicket(
        "tailspintoys.example",
        "Azure virtual machine will not start",
        "Our build server VM fails to start with an allocation error in East US.",
        Ticket.Category.TECHNICAL,
        Ticket.ProductFamily.AZURE,
        "A",
        2,
        assign=False,
    ),
    DemoTicket(
        "tailspintoys.example",
        "Charged twice for Azure in October",
        "Our October invoice has the Azure plan twice.",
        Ticket.Category.BILLING,
        Ticket.ProductFamily.AZURE,
        "B",
        20,
        billing=True,
        steps=[
            Step(2, "reply", "You are right: we issued a credit note for the duplicate line."),
            Step(3, "status", status=S.RESOLVED),
        ],
    ),
]


def _offerings(core: DemoCore) -> None:
    contoso, fabrikam = core.partners["contoso"], core.partners["fabrikam"]
    northwind = core.customers["northwind.example"]
    specs: list[tuple[Partner, User, OfferingInput]] = [
        (contoso, core.users["admin@contoso.example"], OfferingInput(
            time_zone="Europe/London",
            hours={d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []},
            contact_portal=True, contact_email="support@contoso.example", contact_phone="+44 20 7946 0958",
            contact_notes="For severity A outside business hours, call the number above: it forwards to the engineer on call.",
            price_model=SupportOffering.PriceModel.HOURLY, price_amount=Decimal("120.00"), currency=northwind.currency,
            holidays=[HolidayInput(dt.date(2026, 12, 25), "Christmas Day"), HolidayInput(dt.date(2026, 12, 28), "Boxing Day (substitute)"),
                      HolidayInput(dt.date(2027, 1, 1), "New Year's Day")],
        )),
        (fabrikam, core.users["admin@fabrikam.example"], OfferingInput(
            time_zone="America/New_York", hours=WEEKDAYS_9_TO_6, contact_portal=True,
            contact_email="help@fabrikam.example", contact_phone="+1 202 555 0142",
            price_model=SupportOffering.PriceModel.PER_INCIDENT, price_amount=Decimal("95.00"),
            currency=core.customers["tailspintoys.example"].currency,
            first_response_minutes_a=30, resolution_minutes_a=240,
            holidays=[HolidayInput(dt.date(2026, 11, 26), "Thanksgiving Day"), HolidayInput(dt.date(2026, 12, 25), "Christmas Day")],
        )),
    ]  # fmt: skip
    for partner, admin, data in specs:
        if support_offering_get(partner).updated_by_id is None:  # never configured: set it up
            support_offering_update(partner=partner, actor=admin, data=data)


def _customer_user(customer: Customer) -> User | None:
    membership = customer.memberships.select_related("user").order_by("pk").first()
    return membership.user if membership else None


def _agent(customer: Customer, core: DemoCore) -> User:
    slug = customer.partner.slug
    return core.users.get(f"agent@{slug}.example") or core.users[f"admin@{slug}.example"]


def _ticket(spec: DemoTicket, core: DemoCore) -> Ticket | None:
    customer = core.customers[spec.customer]
    if Ticket.objects.filter(customer=customer, subject=spec.subject).exists():
        return None
    opener = _customer_user(customer)
    agent = _agent(customer, core)
    opened = clock.now() - dt.timedelta(days=spec.days_ago)
    invoices = []
    if spec.billing:
        latest = (
            Invoice.objects.filter(customer=customer)
            .exclude(status=Invoice.Status.DRAFT)
            .order_by("-issue_date")
            .first()
        )
        invoices = [latest] if latest else []
    with clock.frozen(opened):
        ticket = ticket_create(
            partner=customer.partner, customer=customer, opened_by=opener, subject=spec.subject,
            description=spec.description, category=spec.category, product_family=spec.product, severity=spec.severity,
            assignee=agent if spec.assign else None, invoices=invoices,
        )  # fmt: skip
    for step in spec.steps:
        with clock.frozen(opened + dt.timedelta(hours=step.hours_after)):
            if step.kind in ("reply", "note"):
                ticket_message_add(ticket=ticket, author=agent, body=step.text, internal=step.kind == "note")
            elif step.kind == "customer" and opener is not None:
                ticket_message_add(ticket=ticket, author=opener, body=step.text, internal=False)
            elif step.kind == "status":
                ticket_status_change(ticket=ticket, status=step.status, actor=agent)
    ticket.refresh_from_db()
    return ticket


def _time(core: DemoCore, tickets: dict[str, Ticket]) -> None:
    """Time on the Teams ticket: last month's billable hour and a half is billed, the rest is not."""
    teams = tickets.get("Teams calls drop every ten minutes")
    if teams is None:
        return
    agent = _agent(teams.customer, core)
    today = clock.today(teams.partner.time_zone)
    last_month = today.replace(day=1) - dt.timedelta(days=3)
    time_entry_add(
        ticket=teams,
        agent=agent,
        minutes=90,
        billable=True,
        worked_on=last_month,
        note="Call traces and firewall review",
    )
    time_entry_add(
        ticket=teams, agent=agent, minutes=30, billable=False, worked_on=last_month, note="Internal hand-over"
    )
    support_charges_bill(
        partner=teams.partner, period=previous_period(today), actor=core.users["finance@contoso.example"]
    )
    time_entry_add(ticket=teams, agent=agent, minutes=45, billable=True, worked_on=today, note="Follow-up check")


def _plans(core: DemoCore) -> None:
    """Two plans at Contoso: Essential (free, the offering's targets but a working day for severity C)
    and Premium (a monthly fee with five hours included, faster targets, Azure fastest), A. Datum on it."""
    contoso, admin = core.partners["contoso"], core.users["admin@contoso.example"]
    currency = core.customers["adatum.example"].currency
    specs = [
        PlanInput(
            name="Essential", name_ru="Базовый", description="Business hours support at no extra charge.",
            description_ru="Поддержка в рабочие часы без доплаты.", currency=currency,
            targets=[TargetInput("C", "", 240, 1440)],
        ),
        PlanInput(
            name="Premium", name_ru="Премиум", description="Priority support with five hours a month included.",
            description_ru="Приоритетная поддержка, пять часов в месяц включены.",
            price_model=SupportPlan.PriceModel.MONTHLY, monthly_fee=Decimal("450.00"), hourly_rate=Decimal("110.00"),
            included_hours=5, currency=currency,
            targets=[TargetInput("A", "", 15, 120), TargetInput("A", "azure", 10, 60), TargetInput("B", "", 60, 480)],
        ),
    ]  # fmt: skip
    for data in specs:
        if not SupportPlan.objects.filter(partner=contoso, name=data.name).exists():
            plan = support_plan_save(partner=contoso, actor=admin, data=data)
            if data.name == "Premium":
                customer_plan_assign(partner=contoso, customer=core.customers["adatum.example"], plan=plan, actor=admin)


CANNED_REPLIES = [
    CannedReplyInput(
        title="Licence assigned",
        body_en="Hello {customer},\n\nthe licence is assigned. Please sign out and in again; it can take up to an "
        "hour to show.\n\n{agent}",
        body_ru="Здравствуйте, {customer}!\n\nЛицензия назначена. Выйдите и войдите снова; она может появиться в "
        "течение часа.\n\n{agent}",
    ),
    CannedReplyInput(
        title="Waiting for a screenshot",
        body_en="Hello {customer},\n\nto go on with {ticket_number} we need a screenshot of the error.\n\n{agent}",
        body_ru="Здравствуйте, {customer}!\n\nЧтобы продолжить работу по {ticket_number}, пришлите снимок экрана с "
        "ошибкой.\n\n{agent}",
    ),
    CannedReplyInput(
        title="Out of hours",
        body_en="Hello {customer},\n\nthank you for {ticket_number}. Our support hours are {offering_hours}; we "
        "answer on the next working day.\n\n{agent}",
    ),
]


def _canned_replies(core: DemoCore) -> None:
    contoso, agent = core.partners["contoso"], core.users["agent@contoso.example"]
    for data in CANNED_REPLIES:
        if not CannedReply.objects.filter(partner=contoso, title=data.title).exists():
            canned_reply_save(partner=contoso, actor=agent, data=data)


ARTICLES = [
    ArticleInput(
        category="billing",
        title_en="Why was my subscription suspended?",
        body_en="When an invoice stays unpaid, we follow the collections policy on your **Billing** page: "
        "reminders before and after the due date, a final notice, and then the subscriptions on the invoice "
        "are suspended.\n\n## What to do\n\n1. Pay the overdue invoice (see *How do I pay an invoice?*).\n"
        "2. Once the payment is recorded, the subscriptions are reactivated with Microsoft, usually within the "
        "hour.\n\nData is kept while a subscription is suspended; ask us before the 90 days run out.",
        title_ru="Почему приостановлена подписка?",
        body_ru="Если счёт остаётся неоплаченным, мы действуем по порядку взыскания на странице **Счета**: "
        "напоминания до и после срока оплаты, последнее уведомление, затем подписки по счёту "
        "приостанавливаются.\n\n## Что делать\n\n1. Оплатите просроченный счёт (см. *Как оплатить счёт?*).\n"
        "2. Когда оплата учтена, подписки снова включаются в Microsoft, обычно в течение часа.\n\nДанные "
        "сохраняются, пока подписка приостановлена; свяжитесь с нами до истечения 90 дней.",
    ),
    ArticleInput(
        category="billing",
        title_en="How do I pay an invoice?",
        body_en="Open the invoice on your **Billing** page. Pay by **bank transfer** with the details on the "
        "invoice (give the invoice number as the reference) or, where offered, **by card** with the *Pay* "
        "button.\n\nA bank transfer shows as paid once we receive it, usually within two working days.",
        title_ru="Как оплатить счёт?",
        body_ru="Откройте счёт на странице **Счета**. Оплатите **банковским переводом** по реквизитам в счёте "
        "(укажите номер счёта в назначении платежа) или, если доступно, **картой** кнопкой *Оплатить*.\n\n"
        "Перевод отмечается как оплаченный, когда он поступит, обычно в течение двух рабочих дней.",
    ),
    ArticleInput(
        category="billing",
        title_en="When is my invoice issued?",
        body_en="Invoices are made on the **1st of each month** for the month before: licence-based "
        "subscriptions, Azure usage and support time. You get an email with the PDF when the invoice is issued; "
        "it is also on your **Billing** page.",
        title_ru="Когда выставляется счёт?",
        body_ru="Счета формируются **1-го числа каждого месяца** за предыдущий месяц: подписки по лицензиям, "
        "потребление Azure и время поддержки. Когда счёт выставлен, вы получаете письмо с PDF; он также есть на "
        "странице **Счета**.",
    ),
    ArticleInput(
        category="subscription_management",
        title_en="How do I add or remove licences?",
        body_en="Ask us with a ticket: name the subscription and the number of licences. Licences added show up "
        "within the hour. A licence removed within **7 days** of the change is credited; later it is billed "
        "until the end of the term.",
    ),
]


def _articles(core: DemoCore) -> None:
    contoso, agent = core.partners["contoso"], core.users["agent@contoso.example"]
    for data in ARTICLES:
        if not Article.objects.filter(partner=contoso, title_en=data.title_en).exists():
            saved = article_save(partner=contoso, actor=agent, data=data)
            article_publish(partner=contoso, actor=agent, article=saved, publish=True)


def seed_demo(core: DemoCore) -> None:
    _offerings(core)
    created: dict[str, Ticket] = {}
    for spec in TICKETS:
        ticket = _ticket(spec, core)
        if ticket is not None:
            created[spec.subject] = ticket
    _time(core, created)
    _plans(core)
    _canned_replies(core)
    _articles(core)
