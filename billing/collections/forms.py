"""Forms of the collections pages. They only check what was typed; the rules (step order, ranges,
one suspension...) live in `collection_policy_update`, whose per-field errors the page shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.collections.models import CollectionPolicy, CollectionStep
from billing.collections.selectors import OverviewFilters
from partner_portal.money import CURRENCY_CHOICES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CollectionsFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    step = forms.ChoiceField(
        label=_("Step reached"),
        required=False,
        choices=[
            ("", _("Any step")),
            ("none", _("No notice yet")),
            *CollectionStep.Action.choices,
        ],
    )
    situation = forms.ChoiceField(
        label=_("Situation"),
        required=False,
        choices=[
            ("", _("Everyone in collections")),
            ("suspended", _("Suspended or suspension pending")),
            ("held", _("Held: promise to pay")),
            ("exempt", _("Exempt from suspension")),
        ],
    )
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("All currencies")), *CURRENCY_CHOICES]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-days", _("Longest overdue first")),
            ("days", _("Most recently overdue first")),
            ("-overdue", _("Most overdue first")),
            ("overdue", _("Least overdue first")),
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
        ],
    )

    def filters(self) -> OverviewFilters:
        data = self.cleaned_data
        return OverviewFilters(
            search=data.get("q", ""),
            step=data.get("step", ""),
            situation=data.get("situation", ""),
            currency=data.get("currency", ""),
        )


class CollectionPolicyForm(forms.Form):
    min_amount = forms.DecimalField(
        label=_("Minimum overdue amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_(
            "In the customer's currency. Below it, nothing is sent after the due date and nothing is suspended."
        ),
    )
    min_amounts = forms.CharField(
        label=_("Minimum per currency"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "One currency a line, for example “RUB 900.00”. A customer's invoices in a currency listed here "
            "use its minimum; every other currency uses the minimum above."
        ),
    )
    grace_days = forms.IntegerField(
        label=_("Grace days"),
        min_value=0,
        max_value=365,
        help_text=_("Added to every step after the due date, for every customer."),
    )
    suspend_scope = forms.ChoiceField(
        label=_("What is suspended"), choices=CollectionPolicy.SuspendScope.choices, widget=forms.RadioSelect
    )
    reactivate_automatically = forms.BooleanField(
        label=_("Reactivate automatically once the overdue balance is paid"), required=False
    )

    def clean_min_amounts(self) -> dict[str, Decimal]:
        return _clean_minimums(self.cleaned_data.get("min_amounts") or "")


def minimums_text(min_amounts: dict[str, str]) -> str:
    """The policy's minimums per currency as the page's field shows them, one a line."""
    return "\n".join(f"{currency} {amount}" for currency, amount in sorted(min_amounts.items()))


def _clean_minimums(text: str) -> dict[str, Decimal]:
    """ "RUB 900.00" lines to {"RUB": Decimal("900.00")}; which currencies and amounts are allowed is the service's."""
    found: dict[str, Decimal] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise forms.ValidationError(_("Write each line as a currency and an amount, for example “RUB 900.00”."))
        currency = parts[0].upper()
        try:
            amount = Decimal(parts[1].replace(",", "."))
        except InvalidOperation:
            raise forms.ValidationError(_("“%(amount)s” is not an amount.") % {"amount": parts[1]}) from None
        if not amount.is_finite():
            raise forms.ValidationError(_("“%(amount)s” is not an amount.") % {"amount": parts[1]})
        if currency in found:
            raise forms.ValidationError(_("%(currency)s is listed twice.") % {"currency": currency})
        found[currency] = amount
    return found


class CollectionStepForm(forms.Form):
    """One step. A row left empty is ignored; a row half filled in is an error."""

    offset_days = forms.IntegerField(
        label=_("Days after the due date"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
    )
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", "—"), *CollectionStep.Action.choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offset, action = data.get("offset_days"), data.get("action")
        if self.errors:
            return data
        if offset is None and action:
            self.add_error("offset_days", _("Enter the day of this step."))
        elif offset is not None and not action:
            self.add_error("action", _("Choose what happens on this day."))
        return data

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return data.get("offset_days") is None and not data.get("action")


class BaseCollectionStepFormSet(forms.BaseFormSet):
    def steps(self) -> list[tuple[int, str]]:
        """(offset, action) of the rows that are filled in and not removed, in the order typed."""
        return [
            (form.cleaned_data["offset_days"], form.cleaned_data["action"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and not form.is_blank
        ]


CollectionStepFormSet = forms.formset_factory(
    CollectionStepForm, formset=BaseCollectionStepFormSet, extra=2, can_delete=True
)


class CollectionHoldForm(forms.Form):
    until = forms.DateField(
        label=_("Hold until"),
        widget=DATE_INPUT,
        help_text=_("No notice is sent and nothing is suspended until this day, inclusive."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: promised to pay by bank transfer on the 15th. Kept in the audit log."),
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_until(self) -> dt.date:
        until: dt.date = self.cleaned_data["until"]
        if until < self.today:
            raise forms.ValidationError(_("Choose today or a later day."))
        return until


class NoticeTemplateForm(forms.Form):
    """A step's notice wording in both languages. The per-field check is the service's own
    (notice_template_errors), so the page refuses exactly what the service refuses."""

    subject_en = forms.CharField(label=_("Subject (English)"), max_length=250, strip=False)
    body_en = forms.CharField(label=_("Text (English)"), widget=forms.Textarea(attrs={"rows": 14}), strip=False)
    subject_ru = forms.CharField(label=_("Subject (Russian)"), max_length=250, strip=False)
    body_ru = forms.CharField(label=_("Text (Russian)"), widget=forms.Textarea(attrs={"rows": 14}), strip=False)

    def clean(self) -> dict[str, Any]:
        from billing.collections.services import notice_template_errors  # services import the forms' models

        data = super().clean() or {}
        texts = {name: str(data.get(name) or "") for name in self.fields if name not in self.errors}
        for name, messages in notice_template_errors(texts).items():
            if name in texts:
                for message in messages:
                    self.add_error(name, message)
        return data


class NoticePreviewForm(forms.Form):
    """Whose real figures a preview or a test send shows, and in which language."""

    customer = forms.TypedChoiceField(label=_("Customer"), coerce=int)
    language = forms.ChoiceField(label=_("Language"), choices=[("en", _("English")), ("ru", _("Russian"))])

    def __init__(self, *args: Any, customers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [(c.pk, c.name) for c in customers]  # type: ignore[attr-defined]


class DryRunForm(forms.Form):
    date = forms.DateField(label=_("Run date"), widget=DATE_INPUT, required=False)
