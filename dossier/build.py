"""The dispute dossier: everything needed to explain an order's decisions months later, in one
ZIP file that needs neither the portal nor the supplier to read.

Inside: ``approval-record.pdf`` (every approval with its signature, pins, gates and staleness,
then gates and payments), the serial reports (the stored report as JSON, its anomalies as CSV, and
the uploaded list itself), every version of every evidence file, the statements with all their
versions and reviews, the payments' proving documents, the order's timeline from the audit log
(CSV, with each event's chained hash), and ``manifest.json`` + ``SHA256SUMS`` listing the SHA-256
of every file. A stored file whose bytes no longer match the hash recorded at upload is still
included, and the manifest says so: the dossier must show tampering, not hide it.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from approvals.models import Approval, Gate, Payment
from approvals.services import gate_states, signature_intact
from evidence.models import EvidenceItem, EvidenceRequest
from inspection.models import CartonScan, InspectionPlan, UnitResult
from inspection.selectors import carton_reconciliation, plan_outcome
from orders.models import PurchaseOrder
from portal import anchors
from portal.exports import spreadsheet_safe
from portal.integrity_runs import integrity_run_latest_line
from portal.pdf import html_to_pdf
from serials.models import SerialList
from serials.selectors import ANOMALY_HEADER, anomaly_rows

CHUNK = 1024 * 1024


@dataclass
class _Entry:
    path: str
    sha256: str
    size: int
    source: str  # what the file is, in words
    recorded_sha256: str = ""  # the hash the portal recorded when the file was stored

    @property
    def intact(self) -> bool | None:
        return None if not self.recorded_sha256 else self.recorded_sha256 == self.sha256


@dataclass
class _Writer:
    archive: zipfile.ZipFile
    entries: list[_Entry] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)

    def _unique(self, path: str) -> str:
        stem, dot, ext = path.rpartition(".")
        candidate, n = path, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if dot else f"{path}-{n}"
        self.taken.add(candidate)
        return candidate

    def add_bytes(self, path: str, data: bytes, source: str) -> None:
        path = self._unique(path)
        self.archive.writestr(path, data)
        self.entries.append(_Entry(path, hashlib.sha256(data).hexdigest(), len(data), source))

    def add_stored(
        self,
        path: str,
        storage_name: str,
        source: str,
        recorded_sha256: str,
        stored_at: datetime.datetime,
    ) -> None:
        """Copy a stored file in chunks, hashing what was actually copied."""
        path = self._unique(path)
        info = zipfile.ZipInfo(path, date_time=stored_at.utctimetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        digest, size = hashlib.sha256(), 0
        try:
            stored = default_storage.open(storage_name, "rb")
        except (FileNotFoundError, OSError):
            self.entries.append(
                _Entry(path, "", 0, f"{source} — MISSING from storage", recorded_sha256)
            )
            return
        with stored, self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := stored.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        self.entries.append(_Entry(path, digest.hexdigest(), size, source, recorded_sha256))


def safe_name(name: str) -> str:
    """A file name that is safe inside a ZIP on any system."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return cleaned[:120] or "file"


def dossier_filename(order: PurchaseOrder) -> str:
    """The ZIP's default name: ``dossier-PO-<number>.zip``, safe on any system."""
    name = order.number if order.number.upper().startswith("PO") else f"PO-{order.number}"
    return f"dossier-{safe_name(name)}.zip"


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _approvals(order: PurchaseOrder) -> list[Approval]:
    return list(
        order.approvals.select_related("batch", "signature", "based_on")
        .prefetch_related("pins", "staleness", "unlocks")
        .order_by("id")
    )


def approval_record_pdf(order: PurchaseOrder) -> bytes:
    """The order's approvals, gates and payments as one PDF (WeasyPrint)."""
    gates: list[Gate] = list(order.gates.select_related("batch").order_by("id"))
    states = gate_states(gates)
    html = render_to_string(
        "dossier/approval_record_pdf.html",
        {
            "order": order,
            "approvals": [
                (approval, signature_intact(approval), approval.unlocks.all())
                for approval in _approvals(order)
            ],
            "gates": [(gate, states[gate.pk]) for gate in gates],
            "payments": Payment.objects.filter(gate__order=order)
            .select_related("gate__batch", "recorded_by")
            .order_by("paid_on", "id"),
            "generated_at": timezone.now(),
        },
    )
    return html_to_pdf(html)


def _timeline_rows(order: PurchaseOrder) -> Iterator[list[Any]]:
    for event in order.audit_events.order_by("id").iterator(chunk_size=2000):
        yield [
            event.pk,
            event.created_at.isoformat(),
            event.actor_label,
            event.action,
            event.object_label,
            json.dumps(event.payload, sort_keys=True, cls=DjangoJSONEncoder),
            event.prev_hash,
            event.hash,
        ]


def _statements_text(order: PurchaseOrder) -> Iterator[tuple[str, str]]:
    requests = (
        EvidenceRequest.objects.filter(batch__order=order)
        .select_related("batch", "asked_by")
        .prefetch_related("statements__reviews__reviewed_by", "statements__written_by")
        .order_by("id")
    )
    for request in requests:
        lines = [
            f"Request #{request.pk} on batch {request.batch.code} of PO {order.number}",
            f"Subject: {request.subject}",
            f"Asked by {request.asked_by.printed_name} on {request.asked_at:%Y-%m-%d %H:%M} UTC, "
            f"due {request.due_on:%Y-%m-%d}",
            "",
            request.question,
            "",
        ]
        statements = sorted(request.statements.all(), key=lambda s: s.version)
        if not statements:
            lines.append("No statement written yet.")
        for statement in statements:
            lines += [
                "-" * 72,
                f"Statement version {statement.version}, written by "
                f"{statement.written_by.printed_name} on {statement.written_at:%Y-%m-%d %H:%M} UTC",
                "",
                statement.text,
                "",
            ]
            for review in statement.reviews.all():
                lines.append(
                    f"Reviewed by {review.reviewed_by.printed_name} on "
                    f"{review.reviewed_at:%Y-%m-%d %H:%M} UTC"
                )
        yield f"statements/request-{request.pk}-{safe_name(request.subject)}.txt", "\n".join(lines)


def _add_inspections(writer: _Writer, order: PurchaseOrder) -> None:
    """Each inspection plan: its plan and outcome, every result ever recorded (newest last),
    blocked steps, carton scans and reconciliation, and the label photos."""
    plans = InspectionPlan.objects.filter(batch__order=order).select_related("batch")
    for plan in plans.order_by("id"):
        folder = f"inspections/batch-{safe_name(plan.batch.code)}/inspection-{plan.pk}"
        outcome = plan_outcome(plan)
        found = carton_reconciliation(plan)
        summary = {
            "plan": {
                "lot_size": plan.lot_size,
                "level": plan.level,
                "aql": plan.aql,
                "code_letter": plan.code_letter,
                "plan_letter": plan.plan_letter,
                "sample_size": plan.sample_size,
                "accept": plan.accept,
                "reject": plan.reject,
                "seed": plan.seed,
                "serial_list": plan.serial_list_id,
                "carton_list": plan.carton_list_id,
                "created_at": plan.created_at,
            },
            "outcome": {"state": outcome.state, "reason": outcome.reason},
            "blocked_steps": [
                {
                    "step": b.get_step_display(),
                    "blocked_by": b.blocked_by,
                    "reason": b.reason,
                    "recorded_at": b.recorded_at,
                }
                for b in plan.blocked_steps.order_by("id")
            ],
            "reconciliation": {
                "cartons": found.cartons,
                "matched": found.matched,
                "missing_from_carton": found.missing_from_carton,
                "not_on_list": found.not_on_list,
                "wrong_carton": found.wrong_carton,
                "seen_twice": found.seen_twice,
                "unreadable": found.unreadable,
            },
        }
        writer.add_bytes(
            f"{folder}/inspection.json",
            json.dumps(summary, indent=1, cls=DjangoJSONEncoder).encode(),
            f"inspection #{plan.pk}: plan, outcome, blocked steps, carton reconciliation",
        )
        results = (
            UnitResult.objects.filter(unit__plan=plan)
            .select_related("unit", "recorded_by")
            .order_by("unit__position", "id")
        )
        writer.add_bytes(
            f"{folder}/results.csv",
            _csv(
                [
                    "serial",
                    "carton_listed",
                    "method",
                    "label_as_read",
                    "read_serial",
                    "gtin",
                    "matches",
                    "carton_found",
                    "defects",
                    "defective",
                    "recorded_by",
                    "at_utc",
                ],
                (
                    [
                        r.unit.serial,
                        r.unit.carton,
                        r.method,
                        r.label_text,
                        r.read_serial,
                        r.read_gtin,
                        r.matches,
                        r.carton_found,
                        r.defects,
                        r.defective,
                        r.recorded_by.printed_name,
                        r.recorded_at.isoformat(),
                    ]
                    for r in results
                ),
            ),
            f"every result recorded in inspection #{plan.pk}",
        )
        scans = CartonScan.objects.filter(plan=plan).order_by("id")
        writer.add_bytes(
            f"{folder}/carton-scans.csv",
            _csv(
                ["carton", "session", "label_as_read", "serial", "at_utc"],
                (
                    [s.carton, s.session, s.label_text, s.serial, s.recorded_at.isoformat()]
                    for s in scans
                ),
            ),
            f"carton scans of inspection #{plan.pk}",
        )
        for result in results.exclude(photo=""):
            writer.add_stored(
                f"{folder}/photos/{result.pk}-{safe_name(result.unit.serial)}"
                f"{os.path.splitext(result.photo.name)[1][:8]}",
                result.photo.name,
                f"label photo of {result.unit.serial}",
                result.photo_sha256,
                result.recorded_at,
            )


def dossier_write(*, order: PurchaseOrder, target: IO[bytes]) -> list[_Entry]:
    """Write the order's dossier as a ZIP into ``target``; return what it holds."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive)
        writer.add_bytes(
            "approval-record.pdf", approval_record_pdf(order), "approvals, gates and payments"
        )
        writer.add_bytes(
            "timeline.csv",
            _csv(
                ["event", "at_utc", "actor", "action", "object", "facts", "prev_hash", "hash"],
                _timeline_rows(order),
            ),
            "the order's audit log, in order, with its hash chain",
        )
        serial_lists = (
            SerialList.objects.filter(batch__order=order).select_related("batch").order_by("id")
        )
        for serial_list in serial_lists:
            folder = (
                f"serial-reports/batch-{safe_name(serial_list.batch.code)}/list-{serial_list.pk}"
            )
            writer.add_stored(
                f"{folder}/{safe_name(serial_list.original_name)}",
                serial_list.file.name,
                f"{serial_list} as uploaded",
                serial_list.sha256,
                serial_list.uploaded_at,
            )
            report = serial_list.validation_report
            if report is not None:
                writer.add_bytes(
                    f"{folder}/report.json",
                    json.dumps(report.to_json(), indent=1, cls=DjangoJSONEncoder).encode(),
                    f"validation report of {serial_list}",
                )
                writer.add_bytes(
                    f"{folder}/anomalies.csv",
                    _csv(ANOMALY_HEADER, anomaly_rows(report)),
                    f"anomalies of {serial_list}",
                )
        evidence = EvidenceItem.objects.filter(batch__order=order).select_related("batch")
        for item in evidence.order_by("id"):
            writer.add_stored(
                f"evidence/batch-{safe_name(item.batch.code)}/"
                f"{item.pk}-v{item.version}-{safe_name(item.original_name)}",
                item.file.name,
                f"{item.get_kind_display()} evidence #{item.pk}, version {item.version}, "
                f"uploaded {item.uploaded_at:%Y-%m-%d %H:%M} UTC",
                item.sha256,
                item.uploaded_at,
            )
        for path, text in _statements_text(order):
            writer.add_bytes(path, text.encode("utf-8"), "a request with every statement version")
        _add_inspections(writer, order)
        chain = _add_chain(writer, order)
        payments = Payment.objects.filter(gate__order=order).order_by("id")
        for payment in payments:
            writer.add_stored(
                f"payments/{payment.pk}-{safe_name(payment.document_name)}",
                payment.document.name,
                f"proof of payment #{payment.pk}: {payment.amount} {payment.currency} "
                f"to {payment.payee}",
                payment.document_sha256,
                payment.recorded_at,
            )
        manifest = {
            "order": order.number,
            "buyer": str(order.buyer),
            "supplier": str(order.supplier),
            "generated_at": timezone.now().isoformat(),
            "files": [
                {
                    "path": entry.path,
                    "sha256": entry.sha256,
                    "size": entry.size,
                    "what": entry.source,
                    "sha256_recorded_at_upload": entry.recorded_sha256 or None,
                    "matches_recorded": entry.intact,
                }
                for entry in writer.entries
            ],
        }
        manifest_bytes = json.dumps(manifest, indent=1).encode()
        readme_bytes = _readme(order, writer.entries, chain).encode()
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("README.txt", readme_bytes)
        sums = [(e.sha256, e.path) for e in writer.entries if e.sha256]
        sums += [
            (hashlib.sha256(manifest_bytes).hexdigest(), "manifest.json"),
            (hashlib.sha256(readme_bytes).hexdigest(), "README.txt"),
        ]
        archive.writestr("SHA256SUMS", "".join(f"{sha}  {path}\n" for sha, path in sums))
    return writer.entries


CHAIN_DIR = "integrity"


@dataclass
class _Chain:
    """What the dossier carries of the audit chain and its checkpoints."""

    events: int = 0
    checkpoints: list[str] = field(default_factory=list)  # names, oldest first
    tokens: list[str] = field(default_factory=list)  # checkpoint names whose token is carried
    ca: bool = False
    uncovered: int = 0  # the order's events sealed by no checkpoint yet
    problems: list[str] = field(default_factory=list)


def _covering_lines(event_ids: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """The anchor file's lines (as written, and parsed) that cover the order's events: for each
    event, the first checkpoint sealed after it (its ``last_id`` at or past the event), and the
    newest checkpoint. Lines are in file order; each chains to the line before it in the file."""
    path = anchors.anchor_path()
    if not path.exists():
        return []
    chosen: list[tuple[str, dict[str, Any]]] = []
    newest: tuple[str, dict[str, Any]] | None = None
    pending = 0  # index of the first event not yet covered
    with path.open(encoding="utf-8", errors="replace") as anchor_file:
        for text in anchor_file:
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if not isinstance(line, dict) or line.get("kind") != anchors.KIND:
                continue
            newest = (text.rstrip("\n"), line)
            last_id = line.get("last_id")
            if not isinstance(last_id, int) or pending >= len(event_ids):
                continue
            if event_ids[pending] <= last_id:
                chosen.append(newest)
                while pending < len(event_ids) and event_ids[pending] <= last_id:
                    pending += 1
    if newest is not None and (not chosen or chosen[-1][1] is not newest[1]):
        chosen.append(newest)
    return chosen


def _add_chain(writer: _Writer, order: PurchaseOrder) -> _Chain:
    """The order's segment of the audit chain, the checkpoints that cover it with the bytes their
    time-stamps are over, the tokens, the TSA's CA and the portal's last verification: what
    lets someone without the portal check the record (see the README inside)."""
    chain = _Chain()
    segment = io.StringIO()
    event_ids: list[int] = []
    for event in order.audit_events.order_by("id").iterator(chunk_size=2000):
        fields = json.loads(event.canonical())
        segment.write(json.dumps({"id": event.pk, **fields, "hash": event.hash}) + "\n")
        event_ids.append(event.pk)
    chain.events = len(event_ids)
    writer.add_bytes(
        f"{CHAIN_DIR}/chain-segment.jsonl",
        segment.getvalue().encode(),
        "the order's audit events with their hashes and prev_hash, in chain order",
    )
    lines = _covering_lines(event_ids)
    covered = max((line.get("last_id") or 0 for _, line in lines), default=0)
    chain.uncovered = sum(1 for event_id in event_ids if event_id > covered)
    folder = anchors.anchor_path().parent
    for _text, line in lines:
        name = safe_name(str(line.get("checkpoint") or f"seq-{line.get('seq')}"))
        chain.checkpoints.append(name)
        if line.get("hmac") != anchors.line_hmac(line) or line.get("sha256") != (
            anchors.body_sha256(line)
        ):
            chain.problems.append(f"checkpoint {name} does not verify under the portal's key")
        writer.add_bytes(
            f"{CHAIN_DIR}/checkpoints/{name}.body.json",
            anchors.canonical(anchors.line_body(line)),
            f"the body of checkpoint {name}: its SHA-256 is the line's sha256, the time-stamped "
            "hash",
        )
        token = (line.get("tsa") or {}).get("token") if isinstance(line.get("tsa"), dict) else ""
        if token:
            try:
                raw = (folder / str(token)).read_bytes()
            except OSError:
                chain.problems.append(f"the time-stamp token of checkpoint {name} is missing")
            else:
                writer.add_bytes(
                    f"{CHAIN_DIR}/tokens/{name}.tsr",
                    raw,
                    f"the RFC 3161 time-stamp token of checkpoint {name}",
                )
                chain.tokens.append(name)
    writer.add_bytes(
        f"{CHAIN_DIR}/checkpoints.jsonl",
        "".join(f"{text}\n" for text, _ in lines).encode(),
        "the anchor-file lines (checkpoints) that cover the order's events, as written",
    )
    if settings.TSA_CA_PATH:
        try:
            ca = open(settings.TSA_CA_PATH, "rb").read()  # noqa: SIM115, PTH123
        except OSError:
            chain.problems.append(f"the TSA's CA file {settings.TSA_CA_PATH} cannot be read")
        else:
            writer.add_bytes(f"{CHAIN_DIR}/tsa-ca.pem", ca, "the time-stamping authority's CA")
            chain.ca = True
    last_run = integrity_run_latest_line()
    if last_run is not None:
        writer.add_bytes(
            f"{CHAIN_DIR}/last-verification.json",
            json.dumps(last_run, indent=1).encode(),
            "the portal's last integrity_verify run before this export",
        )
    return chain


CHAIN_README = """
Checking the record without the portal
======================================

integrity/chain-segment.jsonl       the order's audit events in chain order, one JSON object a line
integrity/checkpoints.jsonl         the checkpoints that cover them: lines of the portal's anchor
                                    file (kept outside its database), as written
integrity/checkpoints/CP.body.json  each checkpoint's body: the bytes its time-stamp is over
integrity/tokens/CP.tsr             each checkpoint's RFC 3161 time-stamp token, if it has one
integrity/tsa-ca.pem                the time-stamping authority's CA certificate, if configured
integrity/last-verification.json    the portal's last full verification before this export

1. The files are the ones the portal wrote. In the unzipped folder:

     sha256sum -c SHA256SUMS

   Every line must say OK (SHA256SUMS lists every file but itself). It cannot say who wrote
   SHA256SUMS: keep the hash of the ZIP (the portal logs it when the dossier is downloaded) where
   the other party can see it.

2. Each checkpoint was sealed no later than its time-stamp says:

{tokens}
3. What the chain segment shows, and what it cannot.

   Each event's hash is an HMAC-SHA256 under the portal's audit key (AUDIT_KEY), a secret that
   never leaves the portal. Without the key nobody can re-check a hash, nor make one: not you,
   not the supplier, not whoever could write the portal's database. Whoever holds the key can:
   an event's hash is the HMAC of its line without "id" and "hash", as JSON with sorted keys
   and no spaces.

   prev_hash is the hash of the event just before it in the portal's whole chain, which holds
   every order's events. Two lines of the segment link to each other only when no other order's
   event came between them; elsewhere the gap is those other events, which are not carried here.

   What anyone can see: the events in the order they were chained, each with the hash it was
   given when written; a checkpoint whose last_id is an event's id seals that very hash
   (last_hash); every checkpoint whose last_id is at or past an event's id was sealed after the
   event was written, so its token dates the event no later than its time. A change to an event
   after a checkpoint breaks the chain that checkpoint seals, and the portal's integrity_verify
   names it: last-verification.json is its last run before this export ("ok": true when
   everything held).
"""

TOKENS_README = """
   Each must print "Verification: OK". The authority signed the SHA-256 of the body file, which
   is the line's "sha256" in checkpoints.jsonl (sha256sum the body file to see it; openssl ts
   -verify -digest <that sha256> -in ... checks the same). "openssl ts -reply -in
   integrity/tokens/CP.tsr -text" shows the time. The body holds the chain's size when sealed
   (events), its last event (last_id) and that event's hash (last_hash), and "prev": the sha256
   of the checkpoint before it in the anchor file.
"""


def _chain_readme(chain: _Chain) -> list[str]:
    if chain.tokens:
        tokens = [
            f"     openssl ts -verify -data integrity/checkpoints/{name}.body.json "
            f"-in integrity/tokens/{name}.tsr -CAfile integrity/tsa-ca.pem"
            for name in chain.tokens
        ]
        tokens += TOKENS_README.splitlines()
        if not chain.ca:
            tokens += [
                "   The portal has no CA file configured (TSA_CA_PATH): get the authority's CA",
                "   certificate from it and pass it as -CAfile.",
            ]
    else:
        first = chain.checkpoints[0] if chain.checkpoints else "CP"
        tokens = [
            "   No checkpoint carried here has a time-stamp token (the portal has no TSA_URL, or",
            "   the authority did not answer). Each body's SHA-256 is still its line's sha256:",
            f"     sha256sum integrity/checkpoints/{first}.body.json",
        ]
    lines = CHAIN_README.replace("{tokens}", "\n".join(tokens) + "\n").splitlines()
    if chain.uncovered:
        lines += [
            f"   {chain.uncovered} of the order's {chain.events} events came after the newest "
            "checkpoint:",
            "   none covers them yet (the next one will, within 10 minutes).",
        ]
    if chain.problems:
        lines += ["", "WARNING about the chain and its checkpoints:"]
        lines += [f"  {problem}" for problem in chain.problems]
    return lines


def _readme(order: PurchaseOrder, entries: list[_Entry], chain: _Chain) -> str:
    broken = [e for e in entries if e.intact is False or not e.sha256]
    lines = [
        f"Dispute dossier of PO {order.number} ({order.product_name})",
        f"Buyer: {order.buyer}",
        f"Supplier: {order.supplier}",
        f"Generated {timezone.now():%Y-%m-%d %H:%M} UTC by the Serial Evidence Portal.",
        "",
        "approval-record.pdf  every approval, its signature and what it pinned; gates; payments",
        "timeline.csv         every event on the order from the hash-chained audit log",
        "serial-reports/      each uploaded serial list, its validation report and anomalies",
        "evidence/            every version of every evidence file, as uploaded",
        "statements/          each request with all statement versions and reviews",
        "inspections/         each inspection: plan, results, carton scans, label photos",
        "payments/            the documents that prove each payment",
        "integrity/           the order's audit chain segment, checkpoints, time-stamps",
        "manifest.json        the SHA-256 of every file, and the hash recorded at upload",
        "SHA256SUMS           the SHA-256 of every file, for sha256sum -c",
        "",
        "Check the files with:  sha256sum -c SHA256SUMS",
    ]
    if broken:
        lines += ["", "WARNING: these stored files no longer match the hash recorded at upload:"]
        lines += [f"  {e.path}" for e in broken]
    lines += _chain_readme(chain)
    return "\n".join(lines) + "\n"


def dossier_file(*, order: PurchaseOrder) -> IO[bytes]:
    """The dossier in a temporary file (spooled in memory while small), rewound for reading."""
    target = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    dossier_write(order=order, target=target)
    target.seek(0)
    return target
