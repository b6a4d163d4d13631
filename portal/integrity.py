"""One verification of everything the portal's record rests on (``manage.py integrity_verify``).

Parts, run in order, each giving how many things it checked and its findings (table or file,
id, what differs):

- ``chain``: every audit event's HMAC under ``settings.AUDIT_KEY`` and its link to the event
  before it (a changed row, a removed one, a chain re-hashed without the key or with another);
- ``anchors``: every checkpoint line of the anchor file (``portal.anchors``): its HMAC and hash,
  its link to the line before, that the chain still holds the event it sealed with that hash and
  as many events up to it (the tail deleted, TRUNCATE, re-hashed after the checkpoint), and its
  RFC 3161 token if any (the imprint is the line's hash; ``openssl ts -verify`` against
  ``settings.TSA_CA_PATH`` when set);
- parts registered by the apps above (``integrity_check_register`` in their ``ready()``): the
  evidence app re-hashes every stored file against its row. Portal imports none of them.

Each run of the command or the nightly task appends its result as one JSON line to
``integrity-verify.jsonl`` beside the anchor file.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from portal import anchors
from portal.models import GENESIS_HASH, AuditEvent
from portal.records import (
    CONTENT_KEY,
    CONTENTS_KEY,
    Seal,
    SealedGroup,
    row_hashes,
    seals_register,
)

AUDIT_TABLE = AuditEvent._meta.db_table


@dataclass(frozen=True)
class Finding:
    table: str  # a database table, or the file that was read
    id: str  # the row's id (or a range "12–40"), or the line of the file
    what: str

    def __str__(self) -> str:
        return f"{self.table} {'#' if self.id[:1].isdigit() else ''}{self.id}: {self.what}"


@dataclass
class CheckResult:
    part: str
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Check = Callable[[], CheckResult]


@dataclass(frozen=True)
class Part:
    name: str
    label: str
    check: Check


_parts: dict[str, Part] = {}


def integrity_check_register(name: str, label: str, check: Check) -> None:
    """An app above portal adds a part to the verification (from its ``AppConfig.ready()``)."""
    if name in _parts:
        raise RuntimeError(f"The integrity check “{name}” is registered twice.")
    _parts[name] = Part(name, label, check)


def integrity_parts() -> list[Part]:
    return list(_parts.values())


@dataclass
class IntegrityReport:
    started_at: datetime.datetime
    results: list[CheckResult]

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.started_at.isoformat().replace("+00:00", "Z"),
            "ok": self.ok,
            "parts": {
                result.part: {"checked": result.checked, "findings": len(result.findings)}
                for result in self.results
            },
            "findings": [asdict(finding) for finding in self.findings[:1000]],
            "finding_count": len(self.findings),
        }


def integrity_verify(parts: Iterable[str] | None = None) -> IntegrityReport:
    """Run the named parts (all by default), in the order they were registered."""
    wanted = set(parts) if parts is not None else None
    unknown = (wanted or set()) - set(_parts)
    if unknown:
        raise ValueError(f"Unknown integrity check: {', '.join(sorted(unknown))}.")
    started = timezone.now()
    results = [part.check() for part in _parts.values() if wanted is None or part.name in wanted]
    return IntegrityReport(started_at=started, results=results)


def integrity_run_record(report: IntegrityReport, *, source: str) -> Path:
    """Append the run's result to the verification log beside the anchor file (O_APPEND, fsync):
    what an admin reads later. ``source`` says who ran it (command, beat)."""
    path = anchors.verify_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({**report.as_json(), "source": source}, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


# ---------------------------------------------------------------- the chain


def chain_check() -> CheckResult:
    """Walk the chain from the first event: each event's HMAC, and its link to the one before.
    A run of events whose HMACs fail one after another (a chain re-hashed without the key, or
    with another) is one finding naming the first and the last."""
    result = CheckResult("chain")
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    bad_run: list[int] = []

    def close_run() -> None:
        if not bad_run:
            return
        first, last = bad_run[0], bad_run[-1]
        what = "its hash is not the HMAC of its contents under AUDIT_KEY"
        if len(bad_run) > 1:
            what = (
                f"{len(bad_run)} events in a row whose hashes are not the HMAC of their contents "
                "under AUDIT_KEY"
            )
        result.findings.append(
            Finding(
                AUDIT_TABLE,
                str(first) if first == last else f"{first}–{last}",
                f"{what} (changed, or re-hashed without the key or with another)",
            )
        )
        bad_run.clear()

    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            close_run()
            before = f"event #{previous_id}" if previous_id else "the start of the chain"
            result.findings.append(
                Finding(
                    AUDIT_TABLE,
                    str(event.id),
                    f"its prev_hash does not link to {before} (an event between them was "
                    "removed, inserted or changed)",
                )
            )
        if event.compute_hash() != event.hash:
            bad_run.append(event.id)
        else:
            close_run()
        expected_prev = event.hash
        previous_id = event.id
        result.checked += 1
    close_run()
    return result


# ---------------------------------------------------------------- the anchors


@dataclass(frozen=True)
class _Sealed:
    ordinal: int  # how many events up to and including this one
    hash: str


def anchors_check() -> CheckResult:
    result = CheckResult("anchors")
    path = anchors.anchor_path()
    name = str(path)
    if not path.exists():
        result.notes.append(f"no checkpoint yet ({path} does not exist)")
        return result
    lines: list[tuple[int, dict[str, Any]]] = []
    with path.open(encoding="utf-8", errors="replace") as anchor_file:
        for number, text in enumerate(anchor_file, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                if not isinstance(line, dict):
                    raise ValueError("not an object")
            except ValueError:
                result.findings.append(Finding(name, f"line {number}", "not a checkpoint (JSON)"))
                continue
            lines.append((number, line))

    wanted = {line["last_id"] for _, line in lines if isinstance(line.get("last_id"), int)}
    sealed: dict[int, _Sealed] = {}
    total = 0
    for event_id, event_hash in (
        AuditEvent.objects.order_by("id").values_list("id", "hash").iterator(chunk_size=5000)
    ):
        total += 1
        if event_id in wanted:
            sealed[event_id] = _Sealed(total, event_hash)

    previous_seq, previous_sha = 0, GENESIS_HASH
    for number, line in lines:
        where = f"line {number} ({line.get('checkpoint', 'unnamed')})"
        result.checked += 1

        def find(what: str, where: str = where) -> None:
            result.findings.append(Finding(name, where, what))

        if line.get("hmac") != anchors.line_hmac(line):
            find(
                "its HMAC does not match under AUDIT_KEY (the line was written or changed "
                "without the key)"
            )
            continue
        if line.get("sha256") != anchors.body_sha256(line):
            find("its sha256 is not the hash of its contents")
        if line.get("seq") != previous_seq + 1 or line.get("prev") != previous_sha:
            find(f"it does not follow checkpoint {previous_seq} (a line was removed or moved)")
        previous_seq, previous_sha = int(line.get("seq") or 0), str(line.get("sha256"))
        last_id, events = line.get("last_id"), int(line.get("events") or 0)
        if last_id is None:
            if events:
                find("it seals events but no last event")
        else:
            now = sealed.get(last_id)
            if now is None:
                find(
                    f"the chain no longer holds event #{last_id}, sealed as the head of "
                    f"{events} events; it holds {total} (deleted from the tail, or truncated)"
                )
            elif now.hash != line.get("last_hash"):
                find(
                    f"event #{last_id}'s hash is not the one sealed (the chain was re-hashed "
                    "after this checkpoint)"
                )
            elif now.ordinal != events:
                find(
                    f"{now.ordinal} events up to #{last_id} now, {events} when sealed (events "
                    "before it were removed or inserted)"
                )
        tsa = line.get("tsa") or {}
        if tsa.get("token"):
            _token_check(path.parent / str(tsa["token"]), line, find)
    return result


def _token_check(token: Path, line: dict[str, Any], find: Callable[[str], None]) -> None:
    if not token.exists():
        find(f"its time-stamp token {token} is missing")
        return
    try:
        info = anchors.token_read(token.read_bytes())
    except ValueError as error:
        find(f"its time-stamp token {token} cannot be read: {error}")
        return
    imprint = info.imprint.hex()
    if info.hash_algorithm != "sha256" or imprint != line.get("sha256"):
        find(f"its time-stamp token {token} is over another hash ({imprint[:16]}…)")
        return
    if settings.TSA_CA_PATH:
        verified = subprocess.run(
            [
                "openssl",
                "ts",
                "-verify",
                "-digest",
                imprint,
                "-in",
                str(token),
                "-CAfile",
                settings.TSA_CA_PATH,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if verified.returncode != 0:
            reason = (verified.stderr.strip().splitlines() or ["no output"])[-1]
            find(f"openssl ts -verify refuses its time-stamp token {token}: {reason}")


integrity_check_register("chain", "the audit chain's HMACs and links", chain_check)
integrity_check_register("anchors", "checkpoints and their time-stamps", anchors_check)


# ---------------------------------------------------------------- records against their events
# (portal.records: what each event seals; here, the comparison)


def records_register(app: str, label: str, seals: Iterable[Seal]) -> None:
    """An app declares how each of its records is sealed in its audit events, and gets a part
    of the verification (``<app>-records``) that compares every row with its events."""
    seals = list(seals)
    seals_register(seals)
    integrity_check_register(
        f"{app}-records", label, lambda: records_check(f"{app}-records", seals)
    )


def _ids(first: object, last: object) -> str:
    return str(first) if first == last else f"{first}–{last}"


def records_check(part: str, seals: list[Seal]) -> CheckResult:
    result = CheckResult(part)
    for seal in seals:
        if seal.parent is None:
            _row_seal_check(seal, result)
        else:
            _group_seal_check(seal, result)
    return result


def _events(seal: Seal, object_type: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    events = AuditEvent.objects.filter(action__in=seal.actions, object_type=object_type)
    yield from events.order_by("id").values_list("id", "object_id", "payload").iterator()


def _row_seal_check(seal: Seal, result: CheckResult) -> None:
    recorded: dict[str, list[tuple[int, object]]] = {}
    for event_id, object_id, payload in _events(seal, seal.label):
        recorded.setdefault(object_id, []).append((event_id, (payload or {}).get(CONTENT_KEY)))
    manager = seal.model._default_manager
    required = (
        set(manager.filter(seal.required).values_list("id", flat=True))
        if seal.required is not None
        else None
    )
    actions = " or ".join(seal.actions)
    fields = ", ".join(seal.fields)
    seen: set[str] = set()
    for row_id, sha in row_hashes(seal):
        result.checked += 1
        seen.add(str(row_id))
        events = recorded.get(str(row_id), [])
        if not events and (required is None or row_id in required):
            result.findings.append(
                Finding(seal.table, str(row_id), f"no audit event ({actions}) records it")
            )
        for event_id, expected in events:
            if expected is None:
                what = f"audit event #{event_id} records no content hash for it"
            elif expected != sha:
                what = (
                    f"its content ({fields}) is not what audit event #{event_id} recorded "
                    "(changed after it was written)"
                )
            else:
                continue
            result.findings.append(Finding(seal.table, str(row_id), what))
    for object_id, events in recorded.items():
        if object_id not in seen:
            result.findings.append(
                Finding(
                    seal.table,
                    object_id,
                    f"the row is gone; audit event #{events[0][0]} ({actions}) recorded it",
                )
            )


def _group_seal_check(seal: Seal, result: CheckResult) -> None:
    """Walk the rows once, ordered by parent and id, hashing each parent's rows as they come;
    at each event's ``last_id`` the running hash must be what the event recorded."""
    assert seal.parent is not None
    parent_label = seal.parent_model._meta.label
    parent_table = seal.parent_model._meta.db_table
    events: dict[int, list[tuple[int, dict[str, Any] | None]]] = {}
    for event_id, object_id, payload in _events(seal, parent_label):
        entry = ((payload or {}).get(CONTENTS_KEY) or {}).get(seal.label)
        if not object_id.isdigit():
            continue
        events.setdefault(int(object_id), []).append((event_id, entry))
    for entries in events.values():
        entries.sort(key=lambda item: (item[1] or {}).get("last_id") or 0)
    replaceable = seal.replaceable() if seal.replaceable else set()
    actions = " or ".join(seal.actions)

    differ: dict[int, list[tuple[str, str]]] = {}

    def find(ids: str, what: str) -> None:
        result.findings.append(Finding(seal.table, ids, what))

    def compare(
        parent_id: int, event_id: int, entry: dict[str, Any] | None, now: SealedGroup
    ) -> None:
        of = f"of {parent_table} #{parent_id}"
        if entry is None:
            find(f"({of})", f"audit event #{event_id} records no content hash for these rows")
            return
        if now.sealed()["sha256"] == entry.get("sha256"):
            return
        if not now.rows and parent_id in replaceable:
            return  # pending rows replaced by a newer list, as the triggers allow
        now_ids = f"{now.rows} now ({_ids(now.first_id, now.last_id)})" if now.rows else "none now"
        differ.setdefault(parent_id, []).append(
            (
                _ids(entry.get("first_id"), entry.get("last_id"))
                if entry.get("rows")
                else f"({of})",
                f"the rows {of} are not what audit event #{event_id} recorded: "
                f"{entry.get('rows')} rows then, {now_ids}; changed, removed or added",
            )
        )

    def covered(parent_id: int) -> int | None:
        """The newest row any event of the parent sealed (None: no event, 0: none sealed)."""
        entries = events.get(parent_id)
        if not entries:
            return None
        return max((entry or {}).get("last_id") or 0 for _event, entry in entries)

    def close(state: _Walk) -> None:
        for event_id, entry in state.pending:
            compare(state.parent_id, event_id, entry, state.group)
        if state.uncovered_first is not None:
            find(
                _ids(state.uncovered_first, state.group.last_id),
                f"rows of {parent_table} #{state.parent_id} that no audit event ({actions}) "
                "records",
            )

    rows = seal.model._default_manager.order_by(seal.parent, "id")
    state: _Walk | None = None
    done: set[int] = set()
    for values in rows.values_list(seal.parent, "id", *seal.fields).iterator(chunk_size=5000):
        parent_id, row = values[0], values[1:]
        if state is None or parent_id != state.parent_id:
            if state is not None:
                close(state)
                done.add(state.parent_id)
            state = _Walk(parent_id, list(events.get(parent_id, [])), covered(parent_id))
        while state.pending and ((state.pending[0][1] or {}).get("last_id") or 0) < row[0]:
            event_id, entry = state.pending.pop(0)
            compare(parent_id, event_id, entry, state.group)
        if state.uncovered_first is None and (state.covered is None or row[0] > state.covered):
            state.uncovered_first = row[0]
        state.group.add(row)
        result.checked += 1
    if state is not None:
        close(state)
        done.add(state.parent_id)
    for parent_id, entries in events.items():
        if parent_id not in done:
            for event_id, entry in entries:
                compare(parent_id, event_id, entry, SealedGroup())
    # One finding per parent: its first event that no longer agrees (the later ones follow).
    for found in differ.values():
        ids, what = found[0]
        later = len(found) - 1
        find(ids, what + (f" (and {later} later events of it)" if later else ""))


@dataclass
class _Walk:
    parent_id: int
    pending: list[tuple[int, dict[str, Any] | None]]
    covered: int | None
    group: SealedGroup = field(default_factory=SealedGroup)
    uncovered_first: int | None = None
