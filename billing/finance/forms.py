"""Finance forms: what is owed to Microsoft for a period, entered by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.invoicing.forms import DATE_INPUT, MONTH_INPUT, clean_period
from partner_portal.money import CURRENCY_CHOICES


class MicrosoftPayableForm(forms.Form):
    """What the partner owes Microsoft for one period, entered by hand. Editing keeps the period and
    currency (they identify the payable); only the amount, due date and notes change."""

    period = forms.CharField(
        label=_("Billing period"), max_length=7, widget=MONTH_INPUT,
        help_text=_("The month Microsoft bills, as YYYY-MM."),
    )  # fmt: skip
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    amount = forms.DecimalField(
        label=_("Amount due to Microsoft"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_("The total of Microsoft's invoice for the period, tax included."),
    )  # fmt: skip
    due_date = forms.DateField(
        label=_("Due date"), widget=DATE_INPUT, help_text=_("When Microsoft must have the money.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For the finance team, e.g. Microsoft's invoice number."),
    )  # fmt: skip

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.initial.get("currency")
        choices = list(CURRENCY_CHOICES)
        if currency and currency not in dict(choices):  # imported in a currency the portal does not bill in
            choices.append((currency, currency))
        self.fields["currency"].choices = choices  # type: ignore[attr-defined]
        if editing:  # the period and currency name the payable: they are shown, not changed
            self.fields["period"].disabled = True
            self.fields["currency"].disabled = True

    def clean_period(self) -> str:
        return clean_period(self.cleaned_data.get("period", ""))
