"""The notice wording pages: the steps and their templates, one step's editor with a preview on a
customer's real figures and a test send, and the dry run ("what would the next run do").

Every staff role reads the wording and previews the saved texts; partner admins change it, preview a
draft and send a test to themselves; admins and finance see the dry run (it runs the real run and
rolls it back). Another partner's step or customer is a 404 (selectors given the request's scope).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views import View

from billing.collections import notice_text, selectors, services
from billing.collections.errors import NoticePreviewUnavailable, NoticeTemplateInvalid
from billing.collections.forms import DryRunForm, NoticePreviewForm, NoticeTemplateForm
from billing.collections.models import CollectionStep, NoticeTemplate
from partner_portal import selectors as core_selectors
from partner_portal.access import CUSTOMER_WRITERS, STAFF_MANAGERS, ScopedViewMixin
from partner_portal.models import STAFF_ROLES

FIELDS = ("subject_en", "body_en", "subject_ru", "body_ru")


class NoticeTemplateListView(ScopedViewMixin, View):
    """The policy's steps, each with its notice wording: the partner's own or the built-in one."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest) -> HttpResponse:
        policy = services.collection_policy_get(partner=self.scope.partner)
        rows = selectors.notice_template_rows(scope=self.scope, policy=policy)
        context = {
            "rows": rows,
            "can_edit": self.scope.has_role(STAFF_MANAGERS),
            "can_dry_run": self.scope.has_role(CUSTOMER_WRITERS),
        }
        return render(request, "billing/collections/notice_templates.html", context)


def _initial(template: NoticeTemplate | None, step: CollectionStep) -> dict[str, str]:
    if template is not None:
        return {name: getattr(template, name) for name in FIELDS}
    english = notice_text.default_texts(
        action=step.action, offset_days=step.offset_days, language="en", policy=step.policy
    )
    russian = notice_text.default_texts(
        action=step.action, offset_days=step.offset_days, language="ru", policy=step.policy
    )
    return {
        "subject_en": english.subject,
        "body_en": english.body,
        "subject_ru": russian.subject,
        "body_ru": russian.body,
    }


class NoticeTemplateEditView(ScopedViewMixin, View):
    """One step's notice wording. GET: the saved (or built-in) texts and a preview of them for a chosen
    customer and language. POST (partner admins): save, preview the draft, send a test, or reset."""

    allowed_roles = STAFF_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        step = selectors.collection_step_get(scope=self.scope, pk=pk)
        template = services.notice_template_get(partner=self.scope.partner, offset_days=step.offset_days,
                                                action=step.action)  # fmt: skip
        form = NoticeTemplateForm(initial=_initial(template, step))
        chooser = self._chooser(request.GET if "customer" in request.GET else None)
        return self._render(request, step, template, form, chooser, draft=None)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.scope.has_role(STAFF_MANAGERS):
            raise PermissionDenied
        step = selectors.collection_step_get(scope=self.scope, pk=pk)
        partner, actor, do = self.scope.partner, self.scope.user, request.POST.get("do", "save")
        if do == "reset":
            if services.notice_template_reset(partner=partner, step=step, actor=actor):
                messages.success(request, _("The notice is back to the built-in wording."))
            return redirect("collection_notice_template_edit", pk=step.pk)
        template = services.notice_template_get(partner=partner, offset_days=step.offset_days, action=step.action)
        form = NoticeTemplateForm(request.POST)
        chooser = self._chooser(request.POST)
        if not form.is_valid():
            messages.error(request, _("Nothing was saved or sent. Please correct the highlighted fields below."))
            return self._render(request, step, template, form, chooser, draft=None, status=400)
        draft = services.NoticeDraft(**{name: form.cleaned_data[name] for name in FIELDS})
        try:
            if do == "save":
                services.notice_template_save(partner=partner, step=step, actor=actor, draft=draft)
                messages.success(request, _("Notice wording saved. The next run sends it."))
                url = reverse("collection_notice_template_edit", kwargs={"pk": step.pk})
                if chooser.is_valid():
                    url += f"?customer={chooser.cleaned_data['customer']}&language={chooser.cleaned_data['language']}"
                return redirect(url)
            if do == "test" and chooser.is_valid():
                customer = core_selectors.customer_get(scope=self.scope, pk=chooser.cleaned_data["customer"])
                to = services.notice_template_test_send(
                    partner=partner, step=step, customer=customer, language=chooser.cleaned_data["language"],
                    actor=actor, draft=draft,
                )  # fmt: skip
                messages.success(request, _("Test notice sent to %(email)s.") % {"email": to})
        except NoticeTemplateInvalid as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            return self._render(request, step, template, form, chooser, draft=None, status=400)
        except NoticePreviewUnavailable as exc:
            messages.error(request, str(exc))
        return self._render(request, step, template, form, chooser, draft=draft)

    def _chooser(self, data: Any) -> NoticePreviewForm:
        customers = list(selectors.notice_preview_customers(scope=self.scope))
        initial = {"customer": customers[0].pk if customers else None, "language": "en"}
        return NoticePreviewForm(data, customers=customers, initial=initial)

    def _preview(self, step: CollectionStep, chooser: NoticePreviewForm, draft: services.NoticeDraft | None) -> Any:
        if chooser.is_bound:
            if not chooser.is_valid():
                return None
            customer_id, language = chooser.cleaned_data["customer"], chooser.cleaned_data["language"]
        else:
            customer_id, language = chooser.initial["customer"], chooser.initial["language"]
        if customer_id is None:
            return None
        customer = core_selectors.customer_get(scope=self.scope, pk=customer_id)
        try:
            notice = services.notice_preview_notice(partner=self.scope.partner, step=step, customer=customer)
        except NoticePreviewUnavailable as exc:
            return {"error": str(exc)}
        content = services.notice_content(notice=notice, language=language, draft=draft)
        return {"content": content, "notice": notice, "customer": customer, "language": language}

    def _render(self, request: HttpRequest, step: CollectionStep, template: NoticeTemplate | None,
                form: NoticeTemplateForm, chooser: NoticePreviewForm, *, draft: services.NoticeDraft | None,
                status: int = 200) -> HttpResponse:  # fmt: skip
        can_edit = self.scope.has_role(STAFF_MANAGERS)
        if not can_edit:
            for field in form.fields.values():
                field.disabled = True
        context = {
            "step": step,
            "template": template,
            "form": form,
            "chooser": chooser,
            "preview": self._preview(step, chooser, draft) if status == 200 else None,
            "draft": draft,
            "variables": [(name, str(text)) for name, text in notice_text.VARIABLES.items()],
            "can_edit": can_edit,
        }
        return render(request, "billing/collections/notice_template_edit.html", context, status=status)


class CollectionDryRunView(ScopedViewMixin, View):
    """What the next run would do, per customer and invoice: the real run, rolled back. Admins and finance."""

    allowed_roles = CUSTOMER_WRITERS

    def get(self, request: HttpRequest) -> HttpResponse:
        form = DryRunForm(request.GET or None)
        run_date = selectors.collection_next_run_date(scope=self.scope)
        if form.is_bound and form.is_valid() and form.cleaned_data["date"]:
            run_date = form.cleaned_data["date"]
        elif not form.is_bound:
            form = DryRunForm(initial={"date": run_date})
        dry = services.collections_dry_run(partner=self.scope.partner, run_date=run_date, actor=self.scope.user)
        customers: OrderedDict[int, dict[str, Any]] = OrderedDict()
        for notice in dry.notices:
            entry = customers.setdefault(notice.customer_id, {"name": notice.customer, "notices": [], "changes": []})
            entry["notices"].append(notice)
        for change in dry.changes:
            entry = customers.setdefault(change.customer_id, {"name": change.customer, "notices": [], "changes": []})
            entry["changes"].append(change)
        context = {
            "form": form,
            "dry": dry,
            "run_date_text": formats.date_format(run_date, "DATE_FORMAT"),
            "customers": list(customers.values()),
        }
        return render(request, "billing/collections/dry_run.html", context)
