"""The dispute dossier: everything needed to explain an order's decisions months later, in one
ZIP file that needs neither the portal nor the supplier to read.

Inside: ``approval-record.pdf`` (every approval with its signature, pins, gates and staleness,
then gates and payments), the serial reports (the stored report as JSON, its anomalies as CSV, and
the uploaded list itself), each batch's EPCIS 2.0 events (``dossier.epcis``), every version of
every evidence file, the statements with all their versions and reviews, the payments' proving
documents, the order's timeline from the audit log
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
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from approvals.models import Approval, Gate, Payment
from approvals.services import gate_states, signature_intact
from dossier.archive import Entry, Writer, safe_name
from dossier.chain import Chain, add_chain, chain_readme
from dossier.epcis import EpcisRefused, epcis_bytes, epcis_document
from evidence.models import EvidenceItem, EvidenceProvenance, EvidenceRequest
from evidence.selectors import freshness_flags
from inspection.models import CartonScan, InspectionPlan, UnitResult
from inspection.selectors import carton_reconciliation, plan_outcome
from orders.models import PurchaseOrder
from portal.exports import spreadsheet_safe
from portal.pdf import html_to_pdf
from serials.models import SerialList
from serials.selectors import ANOMALY_HEADER, anomaly_rows


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
        .prefetch_related("pins", "staleness", "unlocks", "open_points__closure__closed_by")
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
            f"Tests: {request.promises_label}",
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


def _add_inspections(writer: Writer, order: PurchaseOrder) -> None:
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


def _add_epcis(writer: Writer, order: PurchaseOrder) -> None:
    """Each batch's EPCIS 2.0 document (dossier.epcis), or why it cannot be written yet."""
    for batch in order.batches.select_related("order").order_by("code"):
        name = f"epcis/batch-{safe_name(batch.code)}"
        try:
            document = epcis_document(batch)
        except EpcisRefused as refusal:
            writer.add_bytes(
                f"{name}-not-written.txt",
                f"{refusal}\n".encode(),
                f"why batch {batch.code} has no EPCIS document yet",
            )
            continue
        writer.add_bytes(
            f"{name}.jsonld",
            epcis_bytes(document),
            f"EPCIS 2.0 events of batch {batch.code}: commissioning, packing, shipping",
        )


FINDINGS_HEADER = [
    "evidence",
    "version",
    "batch",
    "file",
    "kind",
    "uploaded_utc",
    "sha256",
    "capture_date_claimed_by_file",
    "content_credentials",
    "credentials_failures",
    "signer",
    "signer_issuer",
    "capture_time_claimed_by_credentials",
    "claimed_source_type",
    "perceptual_hash",
    "flags",
]


def _utc(moment: Any) -> str:
    return moment.astimezone(datetime.UTC).isoformat() if moment else ""


def _findings_rows(order: PurchaseOrder) -> Iterator[list[Any]]:
    """Each evidence file with what the portal read from its bytes (dates, C2PA content
    credentials, perceptual hash) and its flags. Other batches holding the same or a similar
    file are named when they are this order's, and are "another order" otherwise: the dossier
    leaves the buyer's hands."""
    items = list(
        EvidenceItem.objects.filter(batch__order=order)
        .select_related("batch__order")
        .order_by("id")
    )
    readings = {
        reading.item_id: reading
        for reading in EvidenceProvenance.objects.filter(item__in=[item.pk for item in items])
    }
    flags = freshness_flags(items, AnonymousUser(), named=order.batches.all())
    for item in items:
        reading = readings.get(item.pk)
        yield [
            item.pk,
            item.version,
            item.batch.code,
            item.original_name,
            item.get_kind_display(),
            _utc(item.uploaded_at),
            item.sha256,
            _utc(item.capture_date),
            reading.get_credentials_display() if reading else "not read yet",
            "; ".join(reading.failure_codes) if reading else "",
            reading.signer if reading else "",
            reading.signer_issuer if reading else "",
            _utc(reading.claimed_at) if reading else "",
            reading.source_type_label if reading and reading.source_type else "",
            f"{reading.phash & 0xFFFF_FFFF_FFFF_FFFF:016x}"
            if reading and reading.phash is not None
            else "",
            " | ".join(f"{flag.label}: {flag.detail}" for flag in flags.get(item.pk, [])),
        ]


# What the dossier holds besides the order's rows: the PDF, the timeline, the evidence findings,
# the chain segment and checkpoints list, the last verification, and manifest.json, README.txt
# and SHA256SUMS.
_FIXED_ENTRIES = 9

Progress = Callable[[int, int], None]


def dossier_entries_expected(order: PurchaseOrder) -> int:
    """About how many files the order's dossier holds (a progress bar's scale: the chain's
    checkpoints and tokens are not counted, so the count written may pass it)."""
    serial_lists = SerialList.objects.filter(batch__order=order)
    plans = InspectionPlan.objects.filter(batch__order=order)
    return (
        _FIXED_ENTRIES
        + serial_lists.count()
        + 2 * serial_lists.filter(report__isnull=False).count()
        + EvidenceItem.objects.filter(batch__order=order).count()
        + EvidenceRequest.objects.filter(batch__order=order).count()
        + 3 * plans.count()
        + UnitResult.objects.filter(unit__plan__in=plans).exclude(photo="").count()
        + Payment.objects.filter(gate__order=order).count()
        + order.batches.count()  # an EPCIS document, or why there is none yet
    )


def dossier_write(
    *, order: PurchaseOrder, target: IO[bytes], progress: Progress | None = None
) -> list[Entry]:
    """Write the order's dossier as a ZIP into ``target``; return what it holds.

    ``progress(written, expected)`` is called after each file is written (and once at the end
    with both equal): ``expected`` is ``dossier_entries_expected``, raised when passed."""
    expected = dossier_entries_expected(order) if progress is not None else 0

    def entry_written(_entry: Entry) -> None:
        nonlocal expected
        if progress is not None:
            written = len(writer.entries)
            expected = max(expected, written + 3)  # manifest, README and SHA256SUMS still to come
            progress(written, expected)

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = Writer(archive, on_entry=entry_written)
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
        _add_epcis(writer, order)
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
        writer.add_bytes(
            "evidence/findings.csv",
            _csv(FINDINGS_HEADER, _findings_rows(order)),
            "what was read from each evidence file: dates, content credentials, flags",
        )
        for path, text in _statements_text(order):
            writer.add_bytes(path, text.encode("utf-8"), "a request with every statement version")
        _add_inspections(writer, order)
        chain = add_chain(writer, order)
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
    if progress is not None:
        progress(expected, expected)
    return writer.entries


def _readme(order: PurchaseOrder, entries: list[Entry], chain: Chain) -> str:
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
        "epcis/               each batch's EPCIS 2.0 events (JSON-LD), or why there are none yet",
        "evidence/            every version of every evidence file, as uploaded;",
        "                     findings.csv: the dates, C2PA content credentials, perceptual",
        "                     hash and flags the portal read from each",
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
    lines += chain_readme(chain)
    return "\n".join(lines) + "\n"


def dossier_file(*, order: PurchaseOrder) -> IO[bytes]:
    """The dossier in a temporary file (spooled in memory while small), rewound for reading."""
    target = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    dossier_write(order=order, target=target)
    target.seek(0)
    return target
