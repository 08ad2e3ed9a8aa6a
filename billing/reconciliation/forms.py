from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.invoicing.forms import MONTH_INPUT, clean_period
from partner_portal import selectors as core_selectors
from partner_portal.models import Customer
from partner_portal.tenancy import Scope


def _upload_limit() -> int:
    return int(getattr(settings, "RECONCILIATION_MAX_UPLOAD_BYTES", 256 * 1024 * 1024))


class ReconciliationUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Reconciliation file"),
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
        help_text=_(
            "The invoice reconciliation file downloaded from Partner Center (new commerce, legacy "
            "license-based or legacy usage-based), as CSV or as Excel saved it (.csv, .txt, .xlsx)."
        ),
    )
    period = forms.CharField(
        label=_("Billing period"), max_length=7, required=False, widget=MONTH_INPUT,
        help_text=_("Leave empty to use the month most charge lines start in."),
    )  # fmt: skip

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = _upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(_("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024)})
        return upload

    def clean_period(self) -> str:
        return clean_period(self.cleaned_data.get("period", ""))


class ReconciliationMapForm(forms.Form):
    """Map the unmatched lines of one Microsoft customer (named by one of its lines) to a customer:
    chosen from a list, or (a partner with too many customers to list) found by domain or name."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    customer: forms.ModelChoiceField[Customer] = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("Choose a customer")
    )
    find = forms.CharField(label=_("Customer's domain or name"), max_length=200, required=False)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("customer") or "customer" in self.errors:
            return data
        text = (data.get("find") or "").strip()
        if not text:
            self.add_error("customer", _("Choose the customer these lines belong to."))
            return data
        customers = core_selectors.customer_list(scope=self.scope)
        matches = list(customers.filter(Q(domain__iexact=text) | Q(name__iexact=text))[:2]) or list(
            core_selectors.customer_list(scope=self.scope, filters=core_selectors.CustomerFilters(search=text))[:2]
        )
        if len(matches) == 1:
            data["customer"] = matches[0]
        elif not matches:
            self.add_error("find", _("No customer matches “%(text)s”.") % {"text": text})
        else:
            self.add_error(
                "find", _("Several customers match “%(text)s”: type the whole domain or name.") % {"text": text}
            )
        return data


class UsageBillForm(forms.Form):
    markup_percent = forms.DecimalField(
        label=_("Markup (%)"), max_digits=7, decimal_places=2, min_value=Decimal("-99.99"),
        max_value=Decimal("1000"), initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_("Added to Microsoft's price of each usage line; 0 bills it at cost."),
    )  # fmt: skip
