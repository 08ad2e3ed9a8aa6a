"""Pages of online payments: the staff settings, the customer's Pay buttons and return page, the pay
link (no sign-in), the demo provider's checkout, and Stripe's webhook endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing.invoicing import selectors as invoicing_selectors
from billing.invoicing.paylink import PayLinkInvalid
from billing.payments_online import selectors, services
from billing.payments_online.errors import OnlinePaymentError, WebhookRefused
from billing.payments_online.forms import ProviderAccountForm
from billing.payments_online.models import OnlineCheckout
from billing.payments_online.providers.demo import DEMO_CARD_CHOICES, DEMO_CARDS
from billing.payments_online.services.webhooks import STRIPE_EVENTS
from partner_portal import clock
from partner_portal.access import STAFF_MANAGERS, ScopedViewMixin
from partner_portal.models import CUSTOMER_ROLES, Role

CARD_MANAGERS = frozenset({Role.CUSTOMER_ADMIN})  # who saves, removes and opts in: the customer's admins


class OnlinePaymentsSettingsView(ScopedViewMixin, View):
    """The partner's payment provider (partner admins): secrets never shown back; recent checkouts
    with refunds and disputes flagged."""

    allowed_roles = STAFF_MANAGERS
    template_name = "billing/payments_online/settings.html"

    def _render(self, request: HttpRequest, form: ProviderAccountForm, status: int = 200) -> HttpResponse:
        partner = self.scope.partner
        context = {
            "form": form,
            "account": selectors.provider_account(scope=self.scope),
            "checkouts": list(selectors.checkout_list(scope=self.scope)),
            "partner": partner,
            "webhook_url": request.build_absolute_uri(reverse("stripe_webhook", kwargs={"partner": partner.slug})),
            "webhook_events": STRIPE_EVENTS,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        account = selectors.provider_account(scope=self.scope)
        return self._render(request, ProviderAccountForm(initial={"provider": account.provider} if account else {}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProviderAccountForm(request.POST)
        if form.is_valid():
            try:
                services.payment_provider_account_set(
                    partner=self.scope.partner, actor=self.scope.user, **form.cleaned_data
                )
            except OnlinePaymentError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, _("Payment provider saved."))
                return redirect("online_payments_settings")
        return self._render(request, form, status=400)


def _return_urls(request: HttpRequest, path: str) -> tuple[str, str]:
    """Where the provider sends the customer back: `path` with the checkout's id and what happened."""
    done = request.build_absolute_uri(path)
    joiner = "&" if "?" in done else "?"
    return f"{done}{joiner}checkout={{checkout}}&result=paid", f"{done}{joiner}checkout={{checkout}}&result=cancelled"


def _go(checkout: OnlineCheckout) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = checkout.url
    return response


class CustomerPayInvoiceView(ScopedViewMixin, View):
    """Pay now: a hosted checkout for one open invoice of the customer."""

    allowed_roles = CUSTOMER_ROLES

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = invoicing_selectors.invoice_get(scope=self.scope, pk=pk)
        success_url, cancel_url = _return_urls(request, reverse("customer_checkout"))
        try:
            checkout = services.checkout_start_invoice(
                invoice=invoice, actor=self.scope.user, success_url=success_url, cancel_url=cancel_url
            )
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
            return redirect("customer_home")
        return _go(checkout)


class CustomerPayOverdueView(ScopedViewMixin, View):
    """Pay the whole overdue balance in one checkout."""

    allowed_roles = CUSTOMER_ROLES

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.scope.customer is None:
            raise Http404
        success_url, cancel_url = _return_urls(request, reverse("customer_checkout"))
        try:
            checkout = services.checkout_start_overdue(
                customer=self.scope.customer, actor=self.scope.user, success_url=success_url, cancel_url=cancel_url
            )
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
            return redirect("customer_home")
        return _go(checkout)


def _outcome(checkout: OnlineCheckout | None, result: str) -> str:
    """What the return page says: paid (the webhook recorded it), confirming (the provider said paid,
    its event has not arrived yet), or not paid."""
    if checkout is not None and checkout.status in (OnlineCheckout.Status.PAID, OnlineCheckout.Status.REFUNDED,
                                                    OnlineCheckout.Status.DISPUTED):  # fmt: skip
        return "paid"
    if result == "paid" and checkout is not None and checkout.status == OnlineCheckout.Status.OPEN:
        return "confirming"
    return "not_paid"


class CustomerCardSetupView(ScopedViewMixin, View):
    """Save a card: off to the provider's page; the card is kept when its webhook says so."""

    allowed_roles = CARD_MANAGERS

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.scope.customer is None:
            raise Http404
        home = request.build_absolute_uri(reverse("customer_home"))
        try:
            started = services.card_setup_start(
                customer=self.scope.customer, actor=self.scope.user,
                success_url=f"{home}?card=saved#card-autopay", cancel_url=f"{home}?card=cancelled#card-autopay",
            )  # fmt: skip
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
            return redirect("customer_home")
        response = HttpResponse(status=303)
        response["Location"] = started.url
        return response


class CustomerAutopayView(ScopedViewMixin, View):
    """Turn autopay on or off (`enabled` = "on" or anything else)."""

    allowed_roles = CARD_MANAGERS

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.scope.customer is None:
            raise Http404
        enabled = request.POST.get("enabled") == "on"
        try:
            services.autopay_set(customer=self.scope.customer, actor=self.scope.user, enabled=enabled)
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Autopay is on: open invoices are charged to your card on their due date.")
                if enabled
                else _("Autopay is off: invoices are no longer charged to your card."),
            )
        return redirect(reverse("customer_home") + "#card-autopay")


class CustomerCardRemoveView(ScopedViewMixin, View):
    """Remove the saved card (detached at the provider); autopay turns off."""

    allowed_roles = CARD_MANAGERS

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.scope.customer is None:
            raise Http404
        try:
            services.card_remove(customer=self.scope.customer, actor=self.scope.user)
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Card removed. Autopay is off."))
        return redirect(reverse("customer_home") + "#card-autopay")


class CustomerCheckoutView(ScopedViewMixin, View):
    """Where the provider sends the customer back: says what happened to the payment."""

    allowed_roles = CUSTOMER_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        pk = request.GET.get("checkout", "")
        if not pk.isdigit():
            return redirect("customer_home")
        checkout = selectors.checkout_get(scope=self.scope, pk=pk)
        context = {
            "checkout": checkout,
            "outcome": _outcome(checkout, request.GET.get("result", "")),
            "back_url": reverse("customer_home"),
            "partner": self.scope.partner,
        }
        return render(request, "billing/payments_online/checkout_result.html", context)


class PayLinkView(View):
    """A pay link: one invoice and its partner's contacts, with a Pay button; no sign-in. The signed
    token is the only key; a forged or expired one shows nothing but that it cannot be used."""

    def _invoice(self, request: HttpRequest, token: str) -> Any:
        try:
            return selectors.pay_link_invoice(token=token)
        except PayLinkInvalid as exc:
            context = {"expired": exc.expired}
            return render(request, "billing/payments_online/pay_link_invalid.html", context, status=404)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invoice = self._invoice(request, token)
        if isinstance(invoice, HttpResponse):
            return invoice
        context = {
            "invoice": invoice,
            "partner": invoice.partner,
            "token": token,
            "can_pay": invoice.is_open and selectors.card_payments_offered(customer=invoice.customer),
            "today": clock.today(invoice.partner.time_zone),
        }
        return render(request, "billing/payments_online/pay_link.html", context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invoice = self._invoice(request, token)
        if isinstance(invoice, HttpResponse):
            return invoice
        success_url, cancel_url = _return_urls(request, reverse("pay_link_done", kwargs={"token": token}))
        try:
            checkout = services.checkout_start_invoice(
                invoice=invoice, actor=None, success_url=success_url, cancel_url=cancel_url
            )
        except OnlinePaymentError as exc:
            messages.error(request, str(exc))
            return redirect("pay_link", token=token)
        return _go(checkout)


class PayLinkDoneView(PayLinkView):
    """Where the provider sends a pay link's payer back."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invoice = self._invoice(request, token)
        if isinstance(invoice, HttpResponse):
            return invoice
        checkout = selectors.pay_link_last_checkout(invoice=invoice)
        context = {
            "checkout": checkout,
            "invoice": invoice,
            "outcome": _outcome(checkout, request.GET.get("result", "")),
            "back_url": reverse("pay_link", kwargs={"token": token}),
            "partner": invoice.partner,
        }
        return render(request, "billing/payments_online/checkout_result.html", context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        return HttpResponse(status=405)


class DemoCheckoutView(View):
    """The demo provider's hosted checkout page: pay or decline. Only where PAYMENTS_DEMO_PROVIDER is on."""

    def _checkout(self, session_id: str) -> OnlineCheckout:
        checkout = services.demo_checkout_get(session_id=session_id)
        if checkout is None:
            raise Http404
        return checkout

    def get(self, request: HttpRequest, session_id: str) -> HttpResponse:
        checkout = self._checkout(session_id)
        context = {"checkout": checkout, "partner": checkout.partner}
        return render(request, "billing/payments_online/demo_checkout.html", context)

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        checkout = self._checkout(session_id)
        if checkout.status != OnlineCheckout.Status.OPEN:
            return redirect(checkout.success_url if checkout.payment_id else checkout.cancel_url)
        return redirect(services.demo_checkout_finish(checkout=checkout, paid=request.POST.get("action") == "pay"))


class DemoCardSetupView(View):
    """The demo provider's page to save a card: one of Stripe's test cards, or cancel. Only where
    PAYMENTS_DEMO_PROVIDER is on; the session id in the address is the only key, as on Stripe's page."""

    def _card(self, session_id: str) -> Any:
        card = services.demo_card_setup_get(session_id=session_id)
        if card is None:
            raise Http404
        return card

    def get(self, request: HttpRequest, session_id: str) -> HttpResponse:
        card = self._card(session_id)
        context = {"card": card, "partner": card.partner, "test_cards": DEMO_CARD_CHOICES}
        return render(request, "billing/payments_online/demo_card_setup.html", context)

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        card = self._card(session_id)
        test_card = request.POST.get("card") if request.POST.get("action") == "save" else None
        services.demo_card_setup_finish(card=card, test_card=test_card)
        outcome = "saved" if test_card in DEMO_CARDS else "cancelled"
        return redirect(f"{reverse('customer_home')}?card={outcome}#card-autopay")


@method_decorator(csrf_exempt, name="dispatch")  # Stripe signs its deliveries; there is no session here
class StripeWebhookView(View):
    """Stripe's webhook endpoint of one partner (by slug or id): 200 once stored (or already stored),
    400 for anything not signed with the partner's secret."""

    def post(self, request: HttpRequest, partner: str) -> HttpResponse:
        try:
            services.webhook_receive(
                partner_ref=partner, payload=request.body, signature=request.headers.get("Stripe-Signature", "")
            )
        except WebhookRefused:
            return HttpResponse("refused", status=400, content_type="text/plain")
        except OnlinePaymentError:  # the provider did not answer a read the event needs: Stripe retries
            return HttpResponse("try again", status=503, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")
