from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.peppol.models import EInvoiceSubmission
from billing.peppol.selectors import SubmissionFilters
from partner_portal.einvoice_fields import PEPPOL_SCHEME_CHOICES


class AccessPointForm(forms.Form):
    api_key = forms.CharField(
        label=_("Storecove API key"), required=False, max_length=500, strip=True,
        help_text=_("Storecove → API keys. Stored encrypted and never shown again; leave empty to keep the "
                    "current one."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )  # fmt: skip


class ReceiverCheckForm(forms.Form):
    scheme = forms.ChoiceField(label=_("Peppol scheme"), choices=PEPPOL_SCHEME_CHOICES)
    identifier = forms.CharField(label=_("Peppol identifier"), max_length=100)


class SubmissionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *EInvoiceSubmission.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Document"),
        required=False,
        choices=[("", _("Invoices and credit notes")), *EInvoiceSubmission.Kind.choices],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False,
        choices=[("-created", _("Newest first")), ("created", _("Oldest first")), ("number", _("Number")),
                 ("-updated", _("Recently changed"))],
    )  # fmt: skip

    def filters(self) -> SubmissionFilters:
        d = self.cleaned_data
        return SubmissionFilters(
            search=(d.get("q") or "").strip()[:100], status=d.get("status") or "", kind=d.get("kind") or ""
        )
