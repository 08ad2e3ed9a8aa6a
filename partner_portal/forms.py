from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from partner_portal import selectors
from partner_portal.audit_labels import action_choices
from partner_portal.lookup import CustomerField
from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES, Customer, Language, Partner, Role
from partner_portal.money import CURRENCY_CHOICES
from partner_portal.services import CUSTOMER_EDITABLE_FIELDS, PARTNER_EDITABLE_FIELDS
from partner_portal.tenancy import Scope


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = CUSTOMER_EDITABLE_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            # ISO format whatever the language: a date input accepts nothing else.
            "promise_to_pay_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A post without the field (a form saved before the field existed) keeps the format as it is.
        self.fields["einvoice_format"].required = False

    def clean_einvoice_format(self) -> str:
        return str(self.cleaned_data.get("einvoice_format") or self.instance.einvoice_format)


class PartnerSettingsForm(forms.ModelForm):
    """The partner's details: what its invoices, credit notes and e-invoices say of the seller."""

    class Meta:
        model = Partner
        fields = PARTNER_EDITABLE_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "payment_instructions": forms.Textarea(attrs={"rows": 3}),
            "payment_instructions_ru": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "payment_instructions_ru": _("Shown to customers who read the portal in Russian; blank: the text above."),
        }


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *Language.choices]
    )
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("All currencies")), *CURRENCY_CHOICES]
    )
    collections = forms.ChoiceField(
        label=_("Collections"),
        required=False,
        choices=[("", _("All customers")), ("exempt", _("Exempt from suspension")), ("promise", _("Promise to pay"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-credit_days", _("Longest credit terms")),
            ("credit_days", _("Shortest credit terms")),
        ],
    )


class StaffInvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=[(r.value, r.label) for r in Role if r in STAFF_ROLES])


class CustomerInvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=[(r.value, r.label) for r in Role if r in CUSTOMER_ROLES])


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """The audit log's filters: who, what, which object or customer, and when (in the partner's time zone)."""

    q = forms.CharField(label=_("Object"), required=False, max_length=200)
    actor = forms.TypedChoiceField(label=_("Who"), required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label=_("What"), required=False)
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))
    since = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    until = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[("-created", _("Newest first")), ("created", _("Oldest first"))]
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = ZoneInfo(scope.partner.time_zone)
        self.fields["actor"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            *((m.user_id, m.user.get_full_name()) for m in selectors.audit_actors(scope=scope)),
        ]
        self.fields["action"].choices = [("", _("Every action")), *action_choices()]  # type: ignore[attr-defined]
        self.fields["customer"].queryset = selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> selectors.AuditFilters:
        data = self.cleaned_data
        return selectors.AuditFilters(
            search=data.get("q", ""),
            actor_id=data.get("actor"),
            action=data.get("action", ""),
            customer_id=data["customer"].pk if data.get("customer") else None,
            since=self._start_of(data.get("since")),
            until=self._start_of(data["until"] + dt.timedelta(days=1)) if data.get("until") else None,
        )

    def _start_of(self, day: dt.date | None) -> dt.datetime | None:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.time_zone) if day else None
