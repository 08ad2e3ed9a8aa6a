"""Pages of Partner Center reconciliation imports: upload, progress, margins, mapping and billing usage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from billing.invoicing.errors import BillingError
from billing.invoicing.models import ZERO
from billing.invoicing.progress import newest_first_context, progress_context, progress_response
from billing.reconciliation import selectors, services
from billing.reconciliation.forms import ReconciliationMapForm, ReconciliationUploadForm, UsageBillForm
from billing.reconciliation.models import ReconciliationImport
from billing.templatetags.money import percent
from partner_portal.access import CUSTOMER_WRITERS, ScopedViewMixin

MARGIN_ROWS = 100  # rows of each margin table before "Show all"


UNMATCHED_GROUPS = 50  # unmatched Microsoft customers offered for mapping on one page


# A partner with more customers than this gets look-alike suggestions and a search box, not a list.
MAP_CUSTOMERS_LISTED = 500


def _margin_percent(margin: Decimal, billed: Decimal) -> Decimal | None:
    """The margin as a share of what was billed, to one place; None when nothing was billed."""
    return (margin * 100 / billed).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if billed else None


class ReconciliationListView(ScopedViewMixin, View):
    """Upload a Partner Center reconciliation file; the partner's imports, newest first."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/reconciliation/import_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ReconciliationUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReconciliationUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                submission = services.reconciliation_import_submit(
                    partner=self.scope.partner, actor=self.scope.user, file_name=upload.name or "",
                    content=b"".join(upload.chunks()), period=form.cleaned_data["period"] or None,
                )  # fmt: skip
            except BillingError as exc:
                form.add_error("period", str(exc))
            else:
                imp = submission.reconciliation_import
                if not submission.created:
                    messages.info(
                        request,
                        _("This file was uploaded before, on %(date)s: this is that import, unchanged.")
                        % {"date": formats.date_format(timezone.localtime(imp.created_at), "DATE_FORMAT")},
                    )
                return redirect("reconciliation_detail", pk=imp.pk)
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: ReconciliationUploadForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            **newest_first_context(request, selectors.reconciliation_import_list(scope=self.scope)),
        }
        return render(request, self.template_name, context, status=status)


class ReconciliationDetailView(ScopedViewMixin, View):
    """One import: its progress, its per-row errors when refused, or when done its totals, the
    Microsoft payable, margins, the unmatched customers to map and the usage to bill."""

    allowed_roles = CUSTOMER_WRITERS
    template_name = "billing/reconciliation/import_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        imp = selectors.reconciliation_import_get(scope=self.scope, pk=pk)
        return self.render_detail(request, imp)

    def render_detail(
        self,
        request: HttpRequest,
        imp: ReconciliationImport,
        *,
        map_form: ReconciliationMapForm | None = None,
        bill_form: UsageBillForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        context: dict[str, Any] = {"imp": imp, **progress_context(imp)}
        if imp.status == ReconciliationImport.Status.DONE:
            context |= self._done_context(request, imp, map_form=map_form, bill_form=bill_form)
        return render(request, self.template_name, context, status=status)

    def _done_context(
        self,
        request: HttpRequest,
        imp: ReconciliationImport,
        *,
        map_form: ReconciliationMapForm | None,
        bill_form: UsageBillForm | None,
    ) -> dict[str, Any]:
        scope = self.scope
        show_all = request.GET.get("rows") == "all"
        by_customer = selectors.reconciliation_margin_by_customer(scope=scope, reconciliation_import=imp)
        by_subscription = selectors.reconciliation_margin_by_subscription(scope=scope, reconciliation_import=imp)
        unmatched = selectors.reconciliation_unmatched_customers(scope=scope, reconciliation_import=imp)
        shown = unmatched[:UNMATCHED_GROUPS]
        choices = (
            selectors.reconciliation_map_choices(scope=scope, unmatched=shown, limit=MAP_CUSTOMERS_LISTED)
            if shown
            else None
        )
        failed_line = map_form.data.get("line") if map_form is not None else None
        groups = [
            {
                "group": group,
                "suggested": choices.suggested.get(group.ms_customer_id, []) if choices else [],
                # The form that was posted keeps its errors; every other group gets a fresh one.
                "form": map_form if failed_line == str(group.first_line_id) else None,
            }
            for group in shown
        ]
        shown_customers = by_customer if show_all else by_customer[:MARGIN_ROWS]
        shown_subscriptions = by_subscription if show_all else by_subscription[:MARGIN_ROWS]
        cost = sum((m.cost for m in by_customer), ZERO)
        billed = sum((m.billed for m in by_customer), ZERO)
        payables = selectors.microsoft_payables_for_imports(scope=scope, imports=[imp])
        return {
            "payable": payables.get((imp.period, imp.currency)),
            "margin_customers": [(m, _margin_percent(m.margin, m.billed)) for m in shown_customers],
            "margin_customers_total": len(by_customer),
            "margin_subscriptions": [(m, _margin_percent(m.margin, m.billed)) for m in shown_subscriptions],
            "margin_subscriptions_total": len(by_subscription),
            "margin_totals": {
                "cost": cost,
                "billed": billed,
                "margin": billed - cost,
                "percent": _margin_percent(billed - cost, billed),
            },
            "show_all": show_all,
            "margin_rows": MARGIN_ROWS,
            "unmatched_groups": groups,
            "unmatched_more": max(len(unmatched) - len(shown), 0),
            "map_choices": choices,
            "usage": selectors.reconciliation_usage_billing(scope=scope, reconciliation_import=imp),
            "bill_form": bill_form or UsageBillForm(),
        }


class ReconciliationStatusView(ScopedViewMixin, View):
    """The progress of an import as JSON, for the page's progress bar."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        imp = selectors.reconciliation_import_get(scope=self.scope, pk=pk)
        return progress_response(imp, done=imp.processed_lines, total=imp.total_lines, download_url=None)


class ReconciliationMapView(ReconciliationDetailView):
    """POST: map the unmatched lines of one Microsoft customer to one of the partner's customers."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        imp = selectors.reconciliation_import_get(scope=self.scope, pk=pk)
        if imp.status != ReconciliationImport.Status.DONE:
            messages.error(request, _("Lines can be mapped once the import is done."))
            return redirect("reconciliation_detail", pk=imp.pk)
        form = ReconciliationMapForm(request.POST, scope=self.scope)
        if not form.is_valid():
            return self.render_detail(request, imp, map_form=form, status=400)
        line = selectors.reconciliation_line_get(
            scope=self.scope, reconciliation_import=imp, pk=form.cleaned_data["line"]
        )
        customer = form.cleaned_data["customer"]
        try:
            count = services.reconciliation_line_map(line=line, customer=customer, actor=self.scope.user)
        except BillingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s line of %(name)s mapped to %(customer)s.",
                    "%(count)s lines of %(name)s mapped to %(customer)s.",
                    count,
                )
                % {"count": count, "name": line.customer_name or line.ms_customer_id, "customer": customer.name},
            )
        return redirect(f"{reverse('reconciliation_detail', args=[imp.pk])}#unmatched")


class ReconciliationBillUsageView(ReconciliationDetailView):
    """POST: bill the import's matched usage to the customers' draft invoices with a markup."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        imp = selectors.reconciliation_import_get(scope=self.scope, pk=pk)
        form = UsageBillForm(request.POST)
        if imp.status != ReconciliationImport.Status.DONE:
            messages.error(request, _("Usage can be billed once the import is done."))
            return redirect("reconciliation_detail", pk=imp.pk)
        if not form.is_valid():
            return self.render_detail(request, imp, bill_form=form, status=400)
        markup = form.cleaned_data["markup_percent"]
        try:
            invoices = services.reconciliation_usage_bill(
                reconciliation_import=imp, actor=self.scope.user, markup_percent=markup
            )
        except BillingError as exc:
            messages.error(request, str(exc))
        else:
            if invoices:
                messages.success(
                    request,
                    ngettext(
                        "Usage billed with a %(markup)s %% markup on %(count)s draft invoice: check it and issue it.",
                        "Usage billed with a %(markup)s %% markup on %(count)s draft invoices: check them and issue them.",
                        len(invoices),
                    )
                    % {"markup": percent(markup), "count": len(invoices)},
                )
            else:
                messages.info(request, _("There was no usage left to bill."))
        return redirect(f"{reverse('reconciliation_detail', args=[imp.pk])}#usage")
