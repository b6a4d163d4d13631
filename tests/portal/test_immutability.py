"""Every record a decision rests on is append-only in the database itself: UPDATE, DELETE and
TRUNCATE refused by PostgreSQL triggers (``portal.immutability.append_only``), except the
working-state transitions each model names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, models, transaction

from evidence import services as evidence_services
from evidence.models import EvidenceItem
from portal.immutability import NO_TRUNCATE, is_append_only
from serials import services
from serials.models import NumberingRule, SerialCode, SerialException, SerialList, SerialRun
from tests.conftest import Cast
from tests.evidence.conftest import jpeg
from tests.serials.conftest import csv_file

OUR_APPS = {
    "portal",
    "accounts",
    "orders",
    "serials",
    "evidence",
    "inspection",
    "approvals",
    "lookup",
}

# Records a decision rests on (issue 12): each must be append-only.
DECISION_RECORDS = {
    "portal.AuditEvent",
    "portal.Notification",
    "portal.NotificationRead",
    "evidence.EvidenceItem",
    "evidence.EvidenceRequirement",
    "evidence.EvidenceRequest",
    "evidence.Statement",
    "evidence.StatementReview",
    "evidence.Responsibility",
    "serials.AllocatedRange",
    "serials.AllocatedCodeList",
    "serials.SerialList",
    "serials.SerialRun",
    "serials.SerialCode",
    "serials.SerialException",
    "serials.ExceptionAnswer",
    "serials.ExceptionAttachment",
    "serials.ExceptionDecision",
    "serials.SerialPlacement",
    "serials.SerialLifeEvent",
    "inspection.InspectionPlan",
    "inspection.SampledUnit",
    "inspection.UnitResult",
    "inspection.BlockedStep",
    "inspection.CartonScan",
    "inspection.LayoutCheck",
    "orders.ApprovedSample",
    "approvals.Gate",
    "approvals.Approval",
    "approvals.ApprovalGate",
    "approvals.ApprovalPin",
    "approvals.Signature",
    "approvals.ApprovalStaleness",
    "approvals.GateRelease",
    "approvals.Payment",
    "approvals.OpenPoint",
    "approvals.OpenPointClosure",
}

# Append-only too, but no decision rests on them, so no audit event seals each row (each with
# its reason).
LOGS = {
    "evidence.EvidenceProvenance": (
        "the worker's reading of a file's bytes (content credentials, perceptual hash): derived "
        "from sealed bytes, recomputable"
    ),
    "lookup.LookupLog": "what a person looked up, for their recent lookups: one INSERT a lookup",
    "lookup.PublicCheck": "a public genuine-or-not check, for the brand's hot spots: one INSERT",
}

# Kept editable on purpose, each with its reason; every change is an audit event.
EDITABLE = {
    "portal.User": "people change their names, passwords and e-mail addresses",
    "portal.Organisation": "a company's name and details change",
    "portal.Membership": "a person's role in an organisation changes",
    "orders.PurchaseOrder": "the buyer edits an order's terms before and while it runs",
    "orders.Batch": "planning and production details are filled in over time",
    "serials.NumberingRule": "the rule of a product is replaced; each list keeps a copy of it",
    "accounts.ApiToken": "a token's last use is recorded; revoked and expired tokens are deleted",
}

# A docstring that says so is a claim the database must keep.
CLAIMS = re.compile(r"append-only|never (updated|edited|changed|overwritten)|immutable", re.I)


def _our_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]


def _triggers(model: type[models.Model]) -> list:
    return list(getattr(model._meta, "triggers", []))


def test_every_model_is_append_only_or_says_why_not() -> None:
    labels = {model._meta.label for model in _our_models()}
    listed = DECISION_RECORDS | set(LOGS) | set(EDITABLE)
    assert listed == labels, "a new model must be placed in one list"
    for model in _our_models():
        label = model._meta.label
        if label in DECISION_RECORDS or label in LOGS:
            assert is_append_only(_triggers(model)), f"{label} is a record without the triggers"
        else:
            assert not is_append_only(_triggers(model)), f"{label} is listed as editable"


def test_a_model_that_claims_to_be_append_only_has_the_triggers() -> None:
    claiming = [m for m in _our_models() if CLAIMS.search(m.__doc__ or "")]
    assert claiming, "the check must see the claims it looks for"
    for model in claiming:
        assert is_append_only(_triggers(model)), f"{model._meta.label} claims append-only"


@contextmanager
def _refused() -> Iterator[None]:
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        yield


def _delete(rows: models.QuerySet) -> None:
    """As someone with SQL would: past the ORM's on_delete checks, straight to the table."""
    ids = list(rows.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(rows.model._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [ids])  # noqa: S608


def _installed(table: str) -> dict[str, set[str]]:
    """Each operation the table's enabled triggers fire on, with their levels."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relname = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'
            """,
            [table],
        )
        found: dict[str, set[str]] = {}
        for (tgtype,) in cursor.fetchall():
            level = "row" if tgtype & 1 else "statement"
            for bit, operation in ((4, "INSERT"), (8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE")):
                if tgtype & bit:
                    found.setdefault(operation, set()).add(level)
        return found


@pytest.mark.django_db
def test_the_database_refuses_truncate_and_holds_row_triggers_on_every_record() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    for label in sorted(DECISION_RECORDS | set(LOGS)):
        table = apps.get_model(label)._meta.db_table
        installed = _installed(table)
        assert "row" in installed.get("UPDATE", set()), label
        assert "row" in installed.get("DELETE", set()), label
        assert "statement" in installed.get("TRUNCATE", set()), label
        with _refused(), connection.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{table}" CASCADE')
    names = {t.name for m in _our_models() for t in _triggers(m) if t.name.endswith(NO_TRUNCATE)}
    assert names


@pytest.fixture
def validated(cast: Cast, rule: NumberingRule) -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=csv_file([1, 2, 5, 5]),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def test_a_finished_serial_list_and_its_upload_facts_cannot_change(
    cast: Cast, rule: NumberingRule, validated: SerialList
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    assert validated.status == SerialList.Status.DONE
    rows = SerialList.objects.filter(pk=validated.pk)
    with _refused():
        rows.update(report={"missing_count": 0})
    with _refused():
        rows.update(status=SerialList.Status.QUEUED)
    with _refused():
        _delete(rows)
    queued = services.serial_list_upload(
        batch=cast.batches["own"], user=cast.users["supplier_a"], uploaded_file=csv_file([1])
    )
    fresh = SerialList.objects.filter(pk=queued.pk)
    fresh.update(status=SerialList.Status.RUNNING, progress=10)  # the job's working state
    with _refused():
        fresh.update(sha256="0" * 64)  # what was uploaded, never


def test_an_exception_moves_only_along_its_answers_and_decisions(
    cast: Cast, rule: NumberingRule, validated: SerialList
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    exception = validated.exceptions.filter(status=SerialException.Status.OPEN).first()
    assert exception is not None
    row = SerialException.objects.filter(pk=exception.pk)
    with _refused():
        row.update(status=SerialException.Status.ACCEPTED)  # accepted with no answer
    with _refused():
        row.update(summary="nothing to see")
    services.exception_answer(
        exceptions=[exception], user=cast.users["supplier_a"], reason="test_scrap", note="Scrap."
    )
    services.exception_decide(
        exceptions=[exception], user=cast.users["buyer"], decision="accepted", promises=["identity"]
    )
    with _refused():
        row.update(status=SerialException.Status.OPEN)
    with _refused():
        _delete(row)


def test_pending_registry_rows_are_replaced_and_accepted_ones_stay(
    cast: Cast, rule: NumberingRule
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    clean = services.serial_list_upload(
        batch=cast.batches["own"], user=cast.users["supplier_a"], uploaded_file=csv_file([1, 2])
    )
    services.serial_list_validate(serial_list_id=clean.pk)
    runs = SerialRun.objects.filter(batch=cast.batches["own"])
    assert runs.exists() and not runs.filter(accepted=True).exists()
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert runs.filter(accepted=True).exists()
    with _refused():
        runs.update(accepted=False)
    with _refused():
        runs.update(hi=99)
    with _refused():
        _delete(runs)
    assert not SerialCode.objects.exists()


def test_an_evidence_item_is_processed_once_and_then_never_changes(cast: Cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    item = evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="photo",
        uploaded_file=jpeg("line.jpg"),
    )
    row = EvidenceItem.objects.filter(pk=item.pk)
    with _refused():
        row.update(sha256="0" * 64)  # the bytes' hash, never
    evidence_services.evidence_process(item_id=item.pk)
    assert row.get().processed_at is not None
    with _refused():
        row.update(capture_date=None)  # processed: its findings stand
    with _refused():
        _delete(row)
