"""Payment pages: the list, its CSV, a payment's page, recording a payment with its allocations, voiding one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from billing.invoicing import exports, selectors, services
from billing.invoicing.errors import BillingError
from billing.invoicing.forms import (
    PaymentCustomerForm,
    PaymentFilterForm,
    PaymentForm,
    PaymentVoidForm,
    RefundForm,
)
from billing.invoicing.models import ZERO, Invoice, Payment
from billing.invoicing.views.invoices import PAGE_SIZE, refusal_on_form
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.csvexport import csv_response
from partner_portal.listing import KeysetListView
from partner_portal.models import STAFF_ROLES, Customer


class PaymentCsvView(ScopedViewMixin, View):
    """The payments as CSV; `?customer=` narrows them to one customer, like the page."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        customer_id = PaymentFilterForm(request.GET or None, scope=self.scope).customer_id()
        payments = selectors.payment_list(scope=self.scope, customer_id=customer_id)
        return csv_response(exports.payments_csv(payments), f"payments-{clock.today(self.scope.partner.time_zone)}.csv")


class PaymentListView(KeysetListView):
    allowed_roles = STAFF_ROLES
    template_name = "billing/invoicing/payment_list.html"
    filter_form_class = PaymentFilterForm
    filter_form_scoped = True
    sorts = {"-received": selectors.PAYMENT_SORT}
    default_sort = "-received"
    page_size = PAGE_SIZE
    pagination_label = _lazy("Pages of payments")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        self.customer_id = form.customer_id() if form is not None else None
        return selectors.payment_list(scope=self.scope, customer_id=self.customer_id), self.customer_id is not None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        return {
            **context,
            "export_query": urlencode({"customer": self.customer_id}) if self.customer_id else "",
            "can_write": self.scope.has_role(CUSTOMER_WRITERS),
        }


class PaymentCreateView(ScopedViewMixin, View):
    """Record a payment. The customer comes from `?customer=` (or `?invoice=`, which also preselects
    that invoice); without one, the page first asks which customer paid."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/payment_form.html"

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
            except BillingError as exc:  # on the field it names (the date), else above the form
                refusal_on_form(form, exc)
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


class PaymentDetailView(ScopedViewMixin, TemplateView):
    """A payment: what was received, the invoices it paid (reversed allocations too) and its history."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/invoicing/payment_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        payment = selectors.payment_get(scope=self.scope, pk=self.kwargs["pk"])
        can_write = self.scope.has_role(CUSTOMER_WRITERS)
        refunds = list(selectors.refund_list(scope=self.scope, payment_id=payment.pk))
        return super().get_context_data(
            payment=payment,
            allocations=list(selectors.payment_allocations(payment=payment)),
            history=list(selectors.payment_history(scope=self.scope, payment=payment)),
            refunds=refunds,
            refunded=sum((r.amount for r in refunds), ZERO),
            can_void=can_write and not payment.is_voided and not refunds,
            can_refund=can_write and not payment.is_voided and sum((r.amount for r in refunds), ZERO) < payment.amount,
            **kwargs,
        )


class PaymentVoidView(ScopedViewMixin, View):
    """Void a payment recorded in error, with a reason: the invoices it paid are open again."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/payment_void.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = selectors.payment_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, payment):
            return refused
        return self._render(request, payment, PaymentVoidForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = selectors.payment_get(scope=self.scope, pk=pk)
        if refused := self._refused(request, payment):
            return refused
        form = PaymentVoidForm(request.POST)
        if form.is_valid():
            try:
                services.payment_void(payment=payment, actor=self.scope.user, reason=form.cleaned_data["reason"])
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The payment is void; the invoices it paid are open again."))
                return redirect("payment_detail", pk=payment.pk)
        return self._render(request, payment, form, status=400)

    def _render(self, request: HttpRequest, payment: Payment, form: PaymentVoidForm, status: int = 200) -> HttpResponse:
        context = {
            "payment": payment,
            "form": form,
            "allocations": [a for a in selectors.payment_allocations(payment=payment) if not a.is_reversed],
        }
        return render(request, self.template_name, context, status=status)

    @staticmethod
    def _refused(request: HttpRequest, payment: Payment) -> HttpResponse | None:
        if payment.is_voided:
            messages.info(request, _("This payment is void already."))
            return redirect("payment_detail", pk=payment.pk)
        return None


class RefundCreateView(ScopedViewMixin, View):
    """Refund money of a payment: from its credit, or from the invoices finance names on the form."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/invoicing/refund_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = selectors.payment_get(scope=self.scope, pk=pk)
        if payment.is_voided:
            messages.info(request, _("This payment is void: there is nothing to refund."))
            return redirect("payment_detail", pk=payment.pk)
        initial = {"refunded_on": clock.today(self.scope.partner.time_zone), "amount": payment.unallocated or None}
        return self._render(request, payment, RefundForm(initial=initial, allocations=self._allocations(payment)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = selectors.payment_get(scope=self.scope, pk=pk)
        form = RefundForm(request.POST, allocations=self._allocations(payment))
        if form.is_valid():
            data = form.cleaned_data
            try:
                refund = services.refund_record(
                    payment=payment, actor=self.scope.user, amount=data["amount"], refunded_on=data["refunded_on"],
                    reason=data["reason"], reference=data["reference"], credit_invoices=data["credit_invoices"],
                    sources=[services.RefundSource(allocation=a, amount=amount) for a, amount in form.sources()],
                )  # fmt: skip
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Refund of %(amount)s %(currency)s recorded.")
                    % {"amount": refund.amount, "currency": refund.currency},
                )
                return redirect("payment_detail", pk=payment.pk)
        return self._render(request, payment, form, status=400)

    @staticmethod
    def _allocations(payment: Payment) -> list[Any]:
        return [a for a in selectors.payment_allocations(payment=payment) if not a.is_reversed]

    def _render(self, request: HttpRequest, payment: Payment, form: RefundForm, status: int = 200) -> HttpResponse:
        return render(request, self.template_name, {"payment": payment, "form": form}, status=status)
