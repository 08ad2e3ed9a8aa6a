"""Forms of the support mailbox page and the quarantine. They validate input only; the services hold the
rules and do the writing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partner_portal import selectors as core_selectors
from partner_portal.access import STAFF_MANAGERS
from partner_portal.lookup import CustomerField
from partner_portal.tenancy import Scope
from tickets.mailbox.models import SECURITY_CHOICES, SupportMailbox
from tickets.mailbox.services import MailboxInput

# A host name (RFC 1123 labels) or an IPv4/IPv6 address; no scheme, path or port.
_HOST = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+$")


class MailboxForm(forms.Form):
    address = forms.EmailField(
        label=_("Support address"), max_length=254,
        help_text=_("Customers write here; ticket emails ask for replies to it (Reply-To)."),
    )  # fmt: skip
    host = forms.CharField(label=_("IMAP server"), max_length=255, help_text=_("For example imap.example.com."))
    port = forms.IntegerField(
        label=_("Port"), initial=993, min_value=1, max_value=65535,
        help_text=_("993 for TLS from the start, 143 for STARTTLS."),
    )  # fmt: skip
    security = forms.ChoiceField(
        label=_("TLS"), choices=SECURITY_CHOICES, initial="tls",
        help_text=_("The server's certificate is always verified; plain IMAP is never used."),
    )  # fmt: skip
    username = forms.CharField(label=_("User name"), max_length=255)
    password = forms.CharField(
        label=_("Password"), required=False, max_length=500, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the current one."),
    )  # fmt: skip
    folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")
    active = forms.BooleanField(label=_("Read this mailbox every two minutes"), required=False, initial=True)

    def __init__(self, *args: Any, mailbox: SupportMailbox | None = None, **kwargs: Any) -> None:
        if mailbox is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(mailbox, name) for name in
                                 ("address", "host", "port", "security", "username", "folder", "active")}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        if mailbox is None:
            self.fields["password"].help_text = _("Stored encrypted and never shown again.")

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        if not (_HOST.match(host) or (":" in host and _IPV6.match(host))):
            raise forms.ValidationError(_("Enter the server's name only, such as imap.example.com (no “imaps://”, "
                                          "path or port)."))  # fmt: skip
        return host

    def clean_folder(self) -> str:
        folder = self.cleaned_data["folder"].strip()
        if any(ord(c) < 32 for c in folder):
            raise forms.ValidationError(_("A folder name cannot contain line breaks or control characters."))
        return folder

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.mailbox is None and not data.get("password") and "password" not in self.errors:
            self.add_error("password", _("Enter the mailbox's password."))
        return data

    def mailbox_input(self) -> MailboxInput:
        d = self.cleaned_data
        return MailboxInput(
            address=d["address"], host=d["host"], port=d["port"], username=d["username"].strip(),
            password=d.get("password") or "", folder=d["folder"], active=d["active"], security=d["security"],
        )  # fmt: skip

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for field, errors in fields.items():
            for error in errors:
                self.add_error(field if field in self.fields else None, error)


class QuarantineFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[("-received", _("Newest first")), ("received", _("Oldest first"))]
    )


class QuarantineAcceptForm(forms.Form):
    customer = CustomerField(label=_("Customer"), help_text=_("The ticket is opened for this customer."))
    invite_sender = forms.BooleanField(
        label=_("Also invite the sender as a user of this customer"), required=False,
        help_text=_("Their next emails then open tickets by themselves. Only for people you know."),
    )  # fmt: skip

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not scope.has_role(STAFF_MANAGERS):
            del self.fields["invite_sender"]  # only partner admins invite customer users
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]
