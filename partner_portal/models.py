"""The core every app uses: users, tenants (Partner, Customer), memberships with roles, the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar
from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from partner_portal import clock, identifiers
from partner_portal.einvoice_fields import (
    PEPPOL_SCHEME_CHOICES,
    compact,
    validate_bic,
    validate_country_code,
    validate_iban,
)
from partner_portal.money import CURRENCY_CHOICES
from partner_portal.tenancy import TenantQuerySet


class Language(models.TextChoices):
    EN = "en", _("English")
    RU = "ru", _("Russian")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address. `is_staff` means Django admin access only;
    portal roles come from the user's Membership."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.EN)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remember_access()

    def __str__(self) -> str:
        return self.email

    def _remember_access(self) -> None:
        # Read from __dict__: a deferred field must not cost a query here.
        self._stored_password: str | None = self.__dict__.get("password")
        self._stored_active: bool | None = self.__dict__.get("is_active")

    def _access_ending(self, update_fields: Any) -> str | None:
        """Why this save ends the account's API tokens, if it does: "password" when a new password is
        set (`set_password`: allauth's change, reset and set, the Django admin, `changepassword`, any
        service) or password sign-in is switched off; "deactivated" when the account stops being active.
        A hash upgraded on sign-in (`check_password`) keeps the password and ends nothing."""
        if self._state.adding:
            return None
        saved = set(update_fields) if update_fields is not None else None
        if saved is None or "password" in saved:
            if self._password is not None:  # type: ignore[attr-defined]  # set by set_password, cleared by save
                return "password"
            was_usable = self._stored_password is not None and not self._stored_password.startswith("!")
            if was_usable and not self.has_usable_password():
                return "password"
        if (saved is None or "is_active" in saved) and self._stored_active and not self.is_active:
            return "deactivated"
        return None

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saves the user; a new password or a deactivation also deletes every API token of the account,
        audited (`partner_portal.services.api_tokens_revoke_all`). The check sits here, where Django
        itself notices a password change, so no way of changing either (pages, API, admin, commands,
        services) can miss it."""
        reason = self._access_ending(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self._remember_access()
        if reason is not None:
            from partner_portal.audit import current_actor
            from partner_portal.services import api_tokens_revoke_all

            api_tokens_revoke_all(user=self, actor=current_actor(), reason=reason)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone, e.g. Europe/London."), params={"value": value})


GERMANY_CLOSED_MESSAGE = _(
    "Microsoft Cloud Germany closed on 29 October 2021. Choose the global cloud (Microsoft's German "
    "datacenter regions are part of it), US Government or 21Vianet."
)


class Partner(models.Model):
    """The tenant: a CSP partner organisation. Everything else belongs to one."""

    class Cloud(models.TextChoices):
        GLOBAL = "global", _("Global (commercial) cloud")
        US_GOVERNMENT = "us_government", _("Microsoft Cloud for US Government")
        # Closed by Microsoft on 29 October 2021: kept so old rows read; refused for new or edited partners.
        GERMANY = "germany", _("Microsoft Cloud Germany (closed)")
        CHINA = "china", _("Partner Center operated by 21Vianet")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    microsoft_partner_id = models.CharField(_("Microsoft partner ID"), max_length=20, blank=True)
    cloud = models.CharField(_("Partner Center cloud"), max_length=20, choices=Cloud.choices, default=Cloud.GLOBAL)
    default_currency = models.CharField(_("default currency"), max_length=3, choices=CURRENCY_CHOICES, default="USD")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    locale = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.EN)
    address = models.TextField(_("address"), blank=True, help_text=_("As printed on documents."))
    # The seller's structured address and identifiers of a European (EN 16931) e-invoice.
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    post_code = models.CharField(_("post code"), max_length=20, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text=_("ISO 3166 code, e.g. DE"),
    )
    tax_id = models.CharField(
        _("VAT identifier"), max_length=40, blank=True, help_text=_("With its country prefix, e.g. DE123456789.")
    )
    legal_registration_id = models.CharField(
        _("legal registration identifier"),
        max_length=60,
        blank=True,
        help_text=_("The company register number, e.g. HRB 12345."),
    )
    contact_name = models.CharField(_("contact name"), max_length=150, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    peppol_scheme = models.CharField(
        _("Peppol scheme"), max_length=4, blank=True, choices=PEPPOL_SCHEME_CHOICES, help_text=_("EAS code, e.g. 0088")
    )
    peppol_id = models.CharField(_("Peppol identifier"), max_length=100, blank=True)
    support_email = models.EmailField(_("support email"), blank=True)
    support_phone = models.CharField(_("support phone"), max_length=40, blank=True)
    payment_instructions = models.TextField(_("payment instructions"), blank=True)
    payment_instructions_ru = models.TextField(_("payment instructions in Russian"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.cloud == self.Cloud.GERMANY:
            raise ValidationError({"cloud": GERMANY_CLOSED_MESSAGE})
        self.iban, self.bic = compact(self.iban), compact(self.bic)
        self.peppol_id = peppol_pair_check(self.peppol_scheme, self.peppol_id)

    @property
    def payment_instructions_shown(self) -> str:
        """How to pay, in the active language: the Russian text for a Russian reader when the partner
        wrote one, else the default text."""
        if translation.get_language() == "ru" and self.payment_instructions_ru:
            return self.payment_instructions_ru
        return self.payment_instructions

    @property
    def cloud_is_closed(self) -> bool:
        return self.cloud == self.Cloud.GERMANY


def peppol_pair_check(scheme: str, value: str) -> str:
    """A Peppol participant identifier is a scheme and a value: both or neither, and a value of a
    scheme the portal knows the format or check digits of must pass them (`identifiers`), so a typo
    is refused where it is typed rather than by the receiver's access point. Returns the value as
    stored: compact for those schemes, stripped otherwise."""
    value = value.strip()
    if scheme and not value:
        raise ValidationError(
            {"peppol_id": _("Enter the identifier of the Peppol scheme %(scheme)s.") % {"scheme": scheme}}
        )
    if value and not scheme:
        raise ValidationError({"peppol_scheme": _("Choose the Peppol scheme (EAS code) of this identifier.")})
    known = identifiers.EAS_SCHEMES.get(scheme)
    if known is None or not value:
        return value
    try:
        return known.validate(value)
    except ValidationError as exc:
        raise ValidationError({"peppol_id": exc.messages}) from exc


class CustomerQuerySet(TenantQuerySet["Customer"]):
    customer_lookup = "pk"


class EinvoiceFormat(models.TextChoices):
    """What the invoice email carries for a customer (the downloads offer every format regardless)."""

    PDF = "pdf", _("PDF only")
    FACTURX = "facturx", _("Factur-X (PDF/A-3 with the CII XML inside)")
    UBL = "ubl", _("PDF with the UBL XML (Peppol BIS Billing 3.0) attached")
    # Sent over Peppol when the partner's access point is active; the email carries the PDF and the UBL too.
    PEPPOL = "peppol", _("Over Peppol (UBL), and the PDF with the UBL by email")


class Customer(models.Model):
    """A customer of a partner, identified at Microsoft by its tenant ID."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(_("name"), max_length=200)
    tenant_id = models.UUIDField(_("Microsoft tenant ID"), default=uuid.uuid4)
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    billing_contact = models.CharField(_("billing contact"), max_length=150, blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    billing_phone = models.CharField(_("billing phone"), max_length=40, blank=True)
    address = models.TextField(_("billing address"), blank=True)
    # The buyer's structured address and identifiers of a European (EN 16931) e-invoice.
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    post_code = models.CharField(_("post code"), max_length=20, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text=_("ISO 3166 code, e.g. US"),
    )
    tax_id = models.CharField(
        _("VAT identifier"), max_length=40, blank=True, help_text=_("With its country prefix, e.g. FR12345678901.")
    )
    legal_registration_id = models.CharField(_("legal registration identifier"), max_length=60, blank=True)
    peppol_scheme = models.CharField(
        _("Peppol scheme"), max_length=4, blank=True, choices=PEPPOL_SCHEME_CHOICES, help_text=_("EAS code, e.g. 0088")
    )
    peppol_id = models.CharField(_("Peppol identifier"), max_length=100, blank=True)
    buyer_reference = models.CharField(
        _("buyer reference"),
        max_length=100,
        blank=True,
        help_text=_("The reference the buyer asks for on every invoice; for German public buyers the Leitweg-ID."),
    )
    order_reference = models.CharField(_("order reference"), max_length=100, blank=True)
    # Whether the partner offers this customer card payments online (pay buttons, pay links, autopay),
    # when the partner takes them at all; off, the customer pays by transfer as before.
    card_payments = models.BooleanField(
        _("may pay by card online"),
        default=True,
        help_text=_("Pay buttons, pay links in emails and autopay, when card payments are set up."),
    )
    einvoice_format = models.CharField(
        _("invoice email format"),
        max_length=10,
        choices=EinvoiceFormat.choices,
        default=EinvoiceFormat.PDF,
        help_text=_("What the invoice email carries: the PDF, a Factur-X PDF, or the PDF and the UBL XML."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="USD")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.EN)
    credit_days = models.PositiveSmallIntegerField(
        _("credit terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    # Collections overrides: applied by the collections run of the billing app.
    collections_exempt = models.BooleanField(_("exempt from suspension"), default=False)
    collections_extra_grace_days = models.PositiveSmallIntegerField(
        _("extra grace days"), default=0, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )
    promise_to_pay_until = models.DateField(_("promise to pay until"), null=True, blank=True)
    notes = models.TextField(_("internal notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "tenant_id"], name="customer_tenant_id_unique_per_partner"),
            models.CheckConstraint(condition=Q(credit_days__lte=365), name="customer_credit_days_at_most_365"),
            # What the collections tables' (customer, partner) foreign keys refer to (billing 0036): the
            # database itself refuses a row whose customer is another partner's.
            models.UniqueConstraint(fields=["id", "partner"], name="customer_id_partner_key"),
        ]
        indexes = [
            models.Index(fields=["partner", "name", "id"], name="customer_partner_name_idx"),
            models.Index(fields=["partner", "created_at", "id"], name="customer_partner_created_idx"),
            models.Index(fields=["partner", "credit_days", "id"], name="customer_partner_credit_idx"),
            # The customers billed in one currency, in id order: counted against the collections
            # overview's summary rows (a merge join on the customer) when it keeps to a currency.
            models.Index(fields=["partner", "currency", "id"], name="customer_partner_currency_idx"),
            # The few customers with collections terms of their own (exempt, extra grace, a promise).
            models.Index(
                fields=["partner"],
                condition=Q(collections_exempt=True)
                | Q(collections_extra_grace_days__gt=0)
                | Q(promise_to_pay_until__isnull=False),
                name="customer_collections_terms_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.peppol_id = peppol_pair_check(self.peppol_scheme, self.peppol_id)


class Role(models.TextChoices):
    PARTNER_ADMIN = "partner_admin", _("Partner admin")
    FINANCE = "finance", _("Finance")
    SUPPORT_AGENT = "support_agent", _("Support agent")
    CUSTOMER_ADMIN = "customer_admin", _("Customer admin")
    CUSTOMER_MEMBER = "customer_member", _("Customer member")


STAFF_ROLES = frozenset({Role.PARTNER_ADMIN, Role.FINANCE, Role.SUPPORT_AGENT})
CUSTOMER_ROLES = frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER})


class MembershipQuerySet(TenantQuerySet["Membership"]):
    customer_lookup = "customer"


class Membership(models.Model):
    """What a user is in the portal: staff of one partner, or a user of one customer of that partner."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # Staff roles have no customer; customer roles always have one.
            models.CheckConstraint(
                condition=(Q(role__in=sorted(STAFF_ROLES)) & Q(customer__isnull=True))
                | (Q(role__in=sorted(CUSTOMER_ROLES)) & Q(customer__isnull=False)),
                name="membership_role_matches_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES


class InvitationQuerySet(TenantQuerySet["Invitation"]):
    customer_lookup = "customer"


class Invitation(models.Model):
    """An emailed invitation to join a partner as staff or as a customer's user. One use, expires."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=clock.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__in=sorted(STAFF_ROLES)) & Q(customer__isnull=True))
                | (Q(role__in=sorted(CUSTOMER_ROLES)) & Q(customer__isnull=False)),
                name="invitation_role_matches_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    def is_open(self, now: dt.datetime) -> bool:
        """Its link still works: not accepted, not revoked, not expired."""
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class ApiTokenQuerySet(TenantQuerySet["ApiToken"]):
    customer_lookup = "user__membership__customer"


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox's model, swapped in by KNOX_TOKEN_MODEL): stored as a hash of the
    secret, named after the integration that uses it, ending at `expiry`. A user may hold several."""

    # knox ships no type information: the fields are annotated here for the type checker.
    id: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    digest: models.CharField[str, str] = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    partner: models.ForeignKey[Partner, Partner] = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+"
    )
    name: models.CharField[str, str] = models.CharField(_("name"), max_length=100)
    user: Any
    token_key: Any
    created: Any
    expiry: Any

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name

    def is_expired(self, at: dt.datetime | None = None) -> bool:
        return self.expiry is not None and self.expiry <= (at or clock.now())


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(TenantQuerySet["AuditEvent"]):
    customer_lookup = None  # the audit log is for partner staff only

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """Append-only record of a state change that matters. Written by `audit.audit_record` only.

    On PostgreSQL a trigger also refuses UPDATE and DELETE, so not even raw SQL rewrites history.
    """

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", db_index=False
    )  # leads the indexes below
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["partner", "target_type", "target_id"], name="audit_target_idx"),
            # The audit log's pages, newest first, and its action filter.
            models.Index(fields=["partner", "created_at", "id"], name="audit_partner_created_idx"),
            models.Index(fields=["partner", "action", "created_at", "id"], name="audit_partner_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")
