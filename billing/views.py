"""Billing pages for partner staff. Thin: a form validates, a service acts, a selector reads.

Every object comes from a selector given the request's scope, so another partner's invoice is a
404. Reading is open to every staff role; writing (drafts, issuing, voiding, payments, credit
notes, CSV exports) to partner admins and finance. The services hold the rules: a page only
decides which buttons to offer, and shows a refused rule's message as a form error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from billing import exports, selectors
from billing.collections import selectors as selectors_collections
from billing.forms import (
    CreditNoteForm,
    InvoiceDraftForm,
    InvoiceFilterForm,
    InvoiceLineFormSet,
    InvoiceVoidForm,
    MicrosoftPayableForm,
    PaymentCustomerForm,
    PaymentFilterForm,
    PaymentForm,
    formset_lines,
    line_initial,
)
from billing.invoicing import services
from billing.invoicing.errors import BillingError
from billing.invoicing.models import ZERO, ExportJob, Invoice
from billing.invoicing.progress import newest_first_context, progress_context, progress_response
from billing.reconciliation import selectors as selectors_reconciliation
from billing.reconciliation import services as reconciliation_services
from billing.templatetags.money import money
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.models import STAFF_ROLES, Customer
from partner_portal.pagination import keyset_page, query_without

PAGE_SIZE = 25
PANEL_ROWS = 10  # rows of each list on a customer's billing page
LINES_PREFIX = "lines"


def _csv_response(rows: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class InvoiceCsvView(ScopedViewMixin, View):
    """The invoice list as CSV, with the same filters as the page."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        form = InvoiceFilterForm(request.GET or None, scope=self.scope)
        filters = form.filters() if form.is_valid() else selectors.InvoiceFilters()
        invoices = selectors.invoice_list(scope=self.scope, filters=filters)
        return _csv_response(
            exports.invoices_csv(invoices), f"invoices-{clock.today(self.scope.partner.time_zone)}.csv"
        )


class PaymentCsvView(ScopedViewMixin, View):
    """The payments as CSV; `?customer=` narrows them to one customer, like the page."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        customer_id = PaymentFilterForm(request.GET or None, scope=self.scope).customer_id()
        payments = selectors.payment_list(scope=self.scope, customer_id=customer_id)
        return _csv_response(
            exports.payments_csv(payments), f"payments-{clock.today(self.scope.partner.time_zone)}.csv"
        )


# ---- Invoices: list and detail -------------------------------------------------------------------


class InvoiceListView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/invoice_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = InvoiceFilterForm(self.request.GET or None, scope=self.scope)
        valid = form.is_valid()
        filters = form.filters() if valid else selectors.InvoiceFilters()
        sort = (form.cleaned_data.get("sort") if valid else "") or "-created"
        sort_field, descending = selectors.INVOICE_SORTS[sort]
        qs = selectors.invoice_list(scope=self.scope, filters=filters)
        page = keyset_page(
            qs, sort_field=sort_field, descending=descending, cursor=self.request.GET.get("cursor"), size=PAGE_SIZE
        )
        return super().get_context_data(
            form=form,
            page=page,
            total=qs.count(),
            sort=sort,
            filtered=valid and filters != selectors.InvoiceFilters(),
            query=query_without(self.request, "cursor"),
            sort_query=query_without(self.request, "cursor", "sort"),
            export_query=query_without(self.request, "cursor"),
            export_fields=export_filter_fields(self.request),
            today=clock.today(self.scope.partner.time_zone),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


class InvoiceDetailView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/invoice_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        invoice = selectors.invoice_get(scope=self.scope, pk=self.kwargs["pk"])
        can_write = self.scope.has_role(CUSTOMER_WRITERS)
        is_open = invoice.is_open
        today = clock.today(self.scope.partner.time_zone)
        overdue = invoice.is_overdue(today)
        return super().get_context_data(
            invoice=invoice,
            lines=list(invoice.lines.all()),
            allocations=list(selectors.invoice_allocations(invoice=invoice)),
            credit_notes=list(selectors.credit_note_list(scope=self.scope, invoice_id=invoice.pk)),
            history=list(selectors.invoice_history(scope=self.scope, invoice=invoice)),
            today=today,
            is_open=is_open,
            days_overdue=(today - invoice.due_date).days if overdue and invoice.due_date else 0,
            can_write=can_write,
            can_edit=can_write and invoice.is_draft,
            can_settle=can_write and is_open,
            # What the service would refuse is not offered (it still refuses, should two people race).
            can_void=can_write and is_open and not invoice.amount_paid and not invoice.amount_credited,
            **kwargs,
        )


# ---- Drafts: create, edit, issue, void ------------------------------------------------------------


def _after_save(request: HttpRequest, invoice: Invoice, *, scope: Any, created: bool) -> HttpResponse:
    """ "Save draft" or "Save and issue": both end on the invoice's page with a message."""
    if request.POST.get("action") == "issue":
        invoice = services.invoice_issue(invoice=invoice, actor=scope.user)
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


class InvoiceCreateView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoice_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        preselect = request.GET.get("customer", "")
        form = InvoiceDraftForm(scope=self.scope, initial={"customer": preselect} if preselect.isdigit() else {})
        return self._render(request, form, InvoiceLineFormSet(prefix=LINES_PREFIX))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InvoiceDraftForm(request.POST, scope=self.scope)
        formset = InvoiceLineFormSet(request.POST, prefix=LINES_PREFIX)
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if not valid:
            return self._render(request, form, formset, status=400)
        invoice = services.invoice_draft_create(
            partner=self.scope.partner,
            customer=form.cleaned_data["customer"],
            actor=self.scope.user,
            lines=formset_lines(formset),
            notes=form.cleaned_data["notes"].strip(),
        )
        return _after_save(request, invoice, scope=self.scope, created=True)

    def _render(self, request: HttpRequest, form: InvoiceDraftForm, formset: Any, status: int = 200) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "formset": formset}, status=status)


class InvoiceEditView(ScopedViewMixin, View):
    """A draft's lines and notes. Anything but a draft is refused with a message and left as it is."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoice_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return _not_editable(request, invoice)
        form = InvoiceDraftForm(scope=self.scope, with_customer=False, initial={"notes": invoice.notes})
        formset = InvoiceLineFormSet(prefix=LINES_PREFIX, initial=line_initial(list(invoice.lines.all())))
        return self._render(request, invoice, form, formset)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return _not_editable(request, invoice)
        form = InvoiceDraftForm(request.POST, scope=self.scope, with_customer=False)
        formset = InvoiceLineFormSet(request.POST, prefix=LINES_PREFIX)
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
            )
        except BillingError as exc:  # issued by someone else since the page was loaded
            messages.error(request, str(exc))
            return redirect("invoice_detail", pk=invoice.pk)
        return _after_save(request, invoice, scope=self.scope, created=False)

    def _render(
        self, request: HttpRequest, invoice: Invoice, form: InvoiceDraftForm, formset: Any, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "formset": formset, "invoice": invoice}
        return render(request, self.template_name, context, status=status)


class InvoiceIssueView(ScopedViewMixin, View):
    """GET: what issuing will do, with the button (the detail page's button asks in a dialog). POST: issue."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            return redirect("invoice_detail", pk=invoice.pk)
        today = clock.today(self.scope.partner.time_zone)
        context = {"invoice": invoice, "lines": list(invoice.lines.all()), "today": today}
        return render(request, "billing/invoice_issue.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_draft:
            messages.info(request, _("Invoice %(number)s was already issued.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
        invoice = services.invoice_issue(invoice=invoice, actor=self.scope.user)
        messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
        return redirect("invoice_detail", pk=invoice.pk)


class InvoiceVoidView(ScopedViewMixin, View):
    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoice_void.html"

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
    template_name = "billing/credit_note_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_open:
            return self._not_open(request, invoice)
        form = CreditNoteForm(invoice=invoice, initial={"amount": invoice.balance})
        return render(request, self.template_name, {"invoice": invoice, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = selectors.invoice_get(scope=self.scope, pk=pk)
        if not invoice.is_open:
            return self._not_open(request, invoice)
        form = CreditNoteForm(request.POST, invoice=invoice)
        if form.is_valid():
            try:
                note = services.credit_note_issue(
                    invoice=invoice,
                    actor=self.scope.user,
                    amount=form.cleaned_data["amount"],
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


# ---- Payments ----------------------------------------------------------------------------------


class PaymentListView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/payment_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = PaymentFilterForm(self.request.GET or None, scope=self.scope)
        customer_id = form.customer_id()
        qs = selectors.payment_list(scope=self.scope, customer_id=customer_id)
        sort_field, descending = selectors.PAYMENT_SORT
        page = keyset_page(
            qs, sort_field=sort_field, descending=descending, cursor=self.request.GET.get("cursor"), size=PAGE_SIZE
        )
        return super().get_context_data(
            form=form,
            page=page,
            total=qs.count(),
            filtered=customer_id is not None,
            query=query_without(self.request, "cursor"),
            export_query=urlencode({"customer": customer_id}) if customer_id else "",
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


class PaymentCreateView(ScopedViewMixin, View):
    """Record a payment. The customer comes from `?customer=` (or `?invoice=`, which also preselects
    that invoice); without one, the page first asks which customer paid."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/payment_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        customer, invoice = self._target(request)
        if invoice is not None and not invoice.is_open:
            messages.info(request, _("Invoice %(number)s is not open for payment.") % {"number": invoice})
            invoice = None
        if customer is None:
            pick = PaymentCustomerForm(request.GET or None, scope=self.scope)
            return render(request, self.template_name, {"pick_form": pick})
        initial: dict[str, Any] = {"received_on": clock.today(self.scope.partner.time_zone)}
        if invoice is not None:
            initial |= {"allocation": PaymentForm.ONE_INVOICE, "invoice": invoice.pk, "amount": invoice.balance}
        form = PaymentForm(initial=initial, scope=self.scope, customer=customer)
        return self._render(request, form, customer, invoice)

    def post(self, request: HttpRequest) -> HttpResponse:
        customer, invoice = self._target(request)
        if customer is None:
            return redirect("payment_create")
        if invoice is not None and not invoice.is_open:
            invoice = None
        form = PaymentForm(request.POST, scope=self.scope, customer=customer)
        if form.is_valid():
            data = form.cleaned_data
            allocations = form.allocations()
            try:
                payment = services.payment_record(
                    partner=self.scope.partner,
                    customer=customer,
                    actor=self.scope.user,
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    reference=data["reference"],
                    allocations=allocations,
                )
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                self._report(request, payment.amount, payment.unallocated, payment.currency, customer)
                if allocations:
                    return redirect("invoice_detail", pk=allocations[0].invoice.pk)
                if invoice is not None:
                    return redirect("invoice_detail", pk=invoice.pk)
                return redirect("customer_billing", pk=customer.pk)
        return self._render(request, form, customer, invoice, status=400)

    def _target(self, request: HttpRequest) -> tuple[Customer | None, Invoice | None]:
        """The customer (and invoice) named in the query string; someone else's is a 404."""
        if invoice_id := request.GET.get("invoice"):
            invoice = selectors.invoice_get(scope=self.scope, pk=invoice_id)
            return invoice.customer, invoice
        if customer_id := request.GET.get("customer"):
            return core_selectors.customer_get(scope=self.scope, pk=customer_id), None
        return None, None

    def _render(
        self, request: HttpRequest, form: PaymentForm, customer: Customer, invoice: Invoice | None, status: int = 200
    ) -> HttpResponse:
        query = {"invoice": invoice.pk} if invoice is not None else {"customer": customer.pk}
        context = {
            "form": form,
            "customer": customer,
            "invoice": invoice,
            "open_invoices": list(selectors.invoices_open(scope=self.scope, customer_id=customer.pk)[:50]),
            "account": selectors.customer_account(scope=self.scope, customer=customer),
            "action": f"{reverse('payment_create')}?{urlencode(query)}",
            "today": clock.today(self.scope.partner.time_zone),
        }
        return render(request, self.template_name, context, status=status)

    @staticmethod
    def _report(request: HttpRequest, amount: Any, credit: Any, currency: str, customer: Customer) -> None:
        text = _("Payment of %(amount)s %(currency)s from %(customer)s recorded.") % {
            "amount": amount,
            "currency": currency,
            "customer": customer.name,
        }
        if credit:
            text += " " + _("%(credit)s %(currency)s was not needed by an open invoice and is kept as credit.") % {
                "credit": credit,
                "currency": currency,
            }
        messages.success(request, text)


# ---- A customer's billing account ----------------------------------------------------------------


class CustomerBillingView(ScopedViewMixin, TemplateView):
    """One customer's account: what it owes and has paid, its latest invoices, payments and credit notes."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/customer_billing.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        customer = core_selectors.customer_get(scope=self.scope, pk=self.kwargs["pk"])
        invoices = selectors.invoice_list(scope=self.scope, filters=selectors.InvoiceFilters(customer_id=customer.pk))
        payments = selectors.payment_list(scope=self.scope, customer_id=customer.pk)
        credit_notes = selectors.credit_note_list(scope=self.scope, customer_id=customer.pk)
        return super().get_context_data(
            customer=customer,
            account=selectors.customer_account(scope=self.scope, customer=customer),
            invoices=list(invoices.order_by("-created_at", "-pk")[:PANEL_ROWS]),
            invoice_count=invoices.count(),
            payments=list(payments.order_by("-received_on", "-pk")[:PANEL_ROWS]),
            payment_count=payments.count(),
            credit_notes=list(credit_notes[:PANEL_ROWS]),
            collections=selectors_collections.customer_collections_status(scope=self.scope, customer=customer),
            notices=list(selectors_collections.notice_list(scope=self.scope, customer_id=customer.pk)[:PANEL_ROWS]),
            invoices_url=f"{reverse('invoice_list')}?{urlencode({'customer': customer.pk})}",
            payments_url=f"{reverse('payment_list')}?{urlencode({'customer': customer.pk})}",
            today=clock.today(self.scope.partner.time_zone),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


# ---- Finance dashboard ---------------------------------------------------------------------------

AGING_LABELS: dict[str, Any] = {
    "current": gettext_lazy("Not yet due"),
    "1_30": gettext_lazy("1–30 days overdue"),
    "31_60": gettext_lazy("31–60 days overdue"),
    "61_90": gettext_lazy("61–90 days overdue"),
    "90_plus": gettext_lazy("Over 90 days overdue"),
}
RECENT_ROWS = 5  # imports and exports listed on the finance dashboard
MIN_BAR = Decimal("0.8")  # % of the chart's width: an amount that is not zero always shows a sliver


def _percent_of(amount: Decimal, whole: Decimal) -> Decimal:
    return (amount * 100 / whole).quantize(Decimal("0.1")) if whole > 0 else Decimal(0)


def aging_chart(aging: selectors.CurrencyAging) -> dict[str, Any]:
    """One currency's buckets as bars: widths relative to the largest bucket, as CSS percentages
    written with a '.' whatever the language (a string, so templates do not localise it)."""
    largest = max((b.amount for b in aging.buckets), default=ZERO)
    bars = []
    for bucket in aging.buckets:
        width = _percent_of(max(bucket.amount, ZERO), largest)
        if bucket.amount > 0:
            width = max(width, MIN_BAR)
        bars.append(
            {
                "key": bucket.key,
                "label": AGING_LABELS[bucket.key],
                "amount": bucket.amount,
                "invoices": bucket.invoices,
                "width": f"{width:.1f}",
                "share": _percent_of(bucket.amount, aging.total),
            }
        )
    return {"currency": aging.currency, "total": aging.total, "overdue": aging.overdue, "bars": bars}


class FinanceDashboardView(ScopedViewMixin, TemplateView):
    """Receivables by age, what came in, what is due to Microsoft and whether it is covered."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/finance_dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        aging = selectors.receivables_aging(scope=self.scope)
        collected = selectors.payments_collected(scope=self.scope)
        return super().get_context_data(
            aging=aging,
            charts=[aging_chart(a) for a in aging],
            bucket_rows=[
                {"label": AGING_LABELS[key], "key": key, "amounts": [(a.currency, a.amount(key)) for a in aging]}
                for key, _first, _last in selectors.AGING_BUCKETS
            ],
            collected=collected,
            last_month_end=collected.month_start - dt.timedelta(days=1),
            outlook=selectors.microsoft_payables_outlook(scope=self.scope, collected=collected),
            imports=list(selectors_reconciliation.reconciliation_import_list(scope=self.scope)[:RECENT_ROWS]),
            exports=list(selectors.export_job_list(scope=self.scope)[:RECENT_ROWS]),
            today=collected.today,
            **kwargs,
        )


class MicrosoftPayableFormView(ScopedViewMixin, View):
    """Record what is due to Microsoft for a period by hand (`pk` absent), or change one (`pk`)."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/payable_form.html"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        payable = selectors.microsoft_payable_get(scope=self.scope, pk=pk) if pk is not None else None
        if payable is not None:
            initial = {
                "period": payable.period,
                "currency": payable.currency,
                "amount": payable.amount,
                "due_date": payable.due_date,
                "notes": payable.notes,
            }
        else:
            period = services.previous_period(clock.today(self.scope.partner.time_zone))
            initial = {
                "period": period,
                "currency": self.scope.partner.default_currency,
                "due_date": reconciliation_services.payable_default_due_date(period),
            }
        form = MicrosoftPayableForm(initial=initial, editing=payable is not None)
        return self._render(request, form, payable)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        payable = selectors.microsoft_payable_get(scope=self.scope, pk=pk) if pk is not None else None
        initial = {"period": payable.period, "currency": payable.currency} if payable is not None else {}
        form = MicrosoftPayableForm(request.POST, initial=initial, editing=payable is not None)
        if form.is_valid():
            data = form.cleaned_data
            previous = (
                payable
                or selectors_reconciliation.microsoft_payables(scope=self.scope)
                .filter(period=data["period"], currency=data["currency"])
                .first()
            )
            try:
                saved = reconciliation_services.microsoft_payable_set(
                    partner=self.scope.partner, actor=self.scope.user, period=data["period"], amount=data["amount"],
                    currency=data["currency"], due_date=data["due_date"], notes=data["notes"].strip(),
                )  # fmt: skip
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                values = {"period": saved.period, "amount": money(saved.amount, saved.currency)}
                if previous is not None and previous.amount != saved.amount:
                    values["previous"] = money(previous.amount, previous.currency)
                    text = _("Due to Microsoft for %(period)s: %(amount)s (was %(previous)s).")
                else:
                    text = _("Due to Microsoft for %(period)s: %(amount)s.")
                messages.success(request, text % values)
                return redirect(f"{reverse('finance_dashboard')}#payables")
        return self._render(request, form, payable, status=400)

    def _render(
        self, request: HttpRequest, form: MicrosoftPayableForm, payable: Any, status: int = 200
    ) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "payable": payable}, status=status)


# ---- Bulk PDF export -------------------------------------------------------------------------------

EXPORT_FILTER_FIELDS = ("q", "status", "customer", "period", "overdue")


def export_filter_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """The invoice list's filters from its query string, as hidden fields of the export form."""
    return [(name, value) for name in EXPORT_FILTER_FIELDS for value in request.GET.getlist(name)]


class ExportListView(ScopedViewMixin, View):
    """GET: the partner's recent bulk exports and a form to start one. POST: start an export of the
    invoices the posted filters select (the invoice list posts its own), then show its progress."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/export_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, InvoiceFilterForm(scope=self.scope))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InvoiceFilterForm(request.POST, scope=self.scope)
        if not form.is_valid():
            return self._render(request, form, status=400)
        filters = form.filters()
        if not selectors.invoice_list(scope=self.scope, filters=filters).exists():
            messages.error(request, _("No invoice matches these filters: there is nothing to export."))
            return self._render(request, form, status=400)
        job = services.invoice_pdf_export_request(scope=self.scope, filters=filters)
        return redirect("export_detail", pk=job.pk)

    def _render(self, request: HttpRequest, form: InvoiceFilterForm, status: int = 200) -> HttpResponse:
        context = {"form": form, **newest_first_context(request, selectors.export_job_list(scope=self.scope))}
        return render(request, self.template_name, context, status=status)


def _export_filters_summary(scope: Any, filters: dict[str, Any]) -> list[tuple[str, str]]:
    """What an export selected, in words: [(label, value)]; empty for every invoice."""
    rows: list[tuple[str, str]] = []
    if filters.get("search"):
        rows.append((_("Search"), str(filters["search"])))
    if filters.get("status"):
        rows.append((_("Status"), str(dict(Invoice.Status.choices).get(filters["status"], filters["status"]))))
    if filters.get("customer_id"):
        customer = core_selectors.customer_list(scope=scope).filter(pk=filters["customer_id"]).first()
        rows.append((_("Customer"), customer.name if customer is not None else "—"))
    if filters.get("period"):
        rows.append((_("Period"), str(filters["period"])))
    if filters.get("overdue"):
        rows.append((_("Overdue only"), _("Yes")))
    return rows


def _export_form_fields(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """An export's filters as the fields of the form that starts one: "Try again" posts them."""
    fields = [("q", filters.get("search") or ""), ("status", filters.get("status") or "")]
    fields += [("customer", str(filters.get("customer_id") or "")), ("period", filters.get("period") or "")]
    if filters.get("overdue"):
        fields.append(("overdue", "on"))
    return [(name, value) for name, value in fields if value]


class ExportDetailView(ScopedViewMixin, TemplateView):
    """One export: its progress while a worker builds it (the page polls `export_status`; without
    script it refreshes itself), then the download."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/export_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = selectors.export_job_get(scope=self.scope, pk=self.kwargs["pk"])
        return super().get_context_data(
            job=job,
            filters=_export_filters_summary(self.scope, job.filters or {}),
            retry_fields=_export_form_fields(job.filters or {}),
            download_url=_export_download_url(job),
            **progress_context(job),
            **kwargs,
        )


def _export_download_url(job: ExportJob) -> str | None:
    return reverse("export_download", args=[job.pk]) if job.status == ExportJob.Status.DONE and job.file else None


class ExportStatusView(ScopedViewMixin, View):
    """The progress of an export as JSON, for the page's progress bar."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.export_job_get(scope=self.scope, pk=pk)
        return progress_response(job, done=job.done, total=job.total, download_url=_export_download_url(job))


class ExportDownloadView(ScopedViewMixin, View):
    """The finished ZIP, streamed from storage. Another partner's export, or one not finished, is 404."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        job = selectors.export_job_get(scope=self.scope, pk=pk)
        if _export_download_url(job) is None:
            raise Http404
        try:
            handle = job.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"invoices-{job.created_at:%Y-%m-%d}-{job.pk}.zip",
            content_type="application/zip",
        )
        response["Cache-Control"] = "private, no-store"
        return response


# ---- Reconciliation imports ----------------------------------------------------------------------
