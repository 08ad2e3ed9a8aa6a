"""factory_boy factories for the core. Apps add theirs in tests/factories/<app>.py."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from partner_portal.models import Customer, Membership, Partner, Role, User

PASSWORD = "correct-horse-battery"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    microsoft_partner_id = factory.Sequence(lambda n: f"{4000000 + n}")
    support_email = factory.LazyAttribute(lambda o: f"support@{o.slug}.example")
    # Seller and buyer in one country: a 0 % line is zero rated unless a test says otherwise.
    country = "GB"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    domain = factory.Sequence(lambda n: f"customer{n}.example")
    billing_email = factory.LazyAttribute(lambda o: f"accounts@{o.domain}")
    country = "GB"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def member(partner: Partner, role: str, *, customer: Customer | None = None, email: str | None = None) -> User:
    """A user with a membership of `partner` (and `customer` for customer roles)."""
    user = UserFactory(**({"email": email} if email else {}))
    Membership.objects.create(user=user, partner=partner, customer=customer, role=role)
    return user


__all__ = ["PASSWORD", "CustomerFactory", "PartnerFactory", "Role", "UserFactory", "member"]


def api_token(user: User, name: str = "Tests") -> str:
    """The secret of a new API token for `user`, issued as the token endpoint issues it."""
    from partner_portal.services import api_token_issue

    _token, secret = api_token_issue(user=user, name=name)
    return secret
