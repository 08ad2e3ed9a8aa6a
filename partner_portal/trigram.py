"""Trigram indexes for the lists' searches, which match with `icontains` (`UPPER(col::text) LIKE
UPPER('%term%')` on PostgreSQL): a GIN index on that same expression with `gin_trgm_ops` answers it
without reading the table. PostgreSQL only; on SQLite (the embedded default) the migrations do nothing.

Kept out of the models' `Meta.indexes` (Django cannot express the `::text` cast of the lookup), so
the migrations that create them call these operations.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def trigram_indexes(*indexes: tuple[str, str, str]) -> migrations.RunPython:
    """A migration operation creating (name, table, column) trigram indexes on PostgreSQL, and pg_trgm."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in indexes:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _column in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(forward, backward, elidable=False)
