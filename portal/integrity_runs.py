"""What the verification and the checkpoints left outside the database, read back for people.

``integrity_run_record`` (``portal.integrity``) appends each ``integrity_verify`` run as one JSON
line to ``integrity-verify.jsonl``; ``checkpoint_seal`` (``portal.anchors``) appends each
checkpoint to the anchor file. Both files only grow, so they are read from their end: the admins'
integrity page reads the newest runs and checkpoints, ``/healthz`` the last run and the last one
that passed (remembered per process until the file changes: it never runs a verification).
Nothing here writes, and a line that is not JSON is skipped (the verification itself names
a damaged anchor line).
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime

from portal import anchors

BLOCK = 64 * 1024


def _lines_from_end(path: Path) -> Iterator[str]:
    """The file's lines, last first, read in blocks from its end (a long file is not read
    whole to find its last lines). Nothing if the file does not exist."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        position = handle.seek(0, os.SEEK_END)
        rest = b""
        while position > 0:
            step = min(BLOCK, position)
            position -= step
            handle.seek(position)
            lines = (handle.read(step) + rest).split(b"\n")
            rest = lines[0]  # may continue in the block before
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line.decode("utf-8", errors="replace")
        if rest.strip():
            yield rest.decode("utf-8", errors="replace")


def _objects_from_end(path: Path) -> Iterator[dict[str, Any]]:
    for text in _lines_from_end(path):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def _moment(value: object) -> datetime.datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# ---------------------------------------------------------------- verification runs


@dataclass(frozen=True)
class PartRun:
    name: str
    checked: int
    findings: int


@dataclass(frozen=True)
class RunFinding:
    table: str
    id: str
    what: str

    @property
    def where(self) -> str:
        return f"{self.table} {'#' if self.id[:1].isdigit() else ''}{self.id}"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class IntegrityRun:
    """One line of the verification log."""

    at: datetime.datetime
    ok: bool
    source: str
    parts: list[PartRun] = field(default_factory=list)
    findings: list[RunFinding] = field(default_factory=list)
    finding_count: int = 0  # all of them; ``findings`` holds the first thousand

    @property
    def findings_left_out(self) -> int:
        return max(0, self.finding_count - len(self.findings))


def _run(line: dict[str, Any]) -> IntegrityRun | None:
    at = _moment(line.get("at"))
    if at is None:
        return None
    parts = line.get("parts") if isinstance(line.get("parts"), dict) else {}
    findings = [
        RunFinding(str(found.get("table", "")), str(found.get("id", "")), str(found.get("what")))
        for found in line.get("findings") or []
        if isinstance(found, dict)
    ]
    return IntegrityRun(
        at=at,
        ok=line.get("ok") is True,
        source=str(line.get("source") or ""),
        parts=[
            PartRun(str(name), int(part.get("checked") or 0), int(part.get("findings") or 0))
            for name, part in (parts or {}).items()
            if isinstance(part, dict)
        ],
        findings=findings,
        finding_count=int(line.get("finding_count") or len(findings)),
    )


def _runs_from_end() -> Iterator[IntegrityRun]:
    for line in _objects_from_end(anchors.verify_log_path()):
        run = _run(line)
        if run is not None:
            yield run


def integrity_runs(limit: int = 30) -> list[IntegrityRun]:
    """The newest ``limit`` runs of the verification, newest first."""
    runs: list[IntegrityRun] = []
    for run in _runs_from_end():
        runs.append(run)
        if len(runs) >= limit:
            break
    return runs


def integrity_run_since(moment: datetime.datetime) -> IntegrityRun | None:
    """The newest run that started at or after ``moment`` (a run someone asked for), if any."""
    for run in _runs_from_end():
        return run if run.at >= moment else None
    return None


@dataclass(frozen=True)
class IntegrityHealth:
    last_run_at: datetime.datetime | None
    last_run_ok: bool | None
    last_passed_at: datetime.datetime | None


_health_lock = threading.Lock()
_health_cache: dict[tuple[str, int, int, int], IntegrityHealth] = {}


def integrity_health() -> IntegrityHealth:
    """When the verification last ran, whether that run passed, and when one last passed. Read
    from the log's end, and remembered until the log changes (it only grows)."""
    path = anchors.verify_log_path()
    try:
        stat = path.stat()
    except OSError:
        return IntegrityHealth(None, None, None)
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _health_lock:
        known = _health_cache.get(key)
    if known is not None:
        return known
    last: IntegrityRun | None = None
    passed: IntegrityRun | None = None
    for run in _runs_from_end():
        last = last or run
        if run.ok:
            passed = run
            break
    health = IntegrityHealth(
        last_run_at=last.at if last else None,
        last_run_ok=last.ok if last else None,
        last_passed_at=passed.at if passed else None,
    )
    with _health_lock:
        _health_cache.clear()
        _health_cache[key] = health
    return health


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class CheckpointLine:
    """One line of the anchor file, as written (the verification says whether it holds)."""

    seq: int
    name: str
    sealed_at: datetime.datetime | None
    events: int
    last_id: int | None
    last_hash: str
    sha256: str
    token: str  # the token's path beside the anchor file, "" if none was kept
    token_present: bool
    tsa_error: str


def _checkpoint(line: dict[str, Any], folder: Path) -> CheckpointLine | None:
    if line.get("kind") != anchors.KIND:
        return None
    tsa = line.get("tsa") if isinstance(line.get("tsa"), dict) else {}
    token = str((tsa or {}).get("token") or "")
    last_id = line.get("last_id")
    return CheckpointLine(
        seq=int(line.get("seq") or 0),
        name=str(line.get("checkpoint") or ""),
        sealed_at=_moment(line.get("sealed_at")),
        events=int(line.get("events") or 0),
        last_id=last_id if isinstance(last_id, int) else None,
        last_hash=str(line.get("last_hash") or ""),
        sha256=str(line.get("sha256") or ""),
        token=token,
        token_present=bool(token) and (folder / token).is_file(),
        tsa_error=str((tsa or {}).get("error") or ""),
    )


def checkpoints_latest(limit: int = 10) -> list[CheckpointLine]:
    """The newest ``limit`` checkpoints of the anchor file, newest first."""
    path = anchors.anchor_path()
    found: list[CheckpointLine] = []
    for line in _objects_from_end(path):
        checkpoint = _checkpoint(line, path.parent)
        if checkpoint is not None:
            found.append(checkpoint)
            if len(found) >= limit:
                break
    return found


def integrity_run_latest_line() -> dict[str, Any] | None:
    """The newest line of the verification log as written (for a dossier to carry)."""
    for line in _objects_from_end(anchors.verify_log_path()):
        if _run(line) is not None:
            return line
    return None
