"""Support mailboxes and the quarantine in the Django admin, where the site operator connects a partner's
mailbox. Saving goes through `support_mailbox_save` (the password encrypted, never shown back, audited);
accepting or dropping a quarantined email goes through the quarantine's services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner_portal.models import Customer
from tickets.errors import TicketError
from tickets.mailbox.models import InboundEmail, SupportMailbox
from tickets.mailbox.services import MailboxInput, inbound_email_accept, inbound_email_drop, support_mailbox_save


class SupportMailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=gettext_lazy("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("Stored encrypted and never shown. Leave empty to keep the stored password."),
    )

    class Meta:
        model = SupportMailbox
        fields = ("partner", "address", "host", "port", "security", "username", "folder", "active")

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("Enter a port between 1 and 65535."))
        return int(port)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not data.get("password"):
            self.add_error("password", _("Enter the mailbox's password."))
        elif not data.get("password") and "host" in data and "username" in data:
            stored = SupportMailbox.objects.get(pk=self.instance.pk)
            if (stored.host.lower(), stored.username) != (data["host"].strip().lower(), data["username"].strip()):
                self.add_error("password", _("Enter the password again when you change the server or the user name."))
        return data


@admin.register(SupportMailbox)
class SupportMailboxAdmin(admin.ModelAdmin):
    form = SupportMailboxForm
    list_display = ("address", "partner", "host", "active", "last_success_at", "failures", "last_error")
    list_filter = ("active",)
    list_select_related = ("partner",)
    readonly_fields = ("last_checked_at", "last_success_at", "last_error", "failures", "updated_at", "updated_by")
    fieldsets = (
        (
            None,
            {"fields": ("partner", "address", "host", "port", "security", "username", "password", "folder", "active")},
        ),
        (gettext_lazy("Reading"), {"fields": readonly_fields}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # One mailbox per partner: the partner is chosen when it is connected, and stays.
        return (*self.readonly_fields, "partner") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a mailbox is switched off ("read this mailbox"), keeping what was read from it

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = support_mailbox_save(
            partner=obj.partner, actor=request.user,  # type: ignore[arg-type]
            data=MailboxInput(address=data["address"], host=data["host"], port=data["port"],
                              username=data["username"], password=data.get("password") or "",
                              folder=data["folder"], active=data["active"], security=data["security"]),
        )  # fmt: skip
        obj.pk = saved.pk


class QuarantineActionForm(ActionForm):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.select_related("partner").order_by("partner__name", "name"),
        required=False,
        label=gettext_lazy("Customer for the ticket"),
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Emails read from the support mailboxes; the quarantine is the "Quarantined" status."""

    action_form = QuarantineActionForm
    actions = ("accept", "drop")
    list_display = ("created_at", "partner", "status", "from_address", "subject", "reason", "ticket")
    list_filter = ("status", "partner")
    list_select_related = ("partner", "ticket")
    search_fields = ("from_address", "subject")
    fields = readonly_fields = (
        "partner", "mailbox", "status", "reason", "from_name", "from_address", "subject", "sent_at", "created_at",
        "body", "refused_files", "ticket", "customer", "decided_at", "decided_by", "message_id",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Accept: open a ticket for the chosen customer"))
    def accept(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        customer_id = request.POST.get("customer")
        customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
        if customer is None:
            self.message_user(request, _("Choose the customer the ticket is for."), messages.ERROR)
            return
        for email in queryset:
            try:
                ticket = inbound_email_accept(email=email, customer=customer, actor=request.user)  # type: ignore[arg-type]
            except TicketError as exc:
                self.message_user(request, f"{email}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("Ticket %(number)s opened.") % {"number": ticket})

    @admin.action(description=gettext_lazy("Drop: open nothing and answer nobody"))
    def drop(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        for email in queryset:
            try:
                inbound_email_drop(email=email, actor=request.user)  # type: ignore[arg-type]
            except TicketError as exc:
                self.message_user(request, f"{email}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("Email from %(sender)s dropped.") % {"sender": email.from_address})
