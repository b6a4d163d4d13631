"""Many rows into one table at once: PostgreSQL's COPY where the database is PostgreSQL (about
ten times faster than INSERTs for a million rows, and no model instance per row), bulk_create
elsewhere (the embedded SQLite default).

Rows are tuples in the order of ``fields`` (model field names; a foreign key as its ``*_id``
attribute). Values are written as CSV text: ``None`` is NULL, a dict or list is JSON, a date is
ISO. Triggers and constraints apply as to any INSERT: the append-only tables stay append-only.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

# Rows per COPY statement: bounds the memory of the text buffer for a 10-million-row list.
COPY_ROWS = 200_000
# After this many rows, fresh statistics now rather than whenever autovacuum comes by: with
# stale ones the planner may read a whole scope for a lookup of a few serials.
ANALYZE_ROWS = 50_000


def bulk_insert(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``model``'s table; the number of rows written."""
    if connection.vendor != "postgresql":
        objects = (model(**dict(zip(fields, row, strict=True))) for row in rows)
        return len(model._default_manager.bulk_create(objects, batch_size=5000))
    meta = model._meta
    concrete = {field.attname: field for field in meta.concrete_fields}
    chosen = [concrete[name] for name in fields]
    columns = [str(field.column) for field in chosen]
    text_columns = [
        str(field.column)
        for field in chosen
        if field.get_internal_type() in ("CharField", "TextField", "SlugField")
    ]
    # The csv module writes str() of what is not text: right for numbers, dates ("2026-11-24"),
    # times and booleans ("True", which PostgreSQL reads), wrong only for JSON.
    json_positions = [
        i for i, field in enumerate(chosen) if field.get_internal_type() == "JSONField"
    ]
    # CSV format: an unquoted empty field is NULL; FORCE_NOT_NULL keeps an empty text as "".
    options = "FORMAT csv"
    if text_columns:
        options += f", FORCE_NOT_NULL ({', '.join(text_columns)})"
    sql = f"COPY {meta.db_table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
    prepared: Iterable[Sequence[Any]] = (
        (_with_json(row, json_positions) for row in rows) if json_positions else rows
    )
    total = 0
    iterator = iter(prepared)
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no COPY
        while True:
            chunk = list(itertools.islice(iterator, COPY_ROWS))
            if chunk:
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(chunk)
                buffer.seek(0)
                with connection.wrap_database_errors:  # psycopg2's errors as Django's
                    raw_cursor.copy_expert(sql, buffer)
                total += len(chunk)
            if len(chunk) < COPY_ROWS:
                break
    if total >= ANALYZE_ROWS:
        # Once the rows are committed: ANALYZE takes a lock that a second ANALYZE of the table
        # waits for, and inside the job's transaction two big lists would wait for each other
        # until the first one's commit.
        transaction.on_commit(lambda: _analyze(meta.db_table))
    return total


def _analyze(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def _with_json(row: Sequence[Any], positions: list[int]) -> list[Any]:
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = json.dumps(values[i], separators=(",", ":"), ensure_ascii=False)
    return values
