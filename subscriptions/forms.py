"""Forms of the subscription pages: they validate input, the services act."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partner_portal import selectors as core_selectors
from partner_portal.lookup import CustomerField
from partner_portal.tenancy import Scope
from subscriptions import selectors
from subscriptions.models import Subscription, SubscriptionDifference


class SubscriptionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Subscription.Status.choices]
    )
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))
    family = forms.ChoiceField(
        label=_("Product family"),
        required=False,
        choices=[("", _("All families")), *Subscription.ProductFamily.choices],
    )
    changes = forms.ChoiceField(
        label=_("Changes"),
        required=False,
        choices=[
            ("", _("Any")),
            ("any", _("Any open change")),
            ("pending", _("Waiting for Microsoft")),
            ("failed", _("Failed")),
            ("manual", _("Needs a manual step")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("product", _("Product A–Z")),
            ("-product", _("Product Z–A")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-quantity", _("Most licences")),
            ("quantity", _("Fewest licences")),
            ("status", _("Status")),
            ("-status", _("Status, reversed")),
        ],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]

    def filters(self) -> selectors.SubscriptionFilters:
        data = self.cleaned_data
        return selectors.SubscriptionFilters(
            search=data.get("q", ""),
            status=data.get("status", ""),
            customer_id=data["customer"].pk if data.get("customer") else None,
            product_family=data.get("family", ""),
            changes=data.get("changes", ""),
        )


class StatusChangeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the subscription's history and the audit log, e.g. “Invoice INV-2026-000042 unpaid”."),
    )


class ManualStepForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was done in Azure Resource Manager, and by whom."),
    )


class PartnerCenterAccountForm(forms.Form):
    aad_tenant_id = forms.UUIDField(
        label=_("Partner AAD tenant ID"), help_text=_("The directory (tenant) ID of your Partner Center account.")
    )
    application_id = forms.UUIDField(
        label=_("Application (client) ID"),
        help_text=_("The app registered in Partner Center → Account settings → App management."),
    )
    secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the current one."),
    )


class DifferenceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    field = forms.ChoiceField(
        label=_("What differs"), required=False, choices=[("", _("Anything")), *SubscriptionDifference.Field.choices]
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("open", _("Open")), ("settled", _("Settled")), ("all", _("All"))],
    )
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("-found", _("Newest first")), ("found", _("Oldest first")), ("field", _("What differs"))],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]

    def filters(self) -> selectors.DifferenceFilters:
        data = self.cleaned_data
        state = data.get("state") or "open"
        return selectors.DifferenceFilters(
            search=data.get("q", ""),
            field=data.get("field", ""),
            state="" if state == "all" else state,
            customer_id=data["customer"].pk if data.get("customer") else None,
        )
