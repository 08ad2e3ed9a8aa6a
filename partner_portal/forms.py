from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES, Customer, Language, Role
from partner_portal.money import CURRENCY_CHOICES
from partner_portal.services import CUSTOMER_EDITABLE_FIELDS


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
