"""A customer field that does not grow with the partner: a type-ahead instead of a `<select>`.

A `<select>` of every customer costs a partner with 100,000 customers megabytes of HTML on every
list page. `CustomerField` renders one text box (and the chosen customer's id in a hidden input);
the script fills a list of matches from the customers API as the user types (`?search=`), and the
keyboard moves through it. Without the script the typed text is resolved on submit: an exact name
or domain, else the one customer whose name or domain starts with it; several or none is a field
error that says so, never a silent guess.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.template import loader
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from partner_portal.models import Customer

SEARCH_SUFFIX = "_search"
StrOrPromise = str | Promise


class CustomerLookupWidget(forms.Widget):
    template_name = "components/_customer_lookup.html"

    def __init__(self, attrs: dict[str, Any] | None = None, placeholder: StrOrPromise = "") -> None:
        super().__init__(attrs)
        self.placeholder = placeholder

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> str:
        # The template lives with the project's components, which the default form renderer does not search.
        return mark_safe(loader.render_to_string(template_name, context))  # noqa: S308 - an autoescaped template

    def value_from_datadict(self, data: Any, files: Any, name: str) -> tuple[str, str]:
        """(the chosen id, the typed text): the field decides which one speaks."""
        return str(data.get(name) or ""), str(data.get(name + SEARCH_SUFFIX) or "")

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and name + SEARCH_SUFFIX not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        pk, text = value if isinstance(value, tuple) else ("", "")
        context["widget"].update(
            chosen=pk,
            text=text,
            search_name=name + SEARCH_SUFFIX,
            lookup_url=reverse("v1:customer-list"),
            placeholder=self.placeholder,
        )
        return context


class CustomerField(forms.ModelChoiceField):
    """One customer of the form's queryset (set it to the scoped customers), chosen by type-ahead."""

    widget = CustomerLookupWidget
    default_error_messages = {
        "invalid_choice": _("That customer is not one of yours."),
        "no_match": _("No customer's name or domain matches “%(text)s”."),
        "ambiguous": _("%(count)s customers match “%(text)s”: type more of the name, or choose one from the list."),
    }

    def __init__(self, *, placeholder: StrOrPromise = "", **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Customer.objects.none())
        kwargs.setdefault("empty_label", None)
        # Lazy: the placeholder is translated when a page is rendered, in its language.
        kwargs.setdefault("widget", CustomerLookupWidget(placeholder=placeholder or _("Type a name or domain")))
        super().__init__(**kwargs)

    @property
    def customers(self) -> QuerySet[Customer]:
        assert self.queryset is not None, "set the field's queryset to the scoped customers"  # noqa: S101
        return self.queryset

    def prepare_value(self, value: Any) -> tuple[str, str]:
        """What the widget shows: (id, text). One query at most, for the chosen customer's name."""
        if isinstance(value, tuple):
            pk, text = value
            if text or not pk:  # what was typed stays in the box, to be corrected
                return value
            value = pk  # chosen by a link (?customer=12): show its name
        if isinstance(value, Customer):
            return str(value.pk), value.name
        if value in self.empty_values or not str(value).isdigit():
            return "", ""
        name = self.customers.filter(pk=value).values_list("name", flat=True).first()
        return (str(value), name) if name is not None else ("", "")

    def to_python(self, value: Any) -> Customer | None:
        pk, text = value if isinstance(value, tuple) else (str(value or ""), "")
        text = text.strip()
        if pk.isdigit():
            customer = self.customers.filter(pk=pk).first()
            if customer is None:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            # The text box still shows the chosen name unless someone typed another one (no script).
            if not text or text == customer.name:
                return customer
        elif pk:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return self._match(text) if text else None

    def _match(self, text: str) -> Customer:
        exact = list(self.customers.filter(Q(name__iexact=text) | Q(domain__iexact=text))[:2])
        matches = exact or list(self.customers.filter(Q(name__istartswith=text) | Q(domain__istartswith=text))[:21])
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise forms.ValidationError(self.error_messages["no_match"], code="no_match", params={"text": text})
        shown = "20+" if len(matches) > 20 else str(len(matches))
        raise forms.ValidationError(
            self.error_messages["ambiguous"],
            code="ambiguous",
            params={"count": shown, "text": text},
        )

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return str(self.prepare_value(initial)[0]) != str(self.prepare_value(data)[0])
