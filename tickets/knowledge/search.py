"""Full-text search of the articles.

PostgreSQL: one vector per language, `to_tsvector('english', …)` over the English title (weight A) and
text (weight B), `to_tsvector('russian', …)` over the Russian ones, each with a GIN index on that same
expression (created by the migration through `search_indexes`), so a search reads the index, not the
table. A query is parsed as web search (`websearch_to_tsquery`: words, "quoted phrases", -not) in both
configurations, and the matches are ranked with `ts_rank`, a title word weighing more than a text word.
The Russian configuration stems (счета, счёт and счет are one word: Snowball folds ё into е).

SQLite (the embedded setup) has no full-text search here: every word of the query, a long word less
its last two letters, must appear in a title or text (`icontains`; for suggestions any word of four
letters or more), and a title match comes first. SQLite folds the case of ASCII letters only.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, migrations
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.expressions import CombinedExpression

CONFIGS = {"en": "english", "ru": "russian"}
INDEX_NAMES = {"en": "article_search_en_idx", "ru": "article_search_ru_idx"}
QUERY_MAX = 200


def search_vector(language: str) -> CombinedExpression:
    config = CONFIGS[language]
    return SearchVector(f"title_{language}", weight="A", config=config) + SearchVector(
        f"body_{language}", weight="B", config=config
    )


def _query(text: str, config: str, any_word: bool) -> SearchQuery:
    if not any_word:
        return SearchQuery(text, search_type="websearch", config=config)
    words = [SearchQuery(word, search_type="plain", config=config) for word in text.split()[:10]]
    return reduce(or_, words)


def search(qs: QuerySet[Any], text: str, *, any_word: bool = False, vendor: str | None = None) -> QuerySet[Any]:
    """`qs` narrowed to the articles matching `text`, with a `rank` annotation (higher is better).
    Every word must match, unless `any_word` (the suggestions: a subject is a sentence, and the articles
    matching more of its words rank higher). `vendor` picks the way (the database's own by default; the
    tests run the SQLite one on PostgreSQL)."""
    text = " ".join(text.split())[:QUERY_MAX]
    if not text:
        return qs.annotate(rank=Value(0.0, output_field=FloatField()))
    if (vendor or connection.vendor) == "postgresql":
        queries = {code: _query(text, config, any_word) for code, config in CONFIGS.items()}
        qs = qs.annotate(**{f"vector_{code}": search_vector(code) for code in CONFIGS})
        qs = qs.filter(Q(vector_en=queries["en"]) | Q(vector_ru=queries["ru"]))
        return qs.annotate(rank=SearchRank(F("vector_en"), queries["en"]) + SearchRank(F("vector_ru"), queries["ru"]))
    in_title, anywhere = Q(), Q()
    for word in text.split()[:10]:
        if any_word and len(word) < 4:  # "a", "my", "how": matching them matches everything
            continue
        word = word[:-2] if len(word) > 5 else word  # a crude stem: "invoices" finds "invoice"
        title = Q(title_en__icontains=word) | Q(title_ru__icontains=word)
        both = title | Q(body_en__icontains=word) | Q(body_ru__icontains=word)
        in_title, anywhere = (in_title | title, anywhere | both) if any_word else (in_title & title, anywhere & both)
    if any_word and not anywhere:
        return qs.none().annotate(rank=Value(0.0, output_field=FloatField()))
    return qs.filter(anywhere).annotate(
        rank=Case(When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField())
    )


def search_indexes() -> migrations.RunPython:
    """The migration operation creating the GIN indexes of `search_vector` on PostgreSQL (nothing on
    SQLite). Built from the same expression the search uses, so the planner can use them."""
    from django.contrib.postgres.indexes import GinIndex

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model("tickets", "Article")
        for code, name in INDEX_NAMES.items():
            schema_editor.add_index(model, GinIndex(search_vector(code), name=name))

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in INDEX_NAMES.values():
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(forward, backward, elidable=False)
