"""Forms of the ticket pages. They validate input only; the services hold the rules and do the writing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import Invoice
from partner_portal import selectors as core_selectors
from partner_portal.lookup import CustomerField
from partner_portal.models import User
from partner_portal.money import CURRENCY_CHOICES
from partner_portal.tenancy import Scope
from tickets import selectors
from tickets.models import WEEKDAYS, SupportOffering, Ticket
from tickets.plan_forms import TargetGridMixin
from tickets.services import HolidayInput, OfferingInput
from tickets.services.attachments import ALLOWED_TYPES, MAX_FILES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (size, type, content)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(sorted(ALLOWED_TYPES)), "multiple": True})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(count)d files at once."), params={"count": MAX_FILES})
        return files


ATTACHMENT_HELP = _("Up to 5 files of at most 10 MB: PDF, images, text, logs, CSV, Word, Excel or ZIP.")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name())


class TicketFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    view = forms.ChoiceField(
        label=_("Queue"),
        required=False,
        choices=[
            ("", _("All tickets")),
            ("active", _("Active")),
            ("mine", _("My tickets")),
            ("unassigned", _("Unassigned")),
            ("breaching", _("Breaching soon")),
            ("breached", _("Breached")),
            ("escalated", _("Escalated")),
        ],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Ticket.Status.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Ticket.Category.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All severities")), *Ticket.Severity.choices]
    )
    assignee = UserChoiceField(
        label=_("Assignee"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-updated", _("Recently updated")),
            ("severity", _("Most severe first")),
            ("-number", _("Highest number")),
        ],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=selectors.ticket_assignees(scope=scope).values("user_id")
        ).order_by("full_name", "email")

    def filters(self) -> selectors.TicketFilters:
        data = self.cleaned_data
        return selectors.TicketFilters(
            search=data.get("q", ""),
            view=data.get("view", ""),
            status=data.get("status", ""),
            category=data.get("category", ""),
            severity=data.get("severity", ""),
            assignee_id=data["assignee"].pk if data.get("assignee") else None,
            customer_id=data["customer"].pk if data.get("customer") else None,
        )


class _TicketFields(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, since when, who is affected, and any error message."),
    )  # fmt: skip
    category = forms.ChoiceField(
        label=_("Category"), choices=Ticket.Category.choices, initial=Ticket.Category.TECHNICAL
    )
    product_family = forms.ChoiceField(
        label=_("Product"), choices=Ticket.ProductFamily.choices, initial=Ticket.ProductFamily.MICROSOFT_365
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Ticket.Severity.choices, initial=Ticket.Severity.C,
        help_text=_("A: a critical business function is down. B: significant impact. C: minor impact or a question."),
    )  # fmt: skip
    invoices = forms.ModelMultipleChoiceField(
        label=_("Invoices this is about"), required=False, queryset=Invoice.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 4}), help_text=_("For billing questions."),
    )  # fmt: skip
    attachments = MultipleFileField(label=_("Attachments"), help_text=ATTACHMENT_HELP)


class CustomerTicketForm(_TicketFields):
    """A customer opens a ticket for its own customer; invoices are its own issued ones. `flow` is the
    form's key for the knowledge base suggestions (tickets.knowledge.services)."""

    flow = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert scope.customer is not None  # noqa: S101 - customer pages only
        self.fields["invoices"].queryset = selectors.ticket_invoice_choices(  # type: ignore[attr-defined]
            scope=scope, customer_id=scope.customer.pk
        )


class StaffTicketForm(_TicketFields):
    """Staff open a ticket on a customer's behalf."""

    field_order = ["customer", "subject", "description", "category", "product_family", "severity", "assignee"]
    customer = CustomerField(
        label=_("Customer"),
    )
    assignee = UserChoiceField(
        label=_("Assignee"), required=False, queryset=User.objects.none(), empty_label=_("Unassigned")
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=selectors.ticket_assignees(scope=scope).values("user_id")
        ).order_by("full_name", "email")
        customer_id = self.data.get("customer") or self.initial.get("customer")
        qs: QuerySet[Invoice] = Invoice.objects.none()
        if customer_id and str(customer_id).isdigit():
            qs = selectors.ticket_invoice_choices(scope=scope, customer_id=int(customer_id))
        self.fields["invoices"].queryset = qs  # type: ignore[attr-defined]
        self.fields["invoices"].help_text = _("For billing questions: the customer's issued invoices.")


class TicketEditForm(forms.Form):
    """What staff change on a ticket's page: classification, assignee, linked invoices."""

    category = forms.ChoiceField(label=_("Category"), choices=Ticket.Category.choices)
    product_family = forms.ChoiceField(label=_("Product"), choices=Ticket.ProductFamily.choices)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Ticket.Severity.choices,
        help_text=_("Changing it recomputes the due times from when the ticket was opened."),
    )  # fmt: skip
    assignee = UserChoiceField(
        label=_("Assignee"), required=False, queryset=User.objects.none(), empty_label=_("Unassigned")
    )
    invoices = forms.ModelMultipleChoiceField(
        label=_("Invoices"),
        required=False,
        queryset=Invoice.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args: Any, scope: Scope, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "category": ticket.category, "product_family": ticket.product_family, "severity": ticket.severity,
                "assignee": ticket.assignee_id, "invoices": [i.pk for i in ticket.invoices.all()],
            },
        )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=selectors.ticket_assignees(scope=scope).values("user_id")
        ).order_by("full_name", "email")
        self.fields["invoices"].queryset = selectors.ticket_invoice_choices(  # type: ignore[attr-defined]
            scope=scope, customer_id=ticket.customer_id
        )


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    internal = forms.BooleanField(
        label=_("Internal note (only your team sees it)"), required=False,
    )  # fmt: skip
    attachments = MultipleFileField(label=_("Attachments"), help_text=ATTACHMENT_HELP)
    # The canned reply the text started from (set by the picker), so sending counts a use of it.
    canned_reply = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]
            del self.fields["canned_reply"]


SCORE_LABELS = (
    (1, _("1 · Very poor")),
    (2, _("2 · Poor")),
    (3, _("3 · Fair")),
    (4, _("4 · Good")),
    (5, _("5 · Excellent")),
)


class RatingForm(forms.Form):
    """The customer's rating of a resolved ticket: a score 1 to 5 and an optional comment."""

    score = forms.TypedChoiceField(
        label=_("How did we do?"), choices=SCORE_LABELS, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )  # fmt: skip
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A score of 1 or 2 reopens the request, with your comment, so we can put it right."),
    )  # fmt: skip


MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SATISFACTION_MAX_MONTHS = 36


def _month(value: str) -> dt.date | None:
    match = MONTH_RE.match((value or "").strip())
    return dt.date(int(match.group(1)), int(match.group(2)), 1) if match else None


class SatisfactionFilterForm(forms.Form):
    """The satisfaction report's months, first to last (YYYY-MM); blank: the last 12 months."""

    first = forms.CharField(
        label=_("From month"), required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
    )  # fmt: skip
    last = forms.CharField(
        label=_("To month"), required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
    )  # fmt: skip

    def __init__(self, *args: Any, default: tuple[dt.date, dt.date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default
        self.fields["first"].initial = default[0].strftime("%Y-%m")
        self.fields["last"].initial = default[1].strftime("%Y-%m")

    def _clean_month(self, name: str) -> dt.date | None:
        value = self.cleaned_data.get(name, "")
        if not value:
            return None
        month = _month(value)
        if month is None:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-11."))
        return month

    def clean_first(self) -> dt.date | None:
        return self._clean_month("first")

    def clean_last(self) -> dt.date | None:
        return self._clean_month("last")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first") or self.default[0], data.get("last") or self.default[1]
        if not self.errors:
            if first > last:
                raise forms.ValidationError(_("The first month must not be after the last."))
            if (last.year - first.year) * 12 + last.month - first.month >= SATISFACTION_MAX_MONTHS:
                raise forms.ValidationError(_("Choose at most 36 months."))
        data["first"], data["last"] = first, last
        return data

    def months(self) -> tuple[dt.date, dt.date]:
        """The months asked for, or the default when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["first"], self.cleaned_data["last"]
        return self.default


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)
    note = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, allowed: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed is not None:
            # No status is preselected: the select offers only moves away from the current one.
            self.fields["status"].choices = [  # type: ignore[attr-defined]
                ("", _("Choose the new status")),
                *((value, label) for value, label in Ticket.Status.choices if value in allowed),
            ]


class TimeEntryForm(forms.Form):
    """Time on a ticket; its ids (time_note...) differ from the status form's on the same page."""

    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=1440)
    billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)
    worked_on = forms.DateField(label=_("Worked on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "time_%s")
        super().__init__(*args, **kwargs)


class BulkAssignForm(forms.Form):
    tickets = forms.ModelMultipleChoiceField(queryset=Ticket.objects.none())
    assignee = UserChoiceField(
        label=_("Assign to"), required=False, queryset=User.objects.none(), empty_label=_("Nobody (unassign)")
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "bulk_%s")  # beside the queue's filter form, which has an assignee too
        super().__init__(*args, **kwargs)
        self.fields["tickets"].queryset = Ticket.objects.for_scope(scope).only("pk")  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=selectors.ticket_assignees(scope=scope).values("user_id")
        ).order_by("full_name", "email")


_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
_HOLIDAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s+(.+?)\s*$")


def _hours_text(periods: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in periods)


class SupportOfferingForm(TargetGridMixin):
    """The offering page: hours as "09:00-12:00, 13:00-18:00" per weekday, holidays one per line, and
    targets per product family over each severity's own."""

    grid_with_any = False  # the severity's targets for every family are the fields above

    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[])
    contact_portal = forms.BooleanField(label=_("Customers open tickets in the portal"), required=False)
    contact_email = forms.EmailField(label=_("Support email"), required=False)
    contact_phone = forms.CharField(label=_("Support phone"), required=False, max_length=40)
    contact_notes = forms.CharField(
        label=_("Notes for customers"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. an emergency number for severity A outside business hours."),
    )  # fmt: skip
    contact_notes_ru = forms.CharField(
        label=_("Notes for customers, in Russian"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to customers who read the portal in Russian; empty shows the notes above."),
    )  # fmt: skip
    price_model = forms.ChoiceField(label=_("Price model"), choices=SupportOffering.PriceModel.choices)
    price_amount = forms.DecimalField(
        label=_("Price"), required=False, max_digits=14, decimal_places=2, min_value=Decimal("0"),
        help_text=_("Per incident, per hour or per month, by the price model. Empty when support is included."),
    )  # fmt: skip
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    holidays = forms.CharField(
        label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: the date (YYYY-MM-DD) and a name, e.g. 2026-12-25 Christmas Day."),
    )  # fmt: skip

    def __init__(self, *args: Any, offering: SupportOffering, **kwargs: Any) -> None:
        initial = {
            "time_zone": offering.time_zone, "contact_portal": offering.contact_portal,
            "contact_email": offering.contact_email, "contact_phone": offering.contact_phone,
            "contact_notes": offering.contact_notes, "contact_notes_ru": offering.contact_notes_ru,
            "price_model": offering.price_model,
            "price_amount": offering.price_amount, "currency": offering.currency,
            "holidays": "\n".join(f"{h.date.isoformat()} {h.name}" for h in offering.holidays.order_by("date")),
        }  # fmt: skip
        for day in WEEKDAYS:
            initial[f"hours_{day}"] = _hours_text(offering.hours.get(day, []))
        for severity in ("a", "b", "c"):
            initial[f"first_response_minutes_{severity}"] = offering.first_response_minutes(severity)
            initial[f"resolution_minutes_{severity}"] = offering.resolution_minutes(severity)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]  # type: ignore[attr-defined]
        for index, day in enumerate(WEEKDAYS):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=WEEKDAY_NAMES[index], required=False,
                widget=forms.TextInput(attrs={"placeholder": _("closed")}),
            )  # fmt: skip
        for severity in ("A", "B", "C"):
            self.fields[f"first_response_minutes_{severity.lower()}"] = forms.IntegerField(
                label=_("Severity %(severity)s: first response (minutes)") % {"severity": severity}, min_value=1
            )
            self.fields[f"resolution_minutes_{severity.lower()}"] = forms.IntegerField(
                label=_("Severity %(severity)s: resolution (minutes)") % {"severity": severity}, min_value=1
            )
        self.add_target_fields(list(offering.sla_targets.all()) if offering.pk else [])

    @property
    def hour_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    @property
    def target_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (s, self[f"first_response_minutes_{s.lower()}"], self[f"resolution_minutes_{s.lower()}"])
            for s in ("A", "B", "C")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            text = (data.get(f"hours_{day}") or "").strip()
            periods = []
            if text and text.lower() not in ("closed", str(_("closed")).lower(), "-"):
                for part in text.split(","):
                    match = _PERIOD.match(part)
                    if not match:
                        self.add_error(f"hours_{day}", _("Write periods as 09:00-18:00, separated by commas."))
                        break
                    periods.append([t.zfill(5) for t in match.groups()])
            hours[day] = periods
        data["hours"] = hours
        holidays = []
        for line in (data.get("holidays") or "").splitlines():
            if not line.strip():
                continue
            match = _HOLIDAY.match(line)
            try:
                date = dt.date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                date = None
            if match is None or date is None:
                self.add_error("holidays", _("“%(line)s” is not a date and a name.") % {"line": line.strip()})
                continue
            holidays.append(HolidayInput(date=date, name=match.group(2)))
        data["holiday_inputs"] = holidays
        return data

    def offering_input(self) -> OfferingInput:
        d = self.cleaned_data
        return OfferingInput(
            time_zone=d["time_zone"], hours=d["hours"], contact_portal=d.get("contact_portal", False),
            contact_email=d.get("contact_email", ""), contact_phone=d.get("contact_phone", ""),
            contact_notes=d.get("contact_notes", ""), contact_notes_ru=d.get("contact_notes_ru", ""),
            price_model=d["price_model"],
            price_amount=d.get("price_amount"), currency=d["currency"],
            first_response_minutes_a=d["first_response_minutes_a"], first_response_minutes_b=d["first_response_minutes_b"],
            first_response_minutes_c=d["first_response_minutes_c"], resolution_minutes_a=d["resolution_minutes_a"],
            resolution_minutes_b=d["resolution_minutes_b"], resolution_minutes_c=d["resolution_minutes_c"],
            holidays=d["holiday_inputs"], sla_overrides=d["target_inputs"],
        )  # fmt: skip

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Show the service's per-field messages on the fields (hours above the form)."""
        for name, messages in errors.items():
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, message)
