"""The tamper suite (issue 12): each kind of tampering with the record, on the seeded demo, is
refused by PostgreSQL's triggers or, done past them, named by ``integrity_verify``.

The demo is seeded once for the module (``seed_demo``, its notifications sent and a checkpoint
sealed after them) in a transaction that is never committed; each test runs in a savepoint
rolled back after it. Past the triggers is tried both ways: ``pgtrigger.ignore`` with the
model's trigger URIs, and ``SET session_replication_role = replica``, which disables every
trigger (a superuser's trick; foreign keys too).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pgtrigger
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction
from django.test.utils import override_settings

from approvals.models import (
    Approval,
    ApprovalPin,
    GateRelease,
    Payment,
    Signature,
)
from evidence.models import EvidenceItem, EvidenceProvenance, Statement
from inspection.models import UnitResult
from orders.models import ApprovedSample
from portal import anchors, tasks
from portal.models import AuditEvent, Notification, NotificationRead
from portal.notifications import RULES
from serials.models import (
    ExceptionAnswer,
    ExceptionDecision,
    SerialException,
    SerialList,
    SerialPlacement,
    SerialRun,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the triggers live in PostgreSQL only"
    ),
    # The module's tests share one open transaction: they run together, in one test process.
    pytest.mark.xdist_group("tamper"),
    # Each test in its own savepoint, inside the module's transaction (see ``demo``).
    pytest.mark.django_db,
]


@dataclass
class Demo:
    media: Path


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The seeded demo with its notifications sent, sealed by a checkpoint; never committed."""
    media = tmp_path_factory.mktemp("tamper") / "media"
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=str(media),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            for event_id in AuditEvent.objects.filter(
                action__in=list(RULES), order__isnull=False
            ).values_list("id", flat=True):
                tasks.send_notifications(event_id)
            assert Notification.objects.exists()
            anchors.checkpoint_seal()
            yield Demo(media=media)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def private_media(settings: Any, demo: Demo) -> None:
    """The module's media (the demo's files and anchors) instead of the test's own folder."""
    settings.MEDIA_ROOT = str(demo.media)


@pytest.fixture
def record(demo: Demo, django_db_blocker: Any) -> Iterator[Demo]:
    """The demo, in a savepoint rolled back after the test; its evidence files put back."""
    with django_db_blocker.unblock():
        names = [
            *EvidenceItem.objects.values_list("file", flat=True),
            *Payment.objects.values_list("document", flat=True),
            *SerialList.objects.values_list("file", flat=True),
        ]
        files = [Path(default_storage.path(name)) for name in names]
        kept = {path: path.read_bytes() for path in files}
        savepoint = transaction.savepoint()
        try:
            yield demo
        finally:
            transaction.savepoint_rollback(savepoint)
            for path, data in kept.items():
                path.write_bytes(data)


# ---------------------------------------------------------------- running the verification


def _verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("integrity_verify", stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()


def _named(out: str, table: str, row_id: int | str) -> bool:
    """A finding names the table and the row (or a range of ids holding it)."""
    for match in re.finditer(rf"^{re.escape(table)} (#?)(\S+?)[:\s]", out, re.M):
        ids = match.group(2)
        if str(row_id) == ids:
            return True
        if isinstance(row_id, int) and re.fullmatch(r"\d+–\d+", ids):
            first, last = (int(n) for n in ids.split("–"))
            if first <= row_id <= last:
                return True
    return False


# ---------------------------------------------------------------- past the triggers


def _uris(*models_: type[models.Model]) -> list[str]:
    return [
        f"{model._meta.label}:{trigger.name}"
        for model in models_
        for trigger in getattr(model._meta, "triggers", [])
    ]


@contextmanager
def _past(how: str, *models_: type[models.Model]) -> Iterator[None]:
    if how == "ignore":
        with pgtrigger.ignore(*_uris(*models_)):
            yield
            with connection.cursor() as cursor:  # what was done could be committed
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table


# ---------------------------------------------------------------- the kinds of tampering

# Each kind does its tampering (raw SQL, as someone with the database's keys would) and returns
# what integrity_verify must name: (table, id) pairs and phrases.
Expected = list[tuple[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    models: tuple[type[models.Model], ...]  # whose triggers stand in the way
    tamper: Callable[[], Expected]
    refusable: bool = True  # False: an INSERT or a file, which no trigger refuses
    outcome: str = ""  # for the README's table
    found_by: tuple[str, ...] = field(default=())


def _first(model: type[models.Model], **filters: Any) -> Any:
    return model._default_manager.filter(**filters).order_by("id").first()


def payment_amount() -> Expected:
    payment = _first(Payment, amount=18000)
    _sql(f"UPDATE {_table(Payment)} SET amount = 1800000 WHERE id = %s", [payment.pk])  # noqa: S608
    return [(_table(Payment), payment.pk)]


def payment_deleted() -> Expected:
    payment = _first(Payment)
    _sql(f"DELETE FROM {_table(Payment)} WHERE id = %s", [payment.pk])  # noqa: S608
    return [(_table(Payment), payment.pk), ("the row is gone", None)]


def payment_forged() -> Expected:
    payment = _first(Payment)
    _sql(
        f"INSERT INTO {_table(Payment)} (gate_id, kind, amount, currency, payee, paid_on, "  # noqa: S608
        "document, document_name, document_sha256, gate_state, reason, payee_named_in_file, "
        "recorded_by_id, recorded_at) SELECT gate_id, kind, 250000, currency, payee, paid_on, "
        "document, document_name, document_sha256, gate_state, reason, payee_named_in_file, "
        f"recorded_by_id, recorded_at FROM {_table(Payment)} WHERE id = %s",
        [payment.pk],
    )
    forged = Payment.objects.latest("id")
    return [(_table(Payment), forged.pk), ("no audit event (payment.recorded) records it", None)]


def payments_truncated() -> Expected:
    ids = list(Payment.objects.values_list("id", flat=True))
    _sql("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check left pending
    _sql(f"TRUNCATE {_table(Payment)}")
    return [(_table(Payment), row_id) for row_id in ids]


def release_deleted() -> Expected:
    release = _first(GateRelease)
    _sql(f"DELETE FROM {_table(GateRelease)} WHERE id = %s", [release.pk])  # noqa: S608
    return [(_table(GateRelease), release.pk)]


def releases_truncated() -> Expected:
    ids = list(GateRelease.objects.values_list("id", flat=True))
    _sql("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check left pending
    _sql(f"TRUNCATE {_table(GateRelease)}")
    return [(_table(GateRelease), row_id) for row_id in ids]


def decision_flipped() -> Expected:
    decision = _first(ExceptionDecision, decision="accepted")
    _sql(
        f"UPDATE {_table(ExceptionDecision)} SET decision = 'rejected' WHERE id = %s",  # noqa: S608
        [decision.pk],
    )
    return [(_table(ExceptionDecision), decision.pk)]


def answer_rewritten() -> Expected:
    answer = _first(ExceptionAnswer)
    _sql(
        f"UPDATE {_table(ExceptionAnswer)} SET note = 'Nothing happened.' WHERE id = %s",  # noqa: S608
        [answer.pk],
    )
    return [(_table(ExceptionAnswer), answer.pk)]


def exception_reopened() -> Expected:
    exception = _first(SerialException, status="accepted")
    _sql(
        f"UPDATE {_table(SerialException)} SET status = 'open' WHERE id = %s",  # noqa: S608
        [exception.pk],
    )
    pin = _first(ApprovalPin, kind="exception", object_id=exception.pk)
    return [(_table(ApprovalPin), pin.pk), (f"the exception #{exception.pk} it pins", None)]


def exceptions_deleted() -> Expected:
    serial_list = _first(SerialList, exceptions__isnull=False)
    ids = list(serial_list.exceptions.values_list("id", flat=True))
    _sql(f"DELETE FROM {_table(ExceptionDecision)} WHERE exception_id = ANY(%s)", [ids])  # noqa: S608
    _sql(f"DELETE FROM {_table(ExceptionAnswer)} WHERE exception_id = ANY(%s)", [ids])  # noqa: S608
    _sql(f"DELETE FROM {_table(SerialException)} WHERE id = ANY(%s)", [ids])  # noqa: S608
    return [(_table(SerialException), row_id) for row_id in ids]


def sample_layout_rewritten() -> Expected:
    """The approved sample's serial format widened, so that any serial would fit the layout."""
    sample = _first(ApprovedSample)
    _sql(
        f"UPDATE {_table(ApprovedSample)} SET serial_format = '' WHERE id = %s",  # noqa: S608
        [sample.pk],
    )
    found: Expected = [(_table(ApprovedSample), sample.pk)]
    pin = _first(ApprovalPin, kind="sample", object_id=sample.pk)
    if pin is not None:  # an approval that pinned it holds it to what it was
        found.append((_table(ApprovalPin), pin.pk))
    return found


def statement_rewritten() -> Expected:
    statement = _first(Statement)
    _sql(
        f"UPDATE {_table(Statement)} SET text = 'We never used another factory.' WHERE id = %s",  # noqa: S608
        [statement.pk],
    )
    pin = _first(ApprovalPin, kind="statement", object_id=statement.pk)
    return [(_table(Statement), statement.pk), (_table(ApprovalPin), pin.pk)]


def _swap_bytes(item: EvidenceItem) -> bytes:
    return _append_bytes(item.file.name)


def _append_bytes(name: str) -> bytes:
    path = Path(default_storage.path(name))
    forged = path.read_bytes() + b"\0swapped"
    path.write_bytes(forged)
    return forged


def evidence_swapped() -> Expected:
    """The file's bytes and the row's sha256 changed together: the file check holds."""
    pin = _first(ApprovalPin, kind="evidence")
    item = EvidenceItem.objects.get(pk=pin.object_id)
    forged = _swap_bytes(item)
    sha = hashlib.sha256(forged).hexdigest()
    _sql(
        f"UPDATE {_table(EvidenceItem)} SET sha256 = %s, size = %s WHERE id = %s",  # noqa: S608
        [sha, len(forged), item.pk],
    )
    return [
        (_table(EvidenceItem), item.pk),
        (_table(ApprovalPin), pin.pk),
        (f"(approval #{pin.approval_id}) the evidence #{item.pk} it pins has changed", None),
    ]


def evidence_bytes() -> Expected:
    item = _first(EvidenceItem)
    _swap_bytes(item)
    return [(_table(EvidenceItem), item.pk), ("stored bytes hash to", None)]


def payment_document_bytes() -> Expected:
    payment = _first(Payment)
    _append_bytes(payment.document.name)
    return [(_table(Payment), payment.pk), ("stored bytes hash to", None)]


def serial_list_bytes() -> Expected:
    serial_list = _first(SerialList, kind="production")
    _append_bytes(serial_list.file.name)
    return [(_table(SerialList), serial_list.pk), ("stored bytes hash to", None)]


def signature_factor_rewritten() -> Expected:
    """The record of the second factor that signed changed (a passkey claimed afterwards)."""
    signature = _first(Signature)
    _sql(
        f"UPDATE {_table(Signature)} SET factor = %s WHERE id = %s",  # noqa: S608
        ['{"kind": "passkey", "credential": 1}', signature.pk],
    )
    return [
        (_table(Signature), signature.pk),
        (_table(Approval), signature.approval_id),
        ("its signature does not bind it", None),
    ]


def evidence_deleted() -> Expected:
    item = EvidenceItem.objects.filter(replaced_by__isnull=True).order_by("-id").first()
    # The worker's reading of its bytes goes with it, as a tamperer would have to (its key).
    _sql(f"DELETE FROM {_table(EvidenceProvenance)} WHERE item_id = %s", [item.pk])  # noqa: S608
    _sql(f"DELETE FROM {_table(EvidenceItem)} WHERE id = %s", [item.pk])  # noqa: S608
    pin = _first(ApprovalPin, kind="evidence", object_id=item.pk)
    return [(_table(EvidenceItem), item.pk), (_table(ApprovalPin), pin.pk)]


def report_rewritten() -> Expected:
    serial_list = _first(SerialList, kind="production", status="done")
    assert serial_list.report["missing_count"] > 0
    _sql(
        f"UPDATE {_table(SerialList)} SET report = jsonb_set(report, '{{missing_count}}', '0') "  # noqa: S608
        "WHERE id = %s",
        [serial_list.pk],
    )
    pin = _first(ApprovalPin, kind="serial_list", object_id=serial_list.pk)
    return [(_table(SerialList), serial_list.pk), (_table(ApprovalPin), pin.pk)]


def run_widened() -> Expected:
    run = SerialRun.objects.order_by("-hi").first()  # the last: widened, it overlaps no other
    _sql(f"UPDATE {_table(SerialRun)} SET hi = hi + 5000 WHERE id = %s", [run.pk])  # noqa: S608
    return [(_table(SerialRun), run.pk)]


def placement_customer() -> Expected:
    placement = SerialPlacement.objects.exclude(customer_reference="").order_by("id")[100]
    _sql(
        f"UPDATE {_table(SerialPlacement)} SET customer_reference = 'ACME-RETURNS' "  # noqa: S608
        "WHERE id = %s",
        [placement.pk],
    )
    return [(_table(SerialPlacement), placement.pk)]


def unit_result_flipped() -> Expected:
    result = _first(UnitResult, defective=True)
    _sql(
        f"UPDATE {_table(UnitResult)} SET defective = false, defects = '' WHERE id = %s",  # noqa: S608
        [result.pk],
    )
    return [(_table(UnitResult), result.pk)]


def sentence_rewritten() -> Expected:
    approval = _first(Approval)
    _sql(
        f"UPDATE {_table(Approval)} SET sentence = 'Rejected: do not ship.' WHERE id = %s",  # noqa: S608
        [approval.pk],
    )
    return [(_table(Approval), approval.pk), ("its signature does not bind it", None)]


def signature_copied() -> Expected:
    """A second approval forged (INSERT) for another batch, the first one's signature copied."""
    approval = _first(Approval)
    other = approval.order.batches.exclude(pk=approval.batch_id).order_by("id").first()
    _sql(
        f"INSERT INTO {_table(Approval)} (order_id, batch_id, decision, sentence, conditions, "  # noqa: S608
        "keep_unchanged, inspector_checks, based_on_id, manifest, manifest_sha256, created_at, "
        "promises, gate_reason) "
        "SELECT order_id, %s, decision, sentence, conditions, keep_unchanged, "
        "inspector_checks, NULL, manifest, manifest_sha256, created_at, promises, gate_reason "
        f"FROM {_table(Approval)} WHERE id = %s",
        [other.pk, approval.pk],
    )
    forged = Approval.objects.latest("id")
    _sql(
        f"INSERT INTO {_table(Signature)} (approval_id, signer_id, printed_name, meaning, "  # noqa: S608
        "signed_at, manifest_sha256, signature_sha256, factor) SELECT %s, signer_id, "
        "printed_name, meaning, signed_at, manifest_sha256, signature_sha256, factor "
        f"FROM {_table(Signature)} "
        "WHERE approval_id = %s",
        [forged.pk, approval.pk],
    )
    signature = Signature.objects.get(approval=forged)
    return [
        (_table(Approval), forged.pk),
        (_table(Signature), signature.pk),
        ("its signature does not bind it", None),
    ]


def pin_rewritten() -> Expected:
    pin = _first(ApprovalPin, kind="evidence")
    _sql(
        f"UPDATE {_table(ApprovalPin)} SET fingerprint = %s WHERE id = %s",  # noqa: S608
        ["sha256:" + "0" * 64, pin.pk],
    )
    return [
        (_table(ApprovalPin), pin.pk),
        (_table(Approval), pin.approval_id),
        ("its signature does not bind it", None),
    ]


def _rehash_plain(first_id: int) -> None:
    """Re-hash the chain from ``first_id`` with plain SHA-256 (no key), each link kept."""
    before = AuditEvent.objects.filter(pk__lt=first_id).order_by("-id").first()
    prev = before.hash if before else "0" * 64
    for event in AuditEvent.objects.filter(pk__gte=first_id).order_by("id"):
        event.prev_hash = prev
        event.hash = hashlib.sha256(event.canonical()).hexdigest()
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
        prev = event.hash


def event_rewritten() -> Expected:
    """The payment and its event rewritten together, the event's content hash recomputed so
    the records agree, and the chain re-hashed without the key."""
    from approvals.records import SEALS
    from portal.records import row_hashes

    payment = _first(Payment)
    _sql(f"UPDATE {_table(Payment)} SET amount = 1800000 WHERE id = %s", [payment.pk])  # noqa: S608
    seal = next(seal for seal in SEALS if seal.model is Payment)
    [(_id, sha)] = list(row_hashes(seal, pk=payment.pk))
    event = AuditEvent.objects.get(action="payment.recorded", object_id=str(payment.pk))
    payload = {**event.payload, "amount": "1800000.00", "content_sha256": sha}
    AuditEvent.objects.filter(pk=event.pk).update(payload=payload)
    _rehash_plain(event.pk)
    return [(_table(AuditEvent), event.pk), ("not the HMAC of their contents", None)]


def tail_deleted() -> Expected:
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:3])
    _sql(f"DELETE FROM {_table(Notification)} WHERE event_id = ANY(%s)", [newest])  # noqa: S608
    _sql(f"DELETE FROM {_table(AuditEvent)} WHERE id = ANY(%s)", [newest])  # noqa: S608
    return [
        (f"the chain no longer holds event #{max(newest)}", None),
        ("deleted from the tail, or truncated", None),
    ]


def audit_truncated() -> Expected:
    count = AuditEvent.objects.count()
    _sql("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check left pending
    _sql(f"TRUNCATE {_table(AuditEvent)} CASCADE")
    payment = _first(Payment)
    return [
        (f"sealed as the head of {count} events; it holds 0", None),
        (_table(Payment), payment.pk),
    ]


def notification_deleted() -> Expected:
    notification = _first(Notification)
    _sql(f"DELETE FROM {_table(Notification)} WHERE id = %s", [notification.pk])  # noqa: S608
    return [(_table(Notification), notification.pk)]


KINDS = [
    Kind("payment amount changed", (Payment,), payment_amount),
    Kind("payment deleted", (Payment,), payment_deleted),
    Kind("payment forged (inserted)", (Payment,), payment_forged, refusable=False),
    Kind("payments truncated", (Payment,), payments_truncated),
    Kind("gate release deleted", (GateRelease,), release_deleted),
    Kind("gate releases truncated", (GateRelease,), releases_truncated),
    Kind("exception decision flipped", (ExceptionDecision,), decision_flipped),
    Kind("exception answer rewritten", (ExceptionAnswer,), answer_rewritten),
    Kind("exception set back to open", (SerialException,), exception_reopened),
    Kind(
        "serial list's exceptions deleted",
        (ExceptionDecision, ExceptionAnswer, SerialException),
        exceptions_deleted,
    ),
    Kind("statement rewritten", (Statement,), statement_rewritten),
    Kind("approved sample's layout rewritten", (ApprovedSample,), sample_layout_rewritten),
    Kind("evidence file and sha256 swapped", (EvidenceItem,), evidence_swapped),
    Kind("evidence file bytes changed", (), evidence_bytes, refusable=False),
    Kind("evidence item deleted", (EvidenceItem, EvidenceProvenance), evidence_deleted),
    Kind("payment document bytes changed", (), payment_document_bytes, refusable=False),
    Kind("serial list file bytes changed", (), serial_list_bytes, refusable=False),
    Kind("signature's second factor rewritten", (Signature,), signature_factor_rewritten),
    Kind("serial report rewritten", (SerialList,), report_rewritten),
    Kind("registry run widened", (SerialRun,), run_widened),
    Kind("placement's customer changed", (SerialPlacement,), placement_customer),
    Kind("inspection result flipped", (UnitResult,), unit_result_flipped),
    Kind("approval sentence rewritten", (Approval,), sentence_rewritten),
    Kind(
        "signature copied onto a forged approval",
        (Approval, Signature),
        signature_copied,
        refusable=False,
    ),
    Kind("pin fingerprint rewritten", (ApprovalPin,), pin_rewritten),
    Kind(
        "event rewritten, re-hashed without the key",
        (Payment, AuditEvent),
        event_rewritten,
    ),
    Kind(
        "audit tail deleted after a checkpoint",
        (AuditEvent, Notification, NotificationRead),
        tail_deleted,
    ),
    Kind("audit events truncated", (AuditEvent, Notification, NotificationRead), audit_truncated),
    Kind("notification deleted", (Notification,), notification_deleted),
]
IDS = [kind.name.replace(" ", "-").replace("'", "") for kind in KINDS]


def test_the_untouched_record_verifies(record: Demo) -> None:
    code, out = _verify()
    assert code == 0, out
    assert "Integrity holds" in out
    assert "approvals-signatures 2" in out  # B1's, and B2's accepted with conditions


@pytest.mark.parametrize(
    "kind", [k for k in KINDS if k.refusable], ids=lambda k: IDS[KINDS.index(k)]
)
def test_the_database_refuses_it(record: Demo, kind: Kind) -> None:
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        kind.tamper()


@pytest.mark.parametrize("how", ["ignore", "replica"])
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_done_past_the_triggers_it_is_found(record: Demo, kind: Kind, how: str) -> None:
    with _past(how, *kind.models):
        expected = kind.tamper()
    code, out = _verify()
    assert code == 1, out
    for table, row_id in expected:
        if row_id is None:
            assert table in out, out
        else:
            assert _named(out, table, row_id), f"{table} #{row_id} not named:\n{out}"
