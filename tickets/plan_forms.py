"""Forms of the support plan pages, and the grid of SLA targets by severity and product family.

The grid is shared with the support offering page: one row per severity, a pair of fields (first
response, resolution in business minutes) per column; a column is every product family (plans only)
or one family. An empty pair means "no target here": the next less specific target applies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partner_portal.money import CURRENCY_CHOICES
from partner_portal.tenancy import Scope
from tickets import selectors
from tickets.models import SlaTarget, SupportPlan, Ticket
from tickets.services.plans import PlanInput, TargetInput

ANY = "any"


def _columns(with_any: bool) -> list[tuple[str, str]]:
    families = [(str(v), str(label)) for v, label in Ticket.ProductFamily.choices]
    return [(ANY, str(_("Every product family"))), *families] if with_any else families


class TargetGridMixin(forms.Form):
    """Adds the target fields; `targets_input()` reads them back as TargetInput rows."""

    grid_with_any = True

    def add_target_fields(self, rows: list[SlaTarget]) -> None:
        for severity in Ticket.Severity.values:
            for column, label in _columns(self.grid_with_any):
                for part, part_label in (("first", _("first response")), ("resolution", _("resolution"))):
                    self.fields[f"target_{severity}_{column}_{part}"] = forms.IntegerField(
                        label=f"{severity} · {label}: {part_label}", required=False, min_value=1, max_value=10**6,
                        widget=forms.NumberInput(attrs={"placeholder": "—"}),
                    )  # fmt: skip
        for row in rows:
            column = row.product_family or ANY
            self.initial[f"target_{row.severity}_{column}_first"] = row.first_response_minutes
            self.initial[f"target_{row.severity}_{column}_resolution"] = row.resolution_minutes

    @property
    def target_columns(self) -> list[tuple[str, str]]:
        return _columns(self.grid_with_any)

    @property
    def target_grid(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        return [
            (
                severity,
                [
                    (self[f"target_{severity}_{c}_first"], self[f"target_{severity}_{c}_resolution"])
                    for c, _label in self.target_columns
                ],
            )
            for severity in Ticket.Severity.values
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["target_inputs"] = self._targets(data)
        return data

    def _targets(self, d: dict[str, Any]) -> list[TargetInput]:
        rows = []
        for severity in Ticket.Severity.values:
            for column, _label in self.target_columns:
                first = d.get(f"target_{severity}_{column}_first")
                resolution = d.get(f"target_{severity}_{column}_resolution")
                if first is None and resolution is None:
                    continue
                if first is None or resolution is None:
                    self.add_error(
                        f"target_{severity}_{column}_first"
                        if first is None
                        else f"target_{severity}_{column}_resolution",
                        _("Give both targets, or neither."),
                    )
                    continue
                family = "" if column == ANY else column
                rows.append(TargetInput(severity, family, first, resolution))
        return rows


class PlanFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    price_model = forms.ChoiceField(
        label=_("Price model"), required=False, choices=[("", _("All price models")), *SupportPlan.PriceModel.choices]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("name", _("Name (A–Z)")), ("-name", _("Name (Z–A)")), ("-created", _("Newest first")),
                 ("created", _("Oldest first"))],
    )  # fmt: skip

    def filters(self) -> selectors.PlanFilters:
        d = self.cleaned_data
        return selectors.PlanFilters(search=(d.get("q") or "").strip()[:100], price_model=d.get("price_model") or "")


def _money_field(label: Any, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=False, max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text=help_text
    )


class PlanForm(TargetGridMixin):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    description_ru = forms.CharField(
        label=_("Description in Russian"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    price_model = forms.ChoiceField(label=_("Price model"), choices=SupportPlan.PriceModel.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    monthly_fee = _money_field(_("Monthly fee"), _("Billed with each month's invoice (monthly fee model)."))
    hourly_rate = _money_field(_("Hourly rate"), _("For billable hours beyond those included."))
    incident_price = _money_field(_("Price per incident"), _("For incidents beyond those included."))
    included_hours = forms.IntegerField(label=_("Included hours per month"), min_value=0, max_value=10000, initial=0)
    included_incidents = forms.IntegerField(
        label=_("Included incidents per month"), min_value=0, max_value=10000, initial=0
    )
    is_default = forms.BooleanField(
        label=_("Default plan"), required=False, help_text=_("For every customer without a plan of its own.")
    )

    def __init__(self, *args: Any, plan: SupportPlan | None = None, currency: str = "USD", **kwargs: Any) -> None:
        if plan is not None:
            kwargs.setdefault("initial", {
                name: getattr(plan, name)
                for name in ("name", "name_ru", "description", "description_ru", "price_model", "currency",
                             "monthly_fee", "hourly_rate", "incident_price", "included_hours",
                             "included_incidents", "is_default")
            })  # fmt: skip
        else:
            kwargs.setdefault("initial", {"currency": currency, "included_hours": 0, "included_incidents": 0})
        super().__init__(*args, **kwargs)
        self.add_target_fields(list(plan.sla_targets.all()) if plan is not None else [])

    def plan_input(self) -> PlanInput:
        d = self.cleaned_data
        return PlanInput(
            name=d["name"], name_ru=d.get("name_ru", ""), description=d.get("description", ""),
            description_ru=d.get("description_ru", ""), price_model=d["price_model"], currency=d["currency"],
            monthly_fee=d.get("monthly_fee"), hourly_rate=d.get("hourly_rate"), incident_price=d.get("incident_price"),
            included_hours=d["included_hours"], included_incidents=d["included_incidents"],
            is_default=d.get("is_default", False), targets=d["target_inputs"],
        )  # fmt: skip

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class CustomerPlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Support plan"), queryset=SupportPlan.objects.none(), required=False,
        empty_label=_("The default plan"),
    )  # fmt: skip

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        # A partner has a handful of plans, not one per customer: a select is fine here.
        field.queryset = selectors.support_plan_list(scope=scope).order_by("name")
