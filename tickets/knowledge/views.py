"""Knowledge base pages: the partner's list, the form with its preview, publishing and deleting for the
support desk; the published articles, one article and the suggestions (JSON for the new ticket page's
script) for customer users. Thin, like every page: a form validates, a service acts, a selector reads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from partner_portal.access import ScopedViewMixin
from partner_portal.listing import KeysetListView
from partner_portal.models import CUSTOMER_ROLES, Role
from tickets.errors import ArticleInvalid
from tickets.knowledge import selectors, services
from tickets.knowledge.forms import ArticleFilterForm, ArticleForm, CustomerArticleFilterForm
from tickets.knowledge.models import Article
from tickets.knowledge.rendering import render_markdown

# Who writes the articles: the support desk (partner admins and agents), like the canned replies.
ARTICLE_MANAGERS = frozenset({Role.PARTNER_ADMIN, Role.SUPPORT_AGENT})
# The link from a suggestion on the new ticket page: ?from=ticket&flow=<the form's key>.
FROM_SUGGESTION = "ticket"


class ArticleListView(KeysetListView):
    """The partner's articles with full-text search, status and category filters, sorts and keyset pages,
    each with its views and what customers did after opening it from a suggestion."""

    allowed_roles = ARTICLE_MANAGERS
    template_name = "tickets/knowledge/list.html"
    filter_form_class = ArticleFilterForm
    sorts = selectors.ARTICLE_SORTS
    default_sort = "title"
    pagination_label = gettext_lazy("Pages of articles")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.ArticleFilters()
        return selectors.article_list(scope=self.scope, filters=filters), filters != selectors.ArticleFilters()


class ArticleFormView(ScopedViewMixin, View):
    """Create an article (no pk) or change one (pk). "Preview" shows both languages rendered beside the
    form without saving; the page needs no script for it."""

    allowed_roles = ARTICLE_MANAGERS
    template_name = "tickets/knowledge/form.html"

    def _article(self, pk: int | None) -> Article | None:
        return selectors.article_get(scope=self.scope, pk=pk) if pk is not None else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        article = self._article(pk)
        return self._render(request, ArticleForm(article=article), article)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        article = self._article(pk)
        form = ArticleForm(request.POST, article=article)
        if form.is_valid() and "preview" in request.POST:
            return self._render(request, form, article, preview=True)
        if form.is_valid():
            try:
                saved = services.article_save(
                    partner=self.scope.partner, actor=self.scope.user, data=form.article_input(), article=article
                )
            except ArticleInvalid as exc:
                form.add_service_errors(exc.fields)
                if not exc.fields:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, _("Article %(title)s saved.") % {"title": saved})
                return redirect("knowledge_article_edit", saved.pk)
        return self._render(request, form, article, status=400)

    def _render(
        self, request: HttpRequest, form: ArticleForm, article: Article | None, status: int = 200,
        preview: bool = False,
    ) -> HttpResponse:  # fmt: skip
        context: dict[str, Any] = {"form": form, "article": article}
        if preview:
            d = form.cleaned_data
            context["previews"] = [
                (code, label, d.get(f"title_{code}") or "", render_markdown(d.get(f"body_{code}") or ""))
                for code, label in (("en", _("English")), ("ru", _("Russian")))
            ]
        if article is not None:
            context["stats"] = selectors.article_stats(scope=self.scope, article=article)
        return render(request, self.template_name, context, status=status)


class ArticlePublishView(ScopedViewMixin, View):
    """Publish an article to the partner's customers, or take it back to a draft (POST publish=1 or 0)."""

    allowed_roles = ARTICLE_MANAGERS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        article = selectors.article_get(scope=self.scope, pk=pk)
        publish = request.POST.get("publish") == "1"
        article = services.article_publish(
            partner=self.scope.partner, actor=self.scope.user, article=article, publish=publish
        )
        if publish:
            messages.success(
                request, _("Article %(title)s published: your customers can read it.") % {"title": article}
            )
        else:
            messages.success(request, _("Article %(title)s is a draft again: customers no longer see it.") % {
                "title": article})  # fmt: skip
        return redirect("knowledge_article_edit", article.pk)


class ArticleDeleteView(ScopedViewMixin, View):
    """Ask, then delete."""

    allowed_roles = ARTICLE_MANAGERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        article = selectors.article_get(scope=self.scope, pk=pk)
        return render(request, "tickets/knowledge/delete.html", {"article": article})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        article = selectors.article_get(scope=self.scope, pk=pk)
        services.article_delete(partner=self.scope.partner, actor=self.scope.user, article=article)
        messages.success(request, _("Article %(title)s deleted.") % {"title": article})
        return redirect("knowledge_article_list")


# ---- Customers ------------------------------------------------------------------------------------


class CustomerArticleListView(KeysetListView):
    """The published articles of the customer's partner, searched in English and Russian."""

    allowed_roles = CUSTOMER_ROLES
    template_name = "tickets/knowledge/customer_list.html"
    filter_form_class = CustomerArticleFilterForm
    sorts = selectors.CUSTOMER_ARTICLE_SORTS
    default_sort = "title"
    pagination_label = gettext_lazy("Pages of articles")

    def list_rows(self, form: Any) -> tuple[Any, bool]:
        filters = form.filters() if form is not None else selectors.ArticleFilters()
        rows = selectors.customer_article_list(scope=self.scope, filters=filters)
        return rows, filters != selectors.ArticleFilters()


class CustomerArticleView(ScopedViewMixin, View):
    """One article in the page's language (else the other one). Counts a view; opened from a suggestion
    on the new ticket page (?from=ticket&flow=…) it records that too, for the form's ticket to settle."""

    allowed_roles = CUSTOMER_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        article = selectors.article_get(scope=self.scope, pk=pk)
        assert self.scope.customer is not None  # noqa: S101 - customer roles only
        services.article_viewed(article=article)
        flow = request.GET.get("flow", "")
        from_ticket = request.GET.get("from") == FROM_SUGGESTION and services.is_flow(flow)
        if from_ticket:
            services.article_suggestion_opened(
                customer=self.scope.customer, user=self.scope.user, article=article, flow=flow
            )
        title, body, language = article.text_for(translation.get_language() or "en")
        context = {
            "article": article, "title": title, "body": render_markdown(body), "language": language,
            "from_ticket": from_ticket,
        }  # fmt: skip
        response = render(request, "tickets/knowledge/customer_article.html", context)
        response["Cache-Control"] = "private, no-store"
        return response


class CustomerArticleSuggestView(ScopedViewMixin, View):
    """The articles matching what the customer typed as a new ticket's subject (?q=), as JSON for the
    script of the new ticket page: {"articles": [{"id", "title", "excerpt", "language", "url"}]}."""

    allowed_roles = CUSTOMER_ROLES

    def get(self, request: HttpRequest) -> JsonResponse:
        found = selectors.article_suggest(
            scope=self.scope, text=request.GET.get("q", "")[:200], language=translation.get_language() or "en"
        )
        for item in found:
            item["url"] = reverse("customer_knowledge_article", args=[item["id"]])
        response = JsonResponse({"articles": found})
        response["Cache-Control"] = "private, no-store"
        return response
