"""Registries that lower apps fill in their ``AppConfig.ready()`` and upper apps consume.

An approval pins records of the apps below it (an evidence version, a serial report, ...).
Each of those apps registers a ``PinKind`` saying how to find the record's batch, resolve it
(with the fingerprint that tells if it changes), list what may be pinned on a batch, and which
audit events give its records a new version. The approvals app only reads this registry, so
no app below it ever imports it, and it imports none of them for pins."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from portal import events


@dataclass(frozen=True)
class Pinned:
    """What a pin points at now, and the fingerprint that will tell if it changes."""

    kind: str
    object_id: int
    batch_id: int | None  # None for a record of no one batch (an order's or product's)
    label: str
    fingerprint: str


# A new version of something: the ids of this kind it supersedes, and why (read by the buyer
# and the supplier on the approval page).
Superseded = tuple[Iterable[int], str]


@dataclass(frozen=True)
class PinKind:
    kind: str  # an ApprovalPin.Kind value
    label: str
    # The batch the record belongs to, or None if there is no such record.
    batch_id: Callable[[int], int | None]
    # Locks the record like its writers do, checks it is the current version, and returns it;
    # raises ValidationError if it cannot be pinned, ObjectDoesNotExist if there is none.
    resolve: Callable[[int], Pinned]
    # (object id, label) of what the buyer may pin on a batch, in the order shown.
    candidates: Callable[[Any], list[tuple[int, str]]]
    # audit action -> what the event's object supersedes (called in the event's transaction).
    # The object is the model instance that action is logged on, which only the kind knows.
    superseded_by: Mapping[str, Callable[[Any], list[Superseded]]] = field(default_factory=dict)
    # For a record that belongs to no one batch (a product's approved sample): whether the
    # record (object id) is within an approval of this order (order id) and batch (id, or None
    # for the order's own approval). None: the record belongs where ``batch_id`` says.
    belongs: Callable[[int, int, int | None], bool] | None = None


StaleHandler = Callable[[str, list[int], str], None]  # (kind, object ids, reason)

_pin_kinds: dict[str, PinKind] = {}
_stale_handlers: list[StaleHandler] = []


def pin_kind_register(kind: PinKind) -> None:
    if kind.kind in _pin_kinds:
        raise RuntimeError(f"The pin kind “{kind.kind}” is registered twice.")
    _pin_kinds[kind.kind] = kind
    for handler in _stale_handlers:
        _subscribe(kind, handler)


def pin_kind(kind: str) -> PinKind | None:
    return _pin_kinds.get(kind)


def pin_kinds() -> list[PinKind]:
    return list(_pin_kinds.values())


def pin_versions_subscribe(handler: StaleHandler) -> None:
    """Call ``handler`` whenever a registered kind's record gets a new version: with the kind,
    the superseded ids and the reason. Works whichever app's ``ready()`` runs first."""
    _stale_handlers.append(handler)
    for kind in _pin_kinds.values():
        _subscribe(kind, handler)


def _subscribe(kind: PinKind, handler: StaleHandler) -> None:
    for action, find in kind.superseded_by.items():

        def on_event(event: Any, obj: models.Model, find: Any = find) -> None:
            for object_ids, reason in find(obj):
                handler(kind.kind, list(object_ids), reason)

        events.subscribe(action, on_event)
