"""Subscription factories: rows as staff would create them, changes through the real services."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import factory

from subscriptions.models import Subscription


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory("tests.factories.CustomerFactory")
    partner = factory.LazyAttribute(lambda o: o.customer.partner)
    product = "Microsoft 365 E3"
    product_family = Subscription.ProductFamily.MICROSOFT_365
    offer_id = "CFQ7TTC0LFLZ:0001"
    microsoft_subscription_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    quantity = 10
    unit_price = Decimal("36.00")
    unit_cost = Decimal("28.80")
    start_date = dt.date(2026, 1, 1)


def azure_plan(**kwargs: object) -> Subscription:
    """An Azure plan subscription: suspended in Azure Resource Manager, not through Partner Center."""
    defaults: dict[str, object] = {
        "product": "Azure plan", "product_family": Subscription.ProductFamily.AZURE, "offer_id": "DZH318Z0BPS6:0001",
        "quantity": 1, "unit_price": Decimal("480.00"), "unit_cost": Decimal("432.00"),
    }  # fmt: skip
    return SubscriptionFactory(**{**defaults, **kwargs})
