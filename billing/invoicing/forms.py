from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from billing.invoicing import selectors, services
from billing.invoicing.errors import BillingError
from billing.invoicing.models import AGING_LABELS, CreditNote, Invoice, InvoiceLine, Payment, PaymentAllocation, Refund
from billing.invoicing.vat import UnitCode, VatCategory, VatExemptionCode, vat_line_problems
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.lookup import CustomerField
from partner_portal.models import Customer
from partner_portal.money import CURRENCY_CHOICES
from partner_portal.tenancy import Scope
from subscriptions import selectors as subscription_selectors
from subscriptions.models import Subscription

PERIOD = re.compile(selectors.PERIOD_PATTERN)


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), (selectors.OPEN, _("Open: issued or partly paid")), *Invoice.Status.choices],
    )
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("All currencies")), *CURRENCY_CHOICES]
    )
    age = forms.ChoiceField(label=_("Days past due"), required=False, choices=[("", _("Any")), *AGING_LABELS.items()])
    period = forms.CharField(label=_("Period"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-balance", _("Largest balance")),
            ("balance", _("Smallest balance")),
            ("-total", _("Largest total")),
            ("total", _("Smallest total")),
        ],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = core_selectors.customer_list(scope=scope).only("pk", "name")  # type: ignore[attr-defined]

    def clean_period(self) -> str:
        period: str = self.cleaned_data.get("period", "")
        if period and not PERIOD.match(period):
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return period

    def filters(self) -> selectors.InvoiceFilters:
        data = self.cleaned_data
        return selectors.InvoiceFilters(
            search=data.get("q", ""),
            status=data.get("status", ""),
            customer_id=data["customer"].pk if data.get("customer") else None,
            period=data.get("period", ""),
            overdue=bool(data.get("overdue")),
            currency=data.get("currency", ""),
            age=data.get("age", ""),
        )


class InvoiceExportForm(InvoiceFilterForm):
    """The invoice filters of a bulk PDF export, whether drafts go in too (they do not unless asked) and
    whether each issued invoice's UBL XML goes beside its PDF."""

    include_drafts = forms.BooleanField(label=_("Include drafts"), required=False)
    include_xml = forms.BooleanField(label=_("Include e-invoice XML"), required=False)


class PaymentFilterForm(forms.Form):
    customer = CustomerField(label=_("Customer"), required=False, placeholder=_("All customers"))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = _scoped_customers(scope)  # type: ignore[attr-defined]

    def customer_id(self) -> int | None:
        """The chosen customer's id, or None for all (and for a choice that is not valid)."""
        if not self.is_valid() or not self.cleaned_data.get("customer"):
            return None
        return int(self.cleaned_data["customer"].pk)


# ISO format whatever the language: a date input accepts nothing else.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _scoped_customers(scope: Scope) -> Any:
    return core_selectors.customer_list(scope=scope).only("pk", "name", "currency").order_by("name", "pk")


class InvoiceDraftForm(forms.Form):
    """The head of a draft: the customer (when creating), the dates when not those issuing sets, the
    exchange rate for the tax in the partner's currency, and the notes printed on the invoice."""

    customer = CustomerField(
        label=_("Customer"),
        placeholder=_("Choose a customer"),
        help_text=_("The invoice is in the customer's currency and due after its credit terms."),
    )
    notes = forms.CharField(
        label=_("Notes to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the invoice, e.g. a purchase order number."),
    )
    # Blank: issuing dates the invoice today and makes it due after the customer's credit days.
    issue_date = forms.DateField(
        label=_("Issue date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave blank to date the invoice on the day it is issued."),
    )
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave blank for the customer's credit terms, counted from the issue date."),
    )

    tax_currency_rate = forms.DecimalField(
        required=False,
        max_digits=18,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, scope: Scope, with_customer: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounting = scope.partner.default_currency
        rate = self.fields["tax_currency_rate"]
        rate.label = _("Exchange rate to %(currency)s for the tax") % {"currency": accounting}
        rate.help_text = _(
            "Only for an invoice in another currency: %(currency)s per unit of the invoice's currency. The "
            "invoice then states its tax in %(currency)s too, as VAT law and e-invoices ask."
        ) % {"currency": accounting}
        if with_customer:
            self.fields["customer"].queryset = _scoped_customers(scope)  # type: ignore[attr-defined]
        else:
            del self.fields["customer"]  # a draft keeps its customer; only lines, dates and notes change

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issue, due = data.get("issue_date"), data.get("due_date")
        if issue and due and due < issue:  # the service's rule (which also bounds the issue date), on the field
            self.add_error("due_date", _("The due date cannot be before the issue date."))
        return data


class SubscriptionSelect(forms.Select):
    """The subscription picker: each option carries what choosing it fills in on its line."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        subscription = getattr(value, "instance", None)
        if subscription is not None:
            option["attrs"].update(
                {
                    "data-description": subscription.product,
                    "data-quantity": str(subscription.quantity),
                    "data-unit-price": str(_plain(subscription.unit_price)),
                    "data-tax-rate": str(_plain(subscription.tax_rate)),
                }
            )
        return option


class SubscriptionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product} · {obj.quantity} × {_plain(obj.unit_price)}"


_LINE_CHOICES = frozenset({"unit_code", "vat_category", "vat_exemption_reason", "vat_exemption_code"})
# What a line takes from its subscription when left blank.
_FROM_SUBSCRIPTION = {"description": "product", "quantity": "quantity", "unit_price": "unit_price"}


class InvoiceLineForm(forms.Form):
    # The saved line a row came from, so that what the page does not show (a subscription line's
    # subscription and period) survives an edit. Only ids of the draft's own lines are honoured.
    line_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # One of the invoice's customer's subscriptions (the queryset is given per page); the line keeps
    # the link, and what is left blank of description, quantity and price is taken from it.
    subscription = SubscriptionChoiceField(
        label=_("Subscription"),
        queryset=Subscription.objects.none(),
        required=False,
        empty_label=_("No subscription"),
        widget=SubscriptionSelect(attrs={"data-line-subscription": ""}),
    )
    # Required unless a subscription fills them (checked in clean()).
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=4, min_value=Decimal(0), required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )  # fmt: skip
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=14, decimal_places=4, required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )  # fmt: skip
    # Optional, so that a row left empty stays empty (an untouched row is ignored); blank means 0 %.
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "placeholder": "0"}),
    )

    unit_code = forms.ChoiceField(label=_("Unit"), choices=UnitCode.choices, initial=UnitCode.ONE, required=False)
    # Blank: decided from the countries, the customer's VAT number and the rate when saved.
    vat_category = forms.ChoiceField(
        label=_("VAT category"), choices=[("", _("Automatic")), *VatCategory.choices], required=False
    )
    vat_exemption_reason = forms.CharField(label=_("VAT exemption reason"), max_length=300, required=False)
    vat_exemption_code = forms.ChoiceField(
        label=_("VATEX code"), choices=[("", "—"), *VatExemptionCode.choices], required=False
    )

    def __init__(self, *args: Any, subscriptions: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if subscriptions is not None:
            self.fields["subscription"].queryset = subscriptions  # type: ignore[attr-defined]

    def clean_tax_rate(self) -> Decimal:
        rate: Decimal | None = self.cleaned_data.get("tax_rate")
        return rate if rate is not None else Decimal("0.00")

    def has_changed(self) -> bool:
        """An extra row is empty until something but its unit and VAT choices is typed (a select always
        posts a value, so it cannot tell a row someone filled in)."""
        return any(name not in _LINE_CHOICES for name in self.changed_data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        subscription = data.get("subscription")
        for name, source in _FROM_SUBSCRIPTION.items():
            if name in self.errors or data.get(name) not in (None, ""):
                continue
            if subscription is not None:
                value = getattr(subscription, source)
                data[name] = value if name == "description" else Decimal(value)
            else:
                self.add_error(name, self.fields[name].error_messages["required"])
        if data.get("vat_category") and "tax_rate" in data:  # the service's rule, shown on the field
            problems = vat_line_problems(
                category=data["vat_category"],
                rate=data["tax_rate"],
                exemption_reason=data.get("vat_exemption_reason", ""),
                exemption_code=data.get("vat_exemption_code", ""),
            )
            for name, message in problems.items():
                self.add_error(name, message)
        return data

    def line(self, saved: dict[int, InvoiceLine] | None = None) -> services.LineInput:
        """The row as a line. A saved line keeps its kind and period while its subscription stays the
        same; a line newly linked to a subscription is a subscription line."""
        data = self.cleaned_data
        source = (saved or {}).get(data.get("line_id") or 0)
        subscription = data.get("subscription")
        kind = InvoiceLine.Kind.SUBSCRIPTION if subscription else InvoiceLine.Kind.MANUAL
        if source is not None and source.subscription_id != (subscription.pk if subscription else None):
            source = None  # linked to another subscription, or to none: a line of its own now
        return services.LineInput(
            description=data["description"].strip(),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            tax_rate=data["tax_rate"],
            vat_category=data.get("vat_category") or None,
            vat_exemption_reason=data.get("vat_exemption_reason", ""),
            vat_exemption_code=data.get("vat_exemption_code", ""),
            unit_code=data.get("unit_code") or UnitCode.ONE,
            kind=source.kind if source else kind,
            subscription=subscription,
            period_start=source.period_start if source else None,
            period_end=source.period_end if source else None,
        )


class BaseInvoiceLineFormSet(forms.BaseFormSet):
    """The lines of a draft. Blank extra rows are ignored; ticked "Remove" rows are dropped."""

    default_error_messages = {
        "too_few_forms": _("An invoice needs at least one line."),
    }


def formset_lines(formset: forms.BaseFormSet[Any], saved: list[InvoiceLine] | None = None) -> list[services.LineInput]:
    """The lines an editor's valid formset asks to save, in the order shown. An untouched empty row
    has no cleaned data; a row ticked "Remove" is left out. `saved` are the draft's current lines."""
    by_id = {line.pk: line for line in saved or []}
    return [form.line(by_id) for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


InvoiceLineFormSet = forms.formset_factory(
    InvoiceLineForm, formset=BaseInvoiceLineFormSet, extra=2, min_num=1, validate_min=True, can_delete=True
)


def customer_subscriptions(*, scope: Scope, customer: Customer | None) -> Any:
    """The subscriptions a draft's lines may be billed for: its customer's, within the scope; none
    while the customer is not known."""
    if customer is None:
        return Subscription.objects.none()
    return subscription_selectors.subscription_list(scope=scope, customer_id=customer.pk)


def line_initial(lines: list[InvoiceLine]) -> list[dict[str, Any]]:
    """A draft's saved lines as the formset's initial rows (numbers without trailing zeros)."""
    return [
        {
            "line_id": line.pk,
            "subscription": line.subscription_id,
            "description": line.description,
            "quantity": _plain(line.quantity),
            "unit_price": _plain(line.unit_price),
            "tax_rate": _plain(line.tax_rate),
            "unit_code": line.unit_code,
            "vat_category": line.vat_category,
            "vat_exemption_reason": line.vat_exemption_reason,
            "vat_exemption_code": line.vat_exemption_code,
        }
        for line in lines
    ]


def _plain(value: Decimal) -> Decimal:
    """10.0000 -> 10, 36.5000 -> 36.5: what someone would have typed."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


class PaymentCustomerForm(forms.Form):
    """First step of recording a payment when no customer is known yet."""

    customer = CustomerField(label=_("Customer"), placeholder=_("Choose a customer"))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = _scoped_customers(scope)  # type: ignore[attr-defined]


class PaymentForm(forms.Form):
    """A payment from one customer (fixed by the page) and where it goes."""

    OLDEST_FIRST = "oldest"
    ONE_INVOICE = "invoice"

    amount = forms.DecimalField(
        label=_("Amount received"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    received_on = forms.DateField(label=_("Received on"), widget=DATE_INPUT)
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("The bank's transaction reference or the remittance advice, to find the payment again."),
    )
    allocation = forms.ChoiceField(
        label=_("Apply the payment to"),
        choices=[
            (OLDEST_FIRST, _("Oldest open invoices first")),
            (ONE_INVOICE, _("One invoice only")),
        ],
        initial=OLDEST_FIRST,
        widget=forms.RadioSelect,
        help_text=_("Whatever is not applied to an invoice stays as credit for the customer's next invoice."),
    )
    invoice: forms.ModelChoiceField[Invoice] = forms.ModelChoiceField(
        label=_("Invoice"), queryset=Invoice.objects.none(), required=False, empty_label=_("Choose an open invoice")
    )
    invoice_amount = forms.DecimalField(
        label=_("Amount to apply"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"), required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_("Leave empty to apply the whole payment."),
    )  # fmt: skip

    def __init__(self, *args: Any, scope: Scope, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = scope.partner
        self.today = clock.today(scope.partner.time_zone)
        self.fields["invoice"].queryset = selectors.invoices_open(scope=scope, customer_id=customer.pk)  # type: ignore[attr-defined]
        self.fields["invoice"].label_from_instance = _open_invoice_label  # type: ignore[attr-defined]
        self.fields["received_on"].widget.attrs["max"] = self.today.isoformat()

    def clean_received_on(self) -> dt.date:
        received_on: dt.date = self.cleaned_data["received_on"]
        try:  # the service's rule, checked early so the message sits by the field
            services.payment_date_check(partner=self.partner, received_on=received_on)
        except BillingError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return received_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("allocation") == self.ONE_INVOICE and not data.get("invoice") and "invoice" not in self.errors:
            self.add_error("invoice", _("Choose the invoice to apply the payment to."))
        return data

    def allocations(self) -> list[services.AllocationInput] | None:
        """What payment_record should allocate: None means oldest open invoices first."""
        data = self.cleaned_data
        if data["allocation"] != self.ONE_INVOICE:
            return None
        return [services.AllocationInput(invoice=data["invoice"], amount=data["invoice_amount"] or data["amount"])]


def _open_invoice_label(invoice: Invoice) -> str:
    return _("%(number)s · due %(due)s · balance %(balance)s %(currency)s") % {
        "number": invoice.number,
        "due": formats.date_format(invoice.due_date, "SHORT_DATE_FORMAT") if invoice.due_date else "—",
        "balance": invoice.balance,
        "currency": invoice.currency,
    }


class CreditNoteForm(forms.Form):
    """An amount (split across the invoice's VAT bands), or quantities of the invoice's lines."""

    amount = forms.DecimalField(
        label=_("Amount to credit"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"), required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    reason = forms.CharField(
        label=_("Reason"),
        max_length=CreditNote._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the credit note, e.g. “Two licences returned within 7 days”."),
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        amount = self.fields["amount"]
        amount.max_value = invoice.balance  # type: ignore[attr-defined]
        amount.validators.append(MaxValueValidator(invoice.balance))
        amount.widget.attrs["max"] = str(invoice.balance)
        amount.widget.attrs["placeholder"] = str(invoice.balance)
        amount.help_text = _("At most the balance, %(balance)s %(currency)s.") % {
            "balance": invoice.balance,
            "currency": invoice.currency,
        }
        self.line_fields: list[tuple[InvoiceLine, str]] = []
        credited = services.lines_credited(invoice)
        for line in invoice.lines.all():
            name = f"line_{line.pk}"
            done = credited.get(line.pk, services.LineCredited()).quantity
            left = line.quantity - done
            if done:
                help_text = _("Quantity to credit, at most %(quantity)s (%(credited)s credited already).") % {
                    "quantity": _plain(left), "credited": _plain(done),
                }  # fmt: skip
            else:
                help_text = _("Quantity to credit, at most %(quantity)s.") % {"quantity": _plain(left)}
            self.fields[name] = forms.DecimalField(
                label=line.description, required=False, max_digits=14, decimal_places=4,
                min_value=Decimal("0.0001"), max_value=left, help_text=help_text, disabled=left <= 0,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )  # fmt: skip
            self.line_fields.append((line, name))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = self.credit_lines()
        if chosen and data.get("amount") is not None:
            self.add_error("amount", _("Give an amount or quantities of lines, not both."))
        elif not chosen and data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Give an amount, or quantities of the lines to credit."))
        return data

    def credit_lines(self) -> list[services.CreditLineInput] | None:
        data = getattr(self, "cleaned_data", {})
        chosen = [
            services.CreditLineInput(line_id=line.pk, quantity=data[name])
            for line, name in self.line_fields
            if data.get(name) is not None
        ]
        return chosen or None


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=Invoice._meta.get_field("void_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the invoice and shown in its history, e.g. “Issued twice for the same month”."),
    )


class PaymentVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=Payment._meta.get_field("void_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the payment and shown in its history, e.g. “Transfer returned by the bank”."),
    )


class RefundForm(forms.Form):
    """A refund of a payment: the amount, date, reference and reason, and for each invoice the payment
    pays, how much of the refund comes off it (`from_<allocation id>`); the rest is the payment's credit."""

    amount = forms.DecimalField(
        label=_("Amount to refund"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    refunded_on = forms.DateField(label=_("Refunded on"), widget=DATE_INPUT)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=Refund._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the payment and shown in its history, e.g. “Paid twice by mistake”."),
    )
    credit_invoices = forms.BooleanField(
        label=_("Credit the invoices too"),
        required=False,
        help_text=_(
            "Issue a credit note for what comes off each invoice, so the customer does not owe it again "
            "(a disputed invoice). Unticked, the invoices are open again for that part."
        ),
    )

    def __init__(self, *args: Any, allocations: list[PaymentAllocation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allocations = allocations
        for allocation in allocations:
            self.fields[f"from_{allocation.pk}"] = forms.DecimalField(
                label=_("From %(number)s (paid %(amount)s)")
                % {"number": allocation.invoice.number, "amount": allocation.amount},
                max_digits=16, decimal_places=2, min_value=Decimal("0.01"), max_value=allocation.amount,
                required=False, widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )  # fmt: skip

    def source_fields(self) -> list[forms.BoundField]:
        return [self[f"from_{a.pk}"] for a in self.allocations]

    def sources(self) -> list[tuple[PaymentAllocation, Decimal]]:
        return [
            (a, self.cleaned_data[f"from_{a.pk}"]) for a in self.allocations if self.cleaned_data.get(f"from_{a.pk}")
        ]


# ---- Finance: Microsoft payables, reconciliation files, usage billing ------------------------------

MONTH_INPUT = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"})


def clean_period(value: str) -> str:
    value = (value or "").strip()
    if value and not PERIOD.match(value):
        raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-11."))
    return value
