"""Scoped reads for evidence, and the freshness flags worked out from what is on file."""

from __future__ import annotations

import datetime
import difflib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from evidence.models import EvidenceItem, EvidenceProvenance, EvidenceRequest, Statement
from evidence.similar import SimilarPhoto, similar_photos
from orders.models import Batch, PurchaseOrder
from orders.selectors import batches_visible_to
from portal.models import User


def evidence_visible_to(user: User | AnonymousUser) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.select_related("batch__order", "uploaded_by", "provenance").filter(
        batch__in=batches_visible_to(user)
    )


def evidence_for(user: User | AnonymousUser, pk: int) -> EvidenceItem:
    return get_object_or_404(evidence_visible_to(user), pk=pk)


def requests_visible_to(user: User | AnonymousUser) -> QuerySet[EvidenceRequest]:
    return EvidenceRequest.objects.select_related("batch__order", "asked_by").filter(
        batch__in=batches_visible_to(user)
    )


def request_for(user: User | AnonymousUser, pk: int) -> EvidenceRequest:
    return get_object_or_404(requests_visible_to(user), pk=pk)


def statement_for(user: User | AnonymousUser, pk: int) -> Statement:
    return get_object_or_404(
        Statement.objects.select_related("request__batch__order").filter(
            request__in=requests_visible_to(user)
        ),
        pk=pk,
    )


def _utc(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment, datetime.UTC), "DATETIME_FORMAT")


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    detail: str


def freshness_flags(
    items: list[EvidenceItem],
    viewer: User | AnonymousUser,
    *,
    named: QuerySet[Batch] | None = None,
) -> dict[int, list[Flag]]:
    """Why each item may be old or generic media, or came too late to support a decision.
    Another batch holding the same or a similar file is named when it is among ``named``
    (by default the batches the viewer may see), and is "another order" otherwise."""
    flags: dict[int, list[Flag]] = defaultdict(list)
    elsewhere: dict[str, list[tuple[int, str, str, int]]] = defaultdict(list)
    shas = {item.sha256 for item in items}
    for sha, batch_id, code, number, supplier_id in EvidenceItem.objects.filter(
        sha256__in=shas
    ).values_list(
        "sha256", "batch_id", "batch__code", "batch__order__number", "batch__order__supplier_id"
    ):
        elsewhere[sha].append((batch_id, code, number, supplier_id))
    readings = {
        item_id: (credentials, codes, phash)
        for item_id, credentials, codes, phash in EvidenceProvenance.objects.filter(
            item__in=[item.pk for item in items]
        ).values_list("item_id", "credentials", "credential_codes", "phash")
    }
    similar = similar_photos(phash for _, _, phash in readings.values() if phash is not None)
    other_batches = {entry[0] for entries in elsewhere.values() for entry in entries}
    other_batches |= {photo.batch_id for photos in similar.values() for photo in photos}
    nameable = batches_visible_to(viewer) if named is None else named
    visible = set(nameable.filter(pk__in=other_batches).values_list("pk", flat=True))
    releases: dict[int, list[tuple[int | None, datetime.datetime, str]]] = defaultdict(list)
    # Reverse lookups, not an import: gates and their releases live in approvals, above, so the
    # gate model is known here only at run time.
    gate_model: Any = PurchaseOrder._meta.get_field("gates").related_model
    kinds = dict(gate_model._meta.get_field("kind").flatchoices)
    for order_id, batch_id, released_at, gate_kind in PurchaseOrder.objects.filter(
        pk__in={item.batch.order_id for item in items}, gates__release__isnull=False
    ).values_list("pk", "gates__batch_id", "gates__release__released_at", "gates__kind"):
        releases[order_id].append((batch_id, released_at, str(kinds[gate_kind])))
    for item in items:
        order = item.batch.order
        started = item.batch.production_started_on
        late = [
            (released_at, label)
            for batch_id, released_at, label in releases[order.pk]
            if batch_id in (None, item.batch_id) and released_at < item.uploaded_at
        ]
        if late:
            released_at, label = min(late)
            flags[item.pk].append(
                Flag(
                    "after_gate_released",
                    gettext("Uploaded after the gate was released"),
                    gettext(
                        "%(gate)s was released on %(released)s UTC; this file arrived on "
                        "%(arrived)s UTC and cannot have supported that decision."
                    )
                    % {
                        "gate": label,
                        "released": _utc(released_at),
                        "arrived": _utc(item.uploaded_at),
                    },
                )
            )
        if item.capture_date and item.capture_date.date() < order.order_date:
            flags[item.pk].append(
                Flag(
                    "captured_before_order",
                    gettext("Captured before the order existed"),
                    gettext("The file claims %(captured)s; PO %(order)s is dated %(dated)s.")
                    % {
                        "captured": date_format(item.capture_date, "DATE_FORMAT"),
                        "order": order.number,
                        "dated": date_format(order.order_date, "DATE_FORMAT"),
                    },
                )
            )
        elif item.capture_date and started and item.capture_date.date() < started:
            flags[item.pk].append(
                Flag(
                    "captured_before_production",
                    gettext("Captured before production started (%(started)s)")
                    % {"started": date_format(started, "DATE_FORMAT")},
                    gettext(
                        "The file claims %(captured)s; batch %(batch)s went into production on "
                        "%(started)s, so it may not show this batch."
                    )
                    % {
                        "captured": date_format(item.capture_date, "DATE_FORMAT"),
                        "batch": item.batch.code,
                        "started": date_format(started, "DATE_FORMAT"),
                    },
                )
            )
        if item.is_image and item.processed_at and item.capture_date is None:
            flags[item.pk].append(
                Flag(
                    "no_capture_date",
                    gettext("No capture date"),
                    gettext("The photo carries no date of its own (messengers often strip it)."),
                )
            )
        others = [entry for entry in elsewhere[item.sha256] if entry[0] != item.batch_id]
        if others:
            # Name only the places the viewer may see; the rest stay anonymous.
            places = [
                gettext("batch %(batch)s of PO %(order)s") % {"batch": code, "order": number}
                if batch_id in visible
                else gettext("another order")
                for batch_id, code, number, _ in others
            ]
            flags[item.pk].append(
                Flag(
                    "seen_elsewhere",
                    gettext("Same file on another batch"),
                    gettext("Identical bytes are attached to %(places)s.")
                    % {"places": ", ".join(sorted(set(places)))},
                )
            )
        credentials, codes, phash = readings.get(item.pk, ("", [], None))
        if credentials == EvidenceProvenance.Credentials.INVALID:
            flags[item.pk].append(_invalid_credentials(codes))
        if phash is not None:
            alike = [
                photo
                for photo in similar[phash]
                if photo.batch_id != item.batch_id and photo.sha256 != item.sha256
            ]
            if alike:
                flags[item.pk].append(_similar_elsewhere(alike, visible))
    return flags


def _invalid_credentials(codes: list[str]) -> Flag:
    reading = EvidenceProvenance(credential_codes=codes)
    return Flag(
        "c2pa_invalid",
        gettext("Content credentials invalid"),
        gettext(
            "The file carries C2PA content credentials that fail validation: %(reasons)s "
            "(%(codes)s). It is not the file that was signed."
        )
        % {
            "reasons": "; ".join(reading.failure_reasons) or gettext("no reason given"),
            "codes": ", ".join(reading.failure_codes) or "—",
        },
    )


def _similar_elsewhere(alike: list[SimilarPhoto], visible: set[int]) -> Flag:
    """Named only where the viewer may see the other batch, like ``seen_elsewhere``."""
    places = sorted(
        {
            gettext("batch %(batch)s of PO %(order)s")
            % {"batch": photo.batch_code, "order": photo.order_number}
            if photo.batch_id in visible
            else gettext("another order")
            for photo in alike
        }
    )
    return Flag(
        "similar_elsewhere",
        gettext("Similar photo on another batch"),
        gettext(
            "A photo of nearly the same picture (resized, recompressed or cropped) is attached "
            "to %(places)s."
        )
        % {"places": ", ".join(places)},
    )


def batch_evidence_summary(batch: Batch, viewer: User | AnonymousUser) -> dict[str, object]:
    """Current versions, their flags, and which required kinds are still missing."""
    items = [
        item
        for item in evidence_visible_to(viewer).filter(batch=batch).select_related("replaced_by")
        if item.is_current
    ]
    flags = freshness_flags(items, viewer)
    present = {item.kind for item in items}
    requirements = list(batch.requirements.all())
    return {
        "items": [(item, flags.get(item.pk, [])) for item in items],
        "flag_count": sum(len(found) for found in flags.values()),
        "requirements": [(req, req.kind in present) for req in requirements],
        "missing_kinds": [req for req in requirements if req.kind not in present],
    }


@dataclass(frozen=True)
class DiffPart:
    op: str  # "same", "removed", "added"
    text: str


def statement_history(
    asked: EvidenceRequest,
) -> tuple[Statement | None, Statement | None, list[DiffPart] | None]:
    """A request's newest statement, the newest one the buyer reviewed, and the word diff
    between them (None when nothing was reviewed yet or the newest is the reviewed one)."""
    statements = list(asked.statements.select_related("written_by").prefetch_related("reviews"))
    reviewed = [statement for statement in statements if statement.reviews.all()]
    last_reviewed = reviewed[-1] if reviewed else None
    latest = statements[-1] if statements else None
    diff = None
    if latest and last_reviewed and latest.pk != last_reviewed.pk:
        diff = word_diff(last_reviewed.text, latest.text)
    return latest, last_reviewed, diff


def word_diff(before: str, after: str) -> list[DiffPart]:
    """Word by word, what changed from one statement to the next."""
    old, new = before.split(" "), after.split(" ")
    parts: list[DiffPart] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("same", " ".join(old[a1:a2])))
            continue
        if op in ("delete", "replace"):
            parts.append(DiffPart("removed", " ".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(DiffPart("added", " ".join(new[b1:b2])))
    return parts
