"""Billing pages for partner staff. Thin: a form validates, a service acts, a selector reads."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.views import View

from billing import exports, selectors
from billing.forms import InvoiceFilterForm
from partner_portal import clock
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin


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
    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        payments = selectors.payment_list(scope=self.scope)
        return _csv_response(
            exports.payments_csv(payments), f"payments-{clock.today(self.scope.partner.time_zone)}.csv"
        )
