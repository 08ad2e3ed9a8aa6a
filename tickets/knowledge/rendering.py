"""Markdown to HTML for the articles: markdown-it-py (CommonMark, raw HTML off, tables on), then nh3
(the Rust `ammonia` sanitiser) with an allow-list of tags and attributes and http, https and mailto links
only. The sanitiser is the guarantee: whatever the Markdown parser lets through, a `<script>`, an event
handler attribute or a `javascript:` link does not reach the page."""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th",  "td",
}  # fmt: skip
# No images (a remote picture is a tracking pixel, and the CSP would block it) and no style attributes
# (the CSP allows no inline style): a table's column alignment is dropped.
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> SafeString:
    """The article's Markdown as sanitised HTML, safe to put into a page."""
    html = _PARSER.render(text or "")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


def plain_text(text: str) -> str:
    """The article's Markdown as plain text (no tags), for excerpts in lists and suggestions."""
    return " ".join(nh3.clean(_PARSER.render(text or ""), tags=set()).split())
