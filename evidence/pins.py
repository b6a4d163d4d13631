"""What an approval can pin in evidence: a file version and a statement version (registered in
``EvidenceConfig.ready``; see ``portal.registries``)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError

from evidence.models import EvidenceItem, Statement
from orders.models import Batch
from portal.registries import PinKind, Pinned, Superseded


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _evidence_resolve(object_id: int) -> Pinned:
    # Locked like the writers lock them, so nothing changes between pinning and commit.
    item = EvidenceItem.objects.select_for_update().get(pk=object_id)
    item = EvidenceItem.objects.select_related("replaced_by").get(pk=item.pk)
    if not item.is_current:
        raise ValidationError(f"{item} has a newer version: pin the newest one.")
    return Pinned("evidence", item.pk, item.batch_id, str(item), f"sha256:{item.sha256}")


def _evidence_candidates(batch: Batch) -> list[tuple[int, str]]:
    return [
        (item.pk, f"Evidence: {item}")
        for item in EvidenceItem.objects.filter(batch=batch, replaced_by__isnull=True)
    ]


def _evidence_superseded(item: EvidenceItem) -> list[Superseded]:
    replaces = item.previous
    if replaces is None:
        return []
    return [
        (
            [replaces.pk],
            f"{replaces.original_name} (v{replaces.version}) was replaced by version "
            f"{item.version} ({item.original_name}).",
        )
    ]


def _statement_resolve(object_id: int) -> Pinned:
    statement = Statement.objects.select_related("request").get(pk=object_id)
    type(statement.request).objects.select_for_update().get(pk=statement.request_id)
    latest = statement.request.statements.order_by("-version").first()
    if latest is not None and latest.pk != statement.pk:
        raise ValidationError(f"{statement} has a newer version: pin the newest one.")
    return Pinned(
        "statement",
        statement.pk,
        statement.request.batch_id,
        str(statement),
        f"v{statement.version};sha256:{_sha(statement.text)}",
    )


def _statement_candidates(batch: Batch) -> list[tuple[int, str]]:
    choices = []
    for asked in batch.evidence_requests.prefetch_related("statements"):
        statements = list(asked.statements.all())
        if statements:
            latest = statements[-1]
            choices.append((latest.pk, f"Statement v{latest.version} on “{asked}”"))
    return choices


def _statement_superseded(statement: Statement) -> list[Superseded]:
    request = statement.request
    return [
        (
            request.statements.exclude(pk=statement.pk).values_list("pk", flat=True),
            f"The statement on “{request.subject}” was revised (version {statement.version}).",
        )
    ]


PIN_KINDS = [
    PinKind(
        kind="evidence",
        label="Evidence version",
        batch_id=lambda pk: (
            EvidenceItem.objects.filter(pk=pk).values_list("batch_id", flat=True).first()
        ),
        resolve=_evidence_resolve,
        candidates=_evidence_candidates,
        superseded_by={"evidence.replaced": _evidence_superseded},
    ),
    PinKind(
        kind="statement",
        label="Statement version",
        batch_id=lambda pk: (
            Statement.objects.filter(pk=pk).values_list("request__batch_id", flat=True).first()
        ),
        resolve=_statement_resolve,
        candidates=_statement_candidates,
        superseded_by={"statement.written": _statement_superseded},
    ),
]
