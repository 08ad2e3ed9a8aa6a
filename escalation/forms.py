"""Forms of the escalation pages. They validate input only; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from escalation.models import EntitlementType, Escalation, SupportTier
from escalation.selectors import EscalationFilters
from escalation.services import EntitlementInput
from partner_portal import clock

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EntitlementForm(forms.Form):
    # Offers what can be chosen today; any other code goes to the service, which refuses it with the reason
    # (retired, unknown) exactly as the API does.
    kind = forms.CharField(label=_("Contract or competency"), max_length=40, widget=forms.Select)
    reference = forms.CharField(
        label=_("Contract or competency reference"), max_length=100, required=False,
        help_text=_("The contract number or competency ID, for your records and Microsoft's."),
    )  # fmt: skip
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, help_text=_("The last day it counts. Empty: open-ended.")
    )
    incidents_remaining = forms.IntegerField(
        label=_("Incidents remaining"), min_value=0, max_value=1000, required=False,
        help_text=_("Only for types that count incidents: how many remain. Empty: the type's default allowance."),
    )  # fmt: skip
    preference = forms.IntegerField(
        label=_("Order of preference"), min_value=1, max_value=1000, initial=100,
        help_text=_("Technical tickets go to the valid entitlement with the lowest number first."),
    )  # fmt: skip

    def __init__(self, *args: Any, current_kind: str | None = None, **kwargs: Any) -> None:
        """Offers the catalogue's types that can be chosen today, and the entitlement's own (even retired)."""
        super().__init__(*args, **kwargs)
        today = clock.today()
        self.fields["kind"].widget.choices = [
            (t.code, t.display_name)
            for t in EntitlementType.objects.select_related("tier").order_by("rank", "code")
            if (t.can_be_chosen_on(today) and not t.tier.retired) or t.code == current_kind
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end of validity cannot be before its start."))
        return data

    def entitlement_input(self) -> EntitlementInput:
        d = self.cleaned_data
        return EntitlementInput(
            kind=d["kind"], valid_from=d["valid_from"], valid_until=d.get("valid_until"),
            reference=d.get("reference", ""), preference=d["preference"], incidents=d.get("incidents_remaining"),
        )  # fmt: skip


class EntitlementEndForm(forms.Form):
    last_day = forms.DateField(
        label=_("Last day it counts"), widget=DATE,
        help_text=_("From the next day, technical tickets are no longer routed to it."),
    )  # fmt: skip


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why Microsoft is needed"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you tried and what you need from Microsoft. It goes into the case summary."),
    )  # fmt: skip


class EscalationUpdateForm(forms.Form):
    microsoft_case_number = forms.CharField(
        label=_("Microsoft case number"), max_length=40, required=False,
        help_text=_("The number Microsoft gave the case when you filed it."),
    )  # fmt: skip
    status = forms.ChoiceField(label=_("Status"), choices=Escalation.Status.choices)


class EscalationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), ("open", _("Open (not resolved or closed)")), *Escalation.Status.choices],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("-created", _("Newest first")), ("created", _("Oldest first")), ("-updated", _("Last updated"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tiers = [(t.code, t.display_name) for t in SupportTier.objects.order_by("rank", "code")]
        self.fields["tier"].choices = [("", _("All tiers")), *tiers]  # type: ignore[attr-defined]

    def filters(self) -> EscalationFilters:
        d = self.cleaned_data
        return EscalationFilters(search=d.get("q", ""), tier=d.get("tier", ""), status=d.get("status", ""))
