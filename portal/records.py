"""Every record a decision rests on has its content hash in the audit event that recorded it.

An app declares, per model, the fields that must never change and the events that record them
(``Seal``), with ``portal.integrity.records_register`` in its ``AppConfig.ready()``.
``audit_log`` asks ``content_seal`` for what to add to an event's payload, reading the rows as
the database holds them in the event's own transaction; the app's ``<app>-records`` part of
``integrity_verify`` re-reads every row in bulk and compares.

- A row seal (``parent`` None): the event names the row itself; its payload carries
  ``content_sha256``, the SHA-256 of the row's id and fields as canonical JSON.
- A group seal (``parent``: the lookup from the model to the object the event names): rows
  written with or under that object (a list's placements, an approval's pins, an exception's
  answers) are hashed together, ordered by id, up to the newest at the time; the payload
  carries ``contents[<app.Model>] = {rows, first_id, last_id, sha256}``. Later events of the
  same object seal the rows added since; a row no event covers is a finding too.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from portal.models import SEAL_KEYS

CONTENT_KEY, CONTENTS_KEY = SEAL_KEYS


@dataclass(frozen=True)
class Seal:
    model: type[Any]  # a Django model
    fields: tuple[str, ...]  # what must never change (the id is always included)
    actions: tuple[str, ...]  # the audit actions whose events record it
    parent: str | None = None  # group seal: the lookup to the object the event names
    # Row seals: which rows must have such an event (a Q); None: every row.
    required: Any = None
    # Group seals: the parents whose rows may have been deleted as a whole, legally (pending
    # registry rows replaced by a newer list).
    replaceable: Callable[[], set[int]] | None = None

    @property
    def label(self) -> str:
        return str(self.model._meta.label)

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def parent_model(self) -> type[Any]:
        assert self.parent is not None
        model = self.model
        for name in self.parent.split("__"):
            model = model._meta.get_field(name).related_model
        return model


_seals: dict[str, list[Seal]] = {}  # by action


def _json_default(value: object) -> object:
    """What JSON has no type for: dates and times as ISO 8601; decimals, UUIDs and file names
    as their text."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# One encoder for every line: json.dumps with these options would build a new one per row,
# a third of the cost of sealing a million placements. The bytes are the same.
_CANONICAL = json.JSONEncoder(
    default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
)


def content_line(values: Iterable[object]) -> bytes:
    """One row (its id first, then the sealed fields in order) as canonical JSON."""
    return _CANONICAL.encode(list(values)).encode()


def content_sha256(values: Iterable[object]) -> str:
    return hashlib.sha256(content_line(values)).hexdigest()


def row_hashes(seal: Seal, **filters: object) -> Iterator[tuple[int, str]]:
    rows = seal.model._default_manager.filter(**filters).order_by("id")
    for values in rows.values_list("id", *seal.fields).iterator(chunk_size=5000):
        yield values[0], content_sha256(values)


@dataclass
class SealedGroup:
    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    hasher: Any = field(default_factory=hashlib.sha256)

    def add(self, values: tuple[Any, ...]) -> None:
        self.hasher.update(content_line(values) + b"\n")
        self.rows += 1
        self.first_id = values[0] if self.first_id is None else self.first_id
        self.last_id = values[0]

    def sealed(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "sha256": self.hasher.hexdigest(),
        }


def seals_register(seals: Iterable[Seal]) -> None:
    for seal in seals:
        for action in seal.actions:
            _seals.setdefault(action, []).append(seal)


def content_seal(obj: Any, action: str) -> dict[str, Any]:
    """What ``audit_log`` adds to the payload of an event with this action naming ``obj``: the
    content hash of the row, and of the rows written under it (see above)."""
    sealed: dict[str, Any] = {}
    label = obj._meta.concrete_model._meta.label
    for seal in _seals.get(action, ()):
        if seal.parent is None:
            if seal.label == label:
                for _id, sha in row_hashes(seal, pk=obj.pk):
                    sealed[CONTENT_KEY] = sha
        elif seal.parent_model._meta.label == label:
            group = SealedGroup()
            rows = seal.model._default_manager.filter(**{seal.parent: obj.pk}).order_by("id")
            for values in rows.values_list("id", *seal.fields).iterator(chunk_size=5000):
                group.add(values)
            sealed.setdefault(CONTENTS_KEY, {})[seal.label] = group.sealed()
    return sealed


def sealed_models() -> set[str]:
    """Every model some registered seal covers."""
    return {seal.label for seals in _seals.values() for seal in seals}


def columns(model: type[Any], *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """Every column of the model but its id and ``exclude`` (a working state), by attname."""
    skipped = set(exclude)
    return tuple(
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in skipped and f.attname not in skipped
    )
