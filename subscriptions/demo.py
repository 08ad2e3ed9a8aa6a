"""Demo subscriptions for the demo customers. Idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from decimal import Decimal

from partner_portal import clock
from partner_portal.demo import DemoCore
from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services import subscription_change_push, subscription_reactivate, subscription_suspend

_NAMESPACE = uuid.UUID("2c5e8f1a-7b3d-4e9f-8a6c-5d4e3f2a1b0c")

# (domain, product, family, quantity, monthly unit price, Microsoft unit cost)
CATALOGUE = [
    ("northwind.example", "Microsoft 365 Business Premium", "microsoft_365", 25, "22.00", "17.60"),
    ("northwind.example", "Azure plan", "azure", 1, "480.00", "432.00"),
    ("adatum.example", "Microsoft 365 E3", "microsoft_365", 40, "36.00", "28.80"),
    ("adatum.example", "Dynamics 365 Sales Enterprise", "dynamics_365", 5, "105.00", "84.00"),
    ("fourthcoffee.example", "Microsoft 365 Business Standard", "microsoft_365", 12, "12.50", "10.00"),
    ("litware.example", "Microsoft 365 E5", "microsoft_365", 30, "57.00", "45.60"),
    ("wideworldimporters.example", "Exchange Online (Plan 1)", "microsoft_365", 60, "4.00", "3.20"),
    ("proseware.example", "Microsoft 365 Business Basic", "microsoft_365", 18, "6.00", "4.80"),
    ("proseware.example", "Azure plan", "azure", 1, "150.00", "135.00"),
    ("lucerne.example", "Microsoft 365 E3", "microsoft_365", 15, "2900.00", "2320.00"),
    ("woodgrovebank.example", "Microsoft 365 E5", "microsoft_365", 120, "45.00", "36.00"),
    ("tailspintoys.example", "Microsoft 365 G3 (GCC)", "microsoft_365", 20, "32.00", "25.60"),
    ("wingtiptoys.example", "Microsoft 365 G1 (GCC)", "microsoft_365", 10, "10.00", "8.00"),
]


def seed_demo(core: DemoCore) -> None:
    start = clock.today().replace(day=1) - dt.timedelta(days=180)
    for domain, product, family, quantity, price, cost in CATALOGUE:
        customer = core.customers[domain]
        Subscription.objects.get_or_create(
            partner=customer.partner,
            microsoft_subscription_id=str(uuid.uuid5(_NAMESPACE, f"{domain}:{product}")),
            defaults={
                "customer": customer,
                "product": product,
                "product_family": family,
                "offer_id": f"CFQ7TTC0{zlib.crc32(product.encode()) % 10000:04d}",
                "quantity": quantity,
                "unit_price": Decimal(price),
                "unit_cost": Decimal(cost),
                "tax_rate": Decimal("20.00") if customer.country in ("GB", "NL") else Decimal("0.00"),
                "start_date": start,
            },
        )
    _seed_history(core)


def _seed_history(core: DemoCore) -> None:
    """Status history to look at: a suspension by hand and its reactivation, both confirmed (the
    record-only backend), and an Azure plan suspension waiting for its step in Azure Resource Manager."""
    finance = core.users["finance@contoso.example"]
    exchange = Subscription.objects.filter(
        customer=core.customers["wideworldimporters.example"], product="Exchange Online (Plan 1)"
    ).first()
    if exchange is not None and not SubscriptionChange.objects.filter(subscription=exchange).exists():
        for act, reason in (
            (subscription_suspend, "Mailboxes paused at the customer's request during their office move"),
            (subscription_reactivate, "Office move finished; customer asked to turn mail back on"),
        ):
            change = act(subscription=exchange, reason=reason, actor=finance)
            if change is not None:  # the worker would push it after commit; the seed confirms it now
                subscription_change_push(change_id=change.pk)
    azure = Subscription.objects.filter(customer=core.customers["proseware.example"], product="Azure plan").first()
    if azure is not None and not SubscriptionChange.objects.filter(subscription=azure).exists():
        subscription_suspend(
            subscription=azure, reason="Customer asked to stop Azure spending until their budget is approved",
            actor=finance,
        )  # fmt: skip
