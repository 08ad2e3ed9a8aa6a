"""Finance pages: the dashboard (receivables by age against what is owed to Microsoft), payables entered by hand, and one customer's account with its collections standing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from billing.collections import selectors as selectors_collections
from billing.finance import selectors as finance_selectors
from billing.finance.forms import MicrosoftPayableForm
from billing.invoicing import selectors, services
from billing.invoicing.autopay_status import customer_autopay
from billing.invoicing.errors import BillingError
from billing.invoicing.models import AGING_LABELS, ZERO
from billing.reconciliation import selectors as selectors_reconciliation
from billing.reconciliation import services as reconciliation_services
from billing.templatetags.money import money
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin
from partner_portal.models import STAFF_ROLES

PANEL_ROWS = 10  # rows of each list on a customer's billing page


class CustomerBillingView(ScopedViewMixin, TemplateView):
    """One customer's account: what it owes and has paid, its latest invoices, payments and credit notes."""

    allowed_roles = STAFF_ROLES
    template_name = "billing/finance/customer_billing.html"

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
            autopay=customer_autopay(scope=self.scope, customer_id=customer.pk),
            notices=list(selectors_collections.notice_list(scope=self.scope, customer_id=customer.pk)[:PANEL_ROWS]),
            invoices_url=f"{reverse('invoice_list')}?{urlencode({'customer': customer.pk})}",
            payments_url=f"{reverse('payment_list')}?{urlencode({'customer': customer.pk})}",
            today=clock.today(self.scope.partner.time_zone),
            can_write=self.scope.has_role(CUSTOMER_WRITERS),
            **kwargs,
        )


RECENT_ROWS = 5  # imports and exports listed on the finance dashboard


MIN_BAR = Decimal("0.8")  # % of the chart's width: an amount that is not zero always shows a sliver


def _percent_of(amount: Decimal, whole: Decimal) -> Decimal:
    return (amount * 100 / whole).quantize(Decimal("0.1")) if whole > 0 else Decimal(0)


def aging_chart(aging: finance_selectors.CurrencyAging) -> dict[str, Any]:
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
    template_name = "billing/finance/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        aging = finance_selectors.receivables_aging(scope=self.scope)
        collected = finance_selectors.payments_collected(scope=self.scope)
        return super().get_context_data(
            aging=aging,
            charts=[aging_chart(a) for a in aging],
            bucket_rows=[
                {"label": AGING_LABELS[key], "key": key, "amounts": [(a.currency, a.amount(key)) for a in aging]}
                for key in finance_selectors.AGING_BUCKETS
            ],
            collected=collected,
            last_month_end=collected.month_start - dt.timedelta(days=1),
            outlook=finance_selectors.microsoft_payables_outlook(scope=self.scope, collected=collected),
            imports=list(selectors_reconciliation.reconciliation_import_list(scope=self.scope)[:RECENT_ROWS]),
            exports=list(selectors.export_job_list(scope=self.scope)[:RECENT_ROWS]),
            today=collected.today,
            **kwargs,
        )


class MicrosoftPayableFormView(ScopedViewMixin, View):
    """Record what is due to Microsoft for a period by hand (`pk` absent), or change one (`pk`)."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/finance/payable_form.html"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        payable = selectors_reconciliation.microsoft_payable_get(scope=self.scope, pk=pk) if pk is not None else None
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
        payable = selectors_reconciliation.microsoft_payable_get(scope=self.scope, pk=pk) if pk is not None else None
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
        context = {"form": form, "payable": payable, "can_choose": True}  # the page is for writers only
        return render(request, self.template_name, context, status=status)


class MicrosoftPayableChooseView(ScopedViewMixin, View):
    """Finance picks which figure of a payable stands: the amount entered by hand or the imported one."""

    allowed_roles = CUSTOMER_WRITERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        payable = selectors_reconciliation.microsoft_payable_get(scope=self.scope, pk=pk)
        try:
            saved = reconciliation_services.microsoft_payable_choose(
                payable=payable, actor=self.scope.user, source=request.POST.get("source", "")
            )
        except BillingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Due to Microsoft for %(period)s: %(amount)s (%(source)s).")
                % {
                    "period": saved.period,
                    "amount": money(saved.amount, saved.currency),
                    "source": saved.get_source_display(),
                },
            )
        return redirect("payable_edit", pk=payable.pk)
