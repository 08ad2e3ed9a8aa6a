from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.payments_online.models import PaymentProviderAccount


def _secret_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=500, strip=True, help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )  # fmt: skip


class ProviderAccountForm(forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=PaymentProviderAccount.Provider.choices)
    secret_key = _secret_field(
        _("Secret key"),
        _("Stripe Dashboard → Developers → API keys (sk_live_… or a restricted rk_ key). Stored encrypted and "
          "never shown again; leave empty to keep the current one."),
    )  # fmt: skip
    webhook_secret = _secret_field(
        _("Webhook signing secret"),
        _("The whsec_… secret of the webhook endpoint below. Stored encrypted and never shown again; leave "
          "empty to keep the current one."),
    )  # fmt: skip

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not settings.PAYMENTS_DEMO_PROVIDER:
            self.fields["provider"].choices = [  # type: ignore[attr-defined]
                (PaymentProviderAccount.Provider.STRIPE.value, PaymentProviderAccount.Provider.STRIPE.label)
            ]
