"""Append-only at the database: one declaration for every record a decision rests on.

``append_only()`` gives the PostgreSQL triggers (django-pgtrigger, installed by the migrations;
nothing on SQLite) for a model's ``Meta.triggers``:

- a row trigger refusing ``UPDATE`` and ``DELETE`` (``<prefix>append_only``);
- a statement trigger refusing ``TRUNCATE`` (``<prefix>no_truncate``), which row triggers never
  see.

Some records have a working state beside their result: a serial list's job goes queued →
running → done, an exception's status follows its answers and decisions, a pending registry
run is replaced until the batch is accepted. For those, the declaration names exactly what may
change and when, and the database refuses the rest:

- ``mutable``: the only columns an ``UPDATE`` may change (any other change is refused);
- ``update_refused_when``: a condition on ``old__``/``new__`` (a ``pgtrigger.Q``) under which any
  ``UPDATE`` is refused, such as a finished job or an illegal status transition;
- ``delete_allowed_when``: a condition on ``old__`` under which ``DELETE`` is allowed (derived
  rows not yet accepted); by default ``DELETE`` is refused.

``tests/portal/test_immutability.py`` enumerates every model: each record a decision rests on
must carry these triggers, in the code and in the database.
"""

from __future__ import annotations

from collections.abc import Sequence

import pgtrigger

APPEND_ONLY = "append_only"
NO_TRUNCATE = "no_truncate"


class RefuseTruncate(pgtrigger.Trigger):
    """A statement trigger refusing ``TRUNCATE`` (pgtrigger's ``Protect`` covers rows only)."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement

    def get_func(self, model: object) -> str:
        return (
            "RAISE EXCEPTION 'pgtrigger: Cannot truncate % table: its records are append-only',"
            " TG_TABLE_NAME;"
        )


def append_only(
    *,
    prefix: str = "",
    mutable: Sequence[str] = (),
    update_refused_when: pgtrigger.Q | None = None,
    delete_allowed_when: pgtrigger.Q | None = None,
) -> list[pgtrigger.Trigger]:
    """The triggers that keep a model's rows as they were written (see the module's doc)."""
    no_truncate = RefuseTruncate(name=f"{prefix}{NO_TRUNCATE}")
    if not mutable and update_refused_when is None and delete_allowed_when is None:
        protect = pgtrigger.Protect(
            name=f"{prefix}{APPEND_ONLY}", operation=pgtrigger.Update | pgtrigger.Delete
        )
        return [protect, no_truncate]
    triggers: list[pgtrigger.Trigger] = [
        pgtrigger.Protect(
            name=f"{prefix}{APPEND_ONLY}",
            operation=pgtrigger.Update,
            condition=pgtrigger.AnyChange(exclude=list(mutable)),
        ),
        pgtrigger.Protect(
            name=f"{prefix}no_delete",
            operation=pgtrigger.Delete,
            condition=~delete_allowed_when if delete_allowed_when is not None else None,
        ),
        no_truncate,
    ]
    if update_refused_when is not None:
        triggers.append(
            pgtrigger.Protect(
                name=f"{prefix}transitions",
                operation=pgtrigger.Update,
                condition=update_refused_when,
            )
        )
    return triggers


def is_append_only(triggers: Sequence[pgtrigger.Trigger]) -> bool:
    """The model's triggers include both halves of ``append_only()``."""
    names = {trigger.name or "" for trigger in triggers}
    return any(name.endswith(APPEND_ONLY) for name in names) and any(
        name.endswith(NO_TRUNCATE) for name in names
    )


class ParentOnInsert(pgtrigger.Trigger):
    """The check a foreign key makes, once per INSERT statement instead of once per row.

    Registry rows and placements are written a million at a time (COPY); a foreign key checks
    each row against its parent, and those checks were the largest part of writing a big list's
    result. Such a key is declared ``db_constraint=False`` and this trigger runs after the
    statement over the rows it inserted (``REFERENCING NEW TABLE``): every row must name an
    existing parent through ``via``, with the same value in each column of ``same`` (a placement
    names its list's own batch, which the foreign key on the batch never checked). Parents are
    append-only with DELETE refused, and the columns never change after insert, so the check at
    insert is the whole check. A violation raises ``foreign_key_violation`` (an IntegrityError).
    """

    when = pgtrigger.After
    operation = pgtrigger.Insert
    level = pgtrigger.Statement
    referencing = pgtrigger.Referencing(new="new_rows")

    def __init__(self, *, name: str, via: str, same: Sequence[str] = ()) -> None:
        self.via = via
        self.same = tuple(same)
        super().__init__(name=name)

    def get_func(self, model: object) -> str:
        meta = model._meta  # type: ignore[attr-defined]
        key = meta.get_field(self.via)
        parent = key.related_model._meta
        joined = [f"parent.{parent.pk.column} = new_row.{key.column}"] + [
            f"parent.{parent.get_field(name).column} = new_row.{meta.get_field(name).column}"
            for name in self.same
        ]
        return (
            f"IF EXISTS (SELECT 1 FROM new_rows new_row LEFT JOIN {parent.db_table} parent ON "  # noqa: S608 - names from the models, never a value
            f"{' AND '.join(joined)} WHERE parent.{parent.pk.column} IS NULL) THEN "
            f"RAISE EXCEPTION 'a row of % names no {parent.verbose_name} it belongs to', "
            "TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation'; END IF; RETURN NULL;"
        )
