"""Invoice and credit note pages for partner staff. Thin: a form validates, a service acts, a selector reads.

Every object comes from a selector given the request's scope, so another partner's invoice is a
404. Reading is open to every staff role; writing (drafts, issuing, voiding, payments, credit
notes, CSV exports) to partner admins and finance. The services hold the rules: a page only
decides which buttons to offer, and shows a refused rule's message as a form error.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from billing.invoicing import exports, selectors, services
from billing.invoicing.autopay_status import invoice_autopay_attempts
from billing.invoicing.einvoice_status import document_submission
from billing.invoicing.errors import (
    BillingError,
    InvoiceAmountTooLarge,
    InvoiceDatesInvalid,
    InvoiceLineSubscriptionInvalid,
    InvoiceLineVatInvalid,
    InvoiceTaxCurrencyInvalid,
    InvoiceTotalNegative,
    InvoiceVatCategoryMissing,
)
from billing.invoicing.forms import (
    CreditNoteForm,
    InvoiceDraftForm,
    InvoiceFilterForm,
    InvoiceLineFormSet,
    InvoiceVoidForm,
    customer_subscriptions,
    formset_lines,
    line_initial,
)
from billing.invoicing.models import Invoice
from billing.invoicing.vat import vat_bands
from billing.invoicing.views.exports import export_filter_fields
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.access import AUDIT_READERS, CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.csvexport import csv_response
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES
from partner_portal.money import CURRENCY_EXPONENTS
from partner_portal.pagination import query_without

PAGE_SIZE = 25
LINES_PREFIX = "lines"


class InvoiceCsvView(ScopedViewMixin, View):
    """The invoice list as CSV, with the same filters as the page."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        form = InvoiceFilterForm(request.GET or None, scope=self.scope)
        filters = form.filters() if form.is_valid() else selectors.InvoiceFilters()
        invoices = selectors.invoice_list(scope=self.scope, filters=filters)
        return csv_response(exports.invoices_csv(invoices), f"invoices-{clock.today(self.scope.partner.time_zone)}.csv")


# ---- Invoices: list and detail -------------------------------------------------------------------


class InvoiceListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/invoicing/invoice_list.html"
    filter_form_class = InvoiceFilterForm
    filter_form_scoped = True
    sorts = selectors.INVOICE_SORTS
    default_sort = "-created"
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of invoices")

    def get_filter_form(self) -> Any:
        # Amounts are compared within one currency: sorted by total or balance with no currency
        # chosen, the list keeps to the partner's default currency (shown in the filter, changeable).
        query: Any = self.request.GET
        if query.get("sort") in selectors.MONEY_SORTS and not query.get("currency"):
            query = query.copy()
            query["currency"] = self.scope.partner.default_currency
        return self.filter_form_class(query or None, scope=self.scope)

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.InvoiceFilters()
        return selectors.invoice_list(scope=self.scope, filters=filters), filters != selectors.InvoiceFilters()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            export_query=query_without(self.request, "cursor"),
            export_fields=export_filter_fields(self.request),
            today=clock.today(self.scope.partner.time_zone),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


class InvoiceDetailView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/invoicing/invoice_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        invoice = selectors.invoice_get(scope=self.scope, pk=self.kwargs["pk"])
        can_write = self.scope.has_role(CUSTOMER_WRITERS)
        is_open = invoice.is_open
        today = clock.today(self.scope.partner.time_zone)
        overdue = invoice.is_overdue(today)
        lines = list(invoice.lines.all())
        return super().get_context_data(
            invoice=invoice,
            lines=lines,
            vat_bands=vat_bands(lines),
            readiness=selectors.invoice_einvoice_readiness(scope=self.scope, invoice=invoice)
            if invoice.is_draft
            else None,
            allocations=list(selectors.invoice_allocations(invoice=invoice)),
            credit_notes=list(selectors.credit_note_list(scope=self.scope, invoice_id=invoice.pk)),
            history=list(selectors.invoice_history(scope=self.scope, invoice=invoice)),
            autopay_attempts=invoice_autopay_attempts(scope=self.scope, invoice_id=invoice.pk),
            peppol=document_submission(scope=self.scope, kind="invoice", document_id=invoice.pk),
            peppol_can_open=self.scope.has_role(AUDIT_READERS),
            today=today,
            is_open=is_open,
            days_overdue=(today - invoice.due_date).days if overdue and invoice.due_date else 0,
            can_write=can_write,
            can_edit=can_write and invoice.is_draft,
            can_settle=can_write and is_open,
            can_send=can_write and invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.VOID),
            # What the service would refuse is not offered (it still refuses, should two people race).
            can_void=can_write and is_open and not invoice.amount_paid and not invoice.amount_credited,
            **kwargs,
        )


# ---- Drafts: create, edit, issue, void ------------------------------------------------------------


def _after_save(request: HttpRequest, invoice: Invoice, *, scope: Any, created: bool) -> HttpResponse:
    """ "Save draft" or "Save and issue": both end on the invoice's page with a message."""
    if request.POST.get("action") == "issue":
        try:
            invoice = services.invoice_issue(invoice=invoice, actor=scope.user)
        except (InvoiceVatCategoryMissing, InvoiceDatesInvalid) as exc:  # saved as a draft; the page says why
            messages.error(request, str(exc))
            return redirect("invoice_detail", pk=invoice.pk)
        messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
    elif created:
        messages.success(request, _("Draft saved. Issue it when it is ready; until then it can change freely."))
    else:
        messages.success(request, _("Changes to the draft saved."))
    return redirect("invoice_detail", pk=invoice.pk)


def _not_editable(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    if invoice.status == Invoice.Status.VOID:
        messages.error(request, _("Invoice %(number)s is void and cannot change.") % {"number": invoice.number})
    else:
        messages.error(
            request,
            _("Invoice %(number)s is issued and cannot change; issue a credit note.") % {"number": invoice.number},
        )
    return redirect("invoice_detail", pk=invoice.pk)


def _editor_context(currency: str, formset: Any) -> dict[str, Any]:
    """What the editor's script needs to show amounts as one types (the currency and the minor units)
    and to offer a newly chosen customer's subscriptions; whether the customer has any to pick."""
    return {
        "currency": currency,
        "currency_exponents": json.dumps(CURRENCY_EXPONENTS),
        "subscriptions_url": reverse("v1:subscription-list"),
        "has_subscriptions": formset.form_kwargs["subscriptions"].exists(),
    }


def _lines_formset(scope: Any, customer: Any, data: Any = None, **kwargs: Any) -> Any:
    """The editor's lines, whose subscription picker offers the customer's subscriptions only."""
    subscriptions = customer_subscriptions(scope=scope, customer=customer)
    return InvoiceLineFormSet(data, prefix=LINES_PREFIX, form_kwargs={"subscriptions": subscriptions}, **kwargs)


# A draft refused as a whole: the message goes on the form, on its field when it names one (the dates).
EDITOR_REFUSALS = (
    InvoiceTotalNegative,
    InvoiceLineVatInvalid,
    InvoiceAmountTooLarge,
    InvoiceDatesInvalid,
    InvoiceLineSubscriptionInvalid,
    InvoiceTaxCurrencyInvalid,
)


def refusal_on_form(form: forms.BaseForm, exc: BillingError) -> None:
    named = [name for name in exc.fields if name in form.fields]
    for name in named:
        for message in exc.fields[name]:
            form.add_error(name, message)
    if not named:
        form.add_error(None, str(exc))


class InvoiceCreateView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/invoice_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        preselect = request.GET.get("customer", "")
        form = InvoiceDraftForm(scope=self.scope, initial={"customer": preselect} if preselect.isdigit() else {})
        return self._render(request, form, _lines_formset(self.scope, self._customer(form)))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InvoiceDraftForm(request.POST, scope=self.scope)
        valid = form.is_valid()
        formset = _lines_formset(self.scope, self._customer(form), request.POST)
        valid = formset.is_valid() and valid
        if not valid:
            return self._render(request, form, formset, status=400)
        try:
            invoice = services.invoice_draft_create(
                partner=self.scope.partner,
                customer=form.cleaned_data["customer"],
                actor=self.scope.user,
                lines=formset_lines(formset),
                notes=form.cleaned_data["notes"].strip(),
                issue_date=form.cleaned_data["issue_date"],
                due_date=form.cleaned_data["due_date"],
                tax_currency_rate=form.cleaned_data["tax_currency_rate"],
            )
        except BillingError as exc:  # the lines as a whole break a rule (a negative total), or the dates
            refusal_on_form(form, exc)
            return self._render(request, form, formset, status=400)
        return _after_save(request, invoice, scope=self.scope, created=True)

    def _customer(self, form: InvoiceDraftForm) -> Any:
        """The chosen customer, or the one the page was opened for, when the page knows it."""
        customer = (getattr(form, "cleaned_data", None) or {}).get("customer")
        if customer is None and str(form.initial.get("customer", "")).isdigit():
            customer = form.fields["customer"].queryset.filter(pk=form.initial["customer"]).first()  # type: ignore[attr-defined]
        return customer

    def _render(self, request: HttpRequest, form: InvoiceDraftForm, formset: Any, status: int = 200) -> HttpResponse:
        # The chosen customer's currency when the page knows it (the script follows a new choice).
        customer = self._customer(form)
        currency = customer.currency if customer is not None else self.scope.partner.default_currency
        context = {"form": form, "formset": formset, **_editor_context(currency, formset)}
        # The exchange rate for the tax matters only where some customer is billed in another currency.
        context["show_tax_currency"] = bool(
            form["tax_currency_rate"].value() or form.errors.get("tax_currency_rate")
        ) or (
            core_selectors.customer_list(scope=self.scope)
            .exclude(currency=self.scope.partner.default_currency)
            .exists()
        )
        return render(request, self.template_name, context, status=status)


class InvoiceEditView(ScopedViewMixin, View):
    """A draft's lines and notes. Anything but a draft is refused with a message and left as it is."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/invoice_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return _not_editable(request, invoice)
        initial = {"notes": invoice.notes, "issue_date": invoice.issue_date, "due_date": invoice.due_date,
                   "tax_currency_rate": invoice.tax_currency_rate}  # fmt: skip
        form = InvoiceDraftForm(scope=self.scope, with_customer=False, initial=initial)
        formset = _lines_formset(self.scope, invoice.customer, initial=line_initial(list(invoice.lines.all())))
        return self._render(request, invoice, form, formset)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return _not_editable(request, invoice)
        form = InvoiceDraftForm(request.POST, scope=self.scope, with_customer=False)
        formset = _lines_formset(self.scope, invoice.customer, request.POST)
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if not valid:
            return self._render(request, invoice, form, formset, status=400)
        try:
            invoice = services.invoice_draft_update(
                invoice=invoice,
                actor=self.scope.user,
                lines=formset_lines(formset, saved=list(invoice.lines.select_related("subscription"))),
                notes=form.cleaned_data["notes"].strip(),
                issue_date=form.cleaned_data["issue_date"],
                due_date=form.cleaned_data["due_date"],
                tax_currency_rate=form.cleaned_data["tax_currency_rate"],
            )
        except EDITOR_REFUSALS as exc:
            refusal_on_form(form, exc)
            return self._render(request, invoice, form, formset, status=400)
        except BillingError as exc:  # issued by someone else since the page was loaded
            messages.error(request, str(exc))
            return redirect("invoice_detail", pk=invoice.pk)
        return _after_save(request, invoice, scope=self.scope, created=False)

    def _render(
        self, request: HttpRequest, invoice: Invoice, form: InvoiceDraftForm, formset: Any, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "formset": formset, "invoice": invoice, **_editor_context(invoice.currency, formset)}
        context["show_tax_currency"] = invoice.currency != self.scope.partner.default_currency or bool(
            invoice.tax_currency_rate or form["tax_currency_rate"].value()
        )
        return render(request, self.template_name, context, status=status)


class InvoiceIssueView(ScopedViewMixin, View):
    """GET: what issuing will do, with "Email it to the customer" ticked, and the button (the draft's page
    links here). POST: issue."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return redirect("invoice_detail", pk=invoice.pk)
        today = clock.today(self.scope.partner.time_zone)
        context = {
            "invoice": invoice, "lines": list(invoice.lines.all()), "today": today,
            "readiness": selectors.invoice_einvoice_readiness(scope=self.scope, invoice=invoice),
        }  # fmt: skip
        return render(request, "billing/invoicing/invoice_issue.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            messages.info(request, _("Invoice %(number)s was already issued.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
        try:
            with transaction.atomic():
                invoice = services.invoice_issue(invoice=invoice, actor=self.scope.user)
                # Emailed unless finance unticked it on this page (a POST without the field sends).
                sent_to = self._send(request, invoice) if request.POST.get("email", "yes") != "no" else []
        except (InvoiceTotalNegative, InvoiceVatCategoryMissing, InvoiceDatesInvalid) as exc:
            today = clock.today(self.scope.partner.time_zone)
            context = {
                "invoice": invoice, "lines": list(invoice.lines.all()), "today": today, "error": str(exc),
                "readiness": selectors.invoice_einvoice_readiness(scope=self.scope, invoice=invoice),
            }  # fmt: skip
            return render(request, "billing/invoicing/invoice_issue.html", context, status=400)
        if sent_to:
            messages.success(
                request,
                _("Invoice %(number)s issued and emailed to %(to)s.")
                % {"number": invoice.number, "to": ", ".join(sent_to)},
            )
        else:
            messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
        return redirect("invoice_detail", pk=invoice.pk)

    def _send(self, request: HttpRequest, invoice: Invoice) -> list[str]:
        try:
            return services.invoice_send_request(invoice=invoice, actor=self.scope.user)
        except BillingError as exc:  # issued all the same; the page says why nothing was emailed
            messages.warning(request, str(exc))
            return []


class InvoiceSendView(ScopedViewMixin, View):
    """Email an issued invoice again, with its PDF."""

    allowed_roles = CUSTOMER_WRITERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        try:
            sent_to = services.invoice_send_request(invoice=invoice, actor=self.scope.user, again=True)
        except BillingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Invoice %(number)s is being emailed to %(to)s.")
                % {"number": invoice.number, "to": ", ".join(sent_to)},
            )
        return redirect("invoice_detail", pk=invoice.pk)


class InvoiceDeleteView(ScopedViewMixin, View):
    """POST only: discard a draft (the detail page's button asks first). Issued invoices are voided instead."""

    allowed_roles = CUSTOMER_WRITERS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return _not_editable(request, invoice)
        try:
            services.invoice_draft_delete(invoice=invoice, actor=self.scope.user)
        except BillingError as exc:  # issued by someone else since the page was loaded
            messages.error(request, str(exc))
            return redirect("invoice_detail", pk=invoice.pk)
        messages.success(request, _("Draft deleted."))
        return redirect("invoice_list")


class InvoiceVoidView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/invoice_void.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, invoice):
            return refused
        return render(request, self.template_name, {"invoice": invoice, "form": InvoiceVoidForm()})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, invoice):
            return refused
        form = InvoiceVoidForm(request.POST)
        if form.is_valid():
            try:
                services.invoice_void(invoice=invoice, actor=self.scope.user, reason=form.cleaned_data["reason"])
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Invoice %(number)s is void.") % {"number": invoice.number})
                return redirect("invoice_detail", pk=invoice.pk)
        return render(request, self.template_name, {"invoice": invoice, "form": form}, status=400)

    def _refused(self, request: HttpRequest, invoice: Invoice) -> HttpResponse | None:
        if invoice.is_draft:
            messages.error(request, _("A draft has no number to keep; delete or edit it instead of voiding."))
        elif invoice.status == Invoice.Status.VOID:
            messages.info(request, _("Invoice %(number)s is void already.") % {"number": invoice.number})
        elif not invoice.is_open or invoice.amount_paid or invoice.amount_credited:
            messages.error(
                request,
                _("Invoice %(number)s has payments or credit notes; credit the rest instead of voiding.")
                % {"number": invoice.number},
            )
        else:
            return None
        return redirect("invoice_detail", pk=invoice.pk)


class CreditNoteCreateView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/credit_note_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_open:
            return self._not_open(request, invoice)
        # The amount starts empty: pre-filled, it would clash with quantities typed in the lines section.
        form = CreditNoteForm(invoice=invoice)
        return render(request, self.template_name, {"invoice": invoice, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_open:
            return self._not_open(request, invoice)
        form = CreditNoteForm(request.POST, invoice=invoice)
        if form.is_valid():
            try:
                lines = form.credit_lines()
                note = services.credit_note_issue(
                    invoice=invoice,
                    actor=self.scope.user,
                    amount=form.cleaned_data["amount"] if lines is None else None,
                    lines=lines,
                    reason=form.cleaned_data["reason"],
                )
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Credit note %(number)s of %(amount)s %(currency)s issued against %(invoice)s.")
                    % {"number": note.number, "amount": note.amount, "currency": note.currency, "invoice": invoice},
                )
                return redirect("invoice_detail", pk=invoice.pk)
        return render(request, self.template_name, {"invoice": invoice, "form": form}, status=400)

    def _not_open(self, request: HttpRequest, invoice: Invoice) -> HttpResponse:
        messages.error(request, _("Only an issued, unpaid or partly paid invoice can be credited."))
        return redirect("invoice_detail", pk=invoice.pk)


class CreditNoteDetailView(ScopedViewMixin, TemplateView):
    """A credit note as a tax document: the invoice it credits, its net, VAT per category and rate, total."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/invoicing/credit_note_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        note = selectors.credit_note_get(scope=self.scope, pk=self.kwargs["pk"])
        return super().get_context_data(
            credit_note=note,
            vat_bands=note.vat_bands,
            credited_lines=selectors.credit_note_lines(credit_note=note),
            peppol=document_submission(scope=self.scope, kind="credit_note", document_id=note.pk),
            peppol_can_open=self.scope.has_role(AUDIT_READERS),
            **kwargs,
        )


# ---- Payments ----------------------------------------------------------------------------------


# ---- A customer's billing account ----------------------------------------------------------------


# ---- Finance dashboard ---------------------------------------------------------------------------


# ---- Bulk PDF export -------------------------------------------------------------------------------


# ---- Reconciliation imports ----------------------------------------------------------------------
