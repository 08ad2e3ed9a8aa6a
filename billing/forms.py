from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing import selectors
from billing.models import Invoice
from partner_portal import selectors as core_selectors
from partner_portal.models import Customer
from partner_portal.tenancy import Scope

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Invoice.Status.choices]
    )
    customer: forms.ModelChoiceField[Customer] = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.none(), empty_label=_("All customers")
    )
    period = forms.CharField(label=_("Period"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-balance", _("Largest balance")),
            ("-total", _("Largest total")),
            ("total", _("Smallest total")),
        ],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]

    def clean_period(self) -> str:
        period: str = self.cleaned_data.get("period", "")
        if period and not PERIOD.match(period):
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return period

    def filters(self) -> selectors.InvoiceFilters:
        data = self.cleaned_data
        return selectors.InvoiceFilters(
            search=data.get("q", ""),
            status=data.get("status", ""),
            customer_id=data["customer"].pk if data.get("customer") else None,
            period=data.get("period", ""),
            overdue=bool(data.get("overdue")),
        )
