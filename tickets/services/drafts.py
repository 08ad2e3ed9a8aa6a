"""Which draft support charges go on, and at what tax rate: shared by the offering's and the plans' charges."""

from __future__ import annotations

from decimal import Decimal

from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from partner_portal.models import Customer
from subscriptions.models import Subscription
from tickets.models import IncidentCharge, PlanCharge, TimeEntry


def tax_rate_for(customer: Customer, draft: Invoice | None) -> Decimal:
    """Support is taxed like what the customer already buys: the draft's lines, else its subscriptions."""
    if draft is not None:
        rate = InvoiceLine.objects.filter(invoice=draft).order_by("position", "pk").values_list("tax_rate", flat=True)
        if first := rate.first():
            return first
    sub_rate = Subscription.objects.filter(customer=customer).order_by("-pk").values_list("tax_rate", flat=True).first()
    return sub_rate if sub_rate is not None else ZERO


def draft_for(customer: Customer, period: str) -> Invoice | None:
    """The draft support charges of `period` go on: the one generated for the period, else the draft
    support billing made for it before."""
    drafts = Invoice.objects.filter(customer=customer, status=Invoice.Status.DRAFT)
    draft = drafts.filter(period=period).first()
    if draft is not None:
        return draft
    earlier = TimeEntry.objects.filter(ticket__customer=customer, billed_invoice__status=Invoice.Status.DRAFT)
    earlier_incidents = IncidentCharge.objects.filter(ticket__customer=customer, period=period)
    earlier_plan = PlanCharge.objects.filter(customer=customer, period=period)
    used = [
        *earlier.values_list("billed_invoice_id", flat=True),
        *earlier_incidents.values_list("invoice_id", flat=True),
        *earlier_plan.values_list("invoice_id", flat=True),
    ]
    return drafts.filter(period="", pk__in=used).order_by("-pk").first()
