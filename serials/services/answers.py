"""The supplier's answers to serial exceptions and the buyer's decisions on them: many rows in
one call, each with its own reason (or decision) and note, written in one transaction or not at
all; a photo or PDF attached to the answers of one call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from orders.promises import promises_joined
from orders.selectors import batches_visible_to
from portal.audit import audit_log
from portal.models import Role, User
from portal.roles import can_manage_orders, membership_of
from portal.storage import store_by_hash
from portal.uploads import upload_checked
from serials.exception_models import NOTE_REQUIRED, Reason
from serials.models import (
    ExceptionAnswer,
    ExceptionAttachment,
    ExceptionDecision,
    SerialException,
)

# What an answer may carry: a photo or a PDF, through the same gate as evidence.
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
NOTE_MAX_CHARS = 4000
# The code of a decision's refusal when the supplier answered again since the buyer read the
# answer (the API answers it 409; the page names the row).
STALE_ANSWER = "stale_answer"


@dataclass(frozen=True)
class AnswerRow:
    """One exception's answer: its reason code and what happened, in the supplier's words."""

    exception_id: int
    reason: str
    note: str = ""


@dataclass(frozen=True)
class DecisionRow:
    """The buyer's decision on one answered exception, with an optional note to the supplier."""

    exception_id: int
    decision: str
    note: str = ""
    # The answer the buyer was shown: a decision never lands on a newer answer it did not read.
    answer_id: int | None = None


def row_errors(error: ValidationError) -> dict[int, list[str]]:
    """The messages of a refused call, by the id of the exception each names (0: the call)."""
    if not hasattr(error, "error_dict"):
        return {0: list(error.messages)}
    found: dict[int, list[str]] = {}
    for key, messages in error.message_dict.items():
        found.setdefault(int(key) if key.isdigit() else 0, []).extend(messages)
    return found


def _answer_problem(row: AnswerRow, exception: SerialException) -> str:
    # Every stored reason is taken, a retired one too: supplier systems written against the API
    # may still send it. The page offers only today's (serials.forms).
    if not row.reason:
        return _("choose a reason.")
    if row.reason not in Reason.values:
        return _("“%(reason)s” is not a reason code.") % {"reason": row.reason}
    if row.reason in NOTE_REQUIRED and not row.note.strip():
        return _("“Other” needs a note saying what happened.")
    if len(row.note) > NOTE_MAX_CHARS:
        return _("the note is longer than %(limit)s characters.") % {"limit": f"{NOTE_MAX_CHARS:,}"}
    if exception.status == SerialException.Status.ACCEPTED:
        return _("already accepted by the buyer.")
    return ""


@transaction.atomic
def exceptions_answer(
    *, rows: Sequence[AnswerRow], user: User, attachment: UploadedFile | None = None
) -> list[ExceptionAnswer]:
    """The supplier answers many exceptions at once, each with its own reason and note, and may
    attach one photo or PDF to all of them. Every row is checked before anything is written; a
    refusal names each bad row (a ValidationError keyed by exception id) and writes nothing."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.SUPPLIER:
        raise PermissionDenied(_("Only the supplier answers exceptions."))
    exceptions = _locked([row.exception_id for row in rows], user)
    problems: dict[str, str] = {}
    for row in rows:
        problem = _answer_problem(row, exceptions[row.exception_id])
        if problem:
            problems[str(row.exception_id)] = problem
    if problems:
        raise ValidationError(problems)
    stored = _attachment_stored(attachment) if attachment else None
    latest = _latest_answers(exceptions)
    answers = []
    for row in rows:
        exception = exceptions[row.exception_id]
        note = row.note.strip()
        newest = latest.get(exception.pk)
        if (
            stored is None
            and newest is not None
            and exception.status == SerialException.Status.ANSWERED
            and (newest.reason, newest.note) == (row.reason, note)
        ):
            # The same answer sent twice (a double click, a retried request): it stands once.
            answers.append(newest)
            continue
        answer = ExceptionAnswer.objects.create(
            exception=exception, reason=row.reason, note=note, answered_by=user
        )
        payload: dict[str, object] = {"reason": row.reason, "note": note}
        if stored is not None:
            storage_name, name, content_type, sha, size = stored
            ExceptionAttachment.objects.create(
                answer=answer,
                file=storage_name,
                original_name=name,
                content_type=content_type,
                size=size,
                sha256=sha,
                uploaded_by=user,
            )
            payload["attachment"] = {"name": name, "sha256": sha}
        exception.status = SerialException.Status.ANSWERED
        exception.save(update_fields=["status"])
        audit_log(
            actor=user,
            action="serial_exception.answered",
            obj=exception,
            order=exception.batch.order,
            payload=payload,
        )
        answers.append(answer)
    return answers


def _latest_answers(exceptions: dict[int, SerialException]) -> dict[int, ExceptionAnswer]:
    latest: dict[int, ExceptionAnswer] = {}
    for answer in ExceptionAnswer.objects.filter(exception_id__in=exceptions).order_by("id"):
        latest[answer.exception_id] = answer
    return latest


def _attachment_stored(attachment: UploadedFile) -> tuple[str, str, str, str, int]:
    """The attachment checked as evidence is (type told by its bytes, size, hostile files
    refused) and stored by its hash: its storage name, own name, type, SHA-256 and size."""
    name, content_type = upload_checked(
        attachment,
        allowed=ATTACHMENT_TYPES,
        max_bytes=settings.EVIDENCE_MAX_BYTES,
        field="attachment",
        what=_("an attachment to an answer (a photo or a PDF)"),
    )
    storage_name, sha, size = store_by_hash(attachment, folder="exception-attachments")
    return storage_name, name, content_type, sha, size


@transaction.atomic
def exception_answer(
    *,
    exceptions: Iterable[SerialException],
    user: User,
    reason: str,
    note: str,
    attachment: UploadedFile | None = None,
) -> list[ExceptionAnswer]:
    """The supplier gives one reason and note (and perhaps one attachment) for one or more
    exceptions (the API's short form)."""
    chosen = list(exceptions)
    rows = [AnswerRow(exception.pk, reason, note) for exception in chosen]
    try:
        return exceptions_answer(rows=rows, user=user, attachment=attachment)
    except ValidationError as error:
        if hasattr(error, "error_dict") and not any(key.isdigit() for key in error.error_dict):
            raise  # the attachment refused, by its field: not a row's problem
        raise _flattened(error, chosen) from None


def is_stale(error: ValidationError) -> bool:
    """Every row of a refused decision was refused only because the supplier answered again
    since the buyer read the answer."""
    if not hasattr(error, "error_dict"):
        return False
    found = [e for errors in error.error_dict.values() for e in errors]
    return bool(found) and all(e.code == STALE_ANSWER for e in found)


@transaction.atomic
def exceptions_decide(
    *, rows: Sequence[DecisionRow], user: User, promises: Iterable[str] | str
) -> list[ExceptionDecision]:
    """The buyer accepts or rejects many answered exceptions at once, each with its own
    decision and note; every row is checked first, and a refusal writes nothing. ``promises``
    names what this review tests (``orders.promises``): one choice for the submission, kept on
    each decision."""
    if not can_manage_orders(user):
        raise PermissionDenied(_("Only the buyer's buyers and admins decide on exceptions."))
    named = promises_joined(promises)
    exceptions = _locked([row.exception_id for row in rows], user)
    latest = _latest_answers(exceptions)
    problems: dict[str, str | ValidationError] = {}
    for row in rows:
        exception = exceptions[row.exception_id]
        if row.decision not in ExceptionDecision.Decision.values:
            problems[str(row.exception_id)] = (
                _("choose accept or reject.")
                if not row.decision
                else _("“%(decision)s” is not a decision.") % {"decision": row.decision}
            )
        elif exception.pk not in latest or exception.status != SerialException.Status.ANSWERED:
            problems[str(row.exception_id)] = _("no new answer from the supplier to decide on.")
        elif row.answer_id is not None and latest[exception.pk].pk != row.answer_id:
            problems[str(row.exception_id)] = ValidationError(
                _(
                    "the supplier answered again since you opened the page: read the new answer "
                    "first."
                ),
                code=STALE_ANSWER,
            )
        elif len(row.note) > NOTE_MAX_CHARS:
            problems[str(row.exception_id)] = _("the note is longer than %(limit)s characters.") % {
                "limit": f"{NOTE_MAX_CHARS:,}"
            }
    if problems:
        raise ValidationError(problems)
    decisions = []
    for row in rows:
        exception = exceptions[row.exception_id]
        answer = latest[exception.pk]
        note = row.note.strip()
        decisions.append(
            ExceptionDecision.objects.create(
                exception=exception,
                answer=answer,
                decision=row.decision,
                note=note,
                promises=named,
                decided_by=user,
            )
        )
        exception.status = row.decision
        exception.save(update_fields=["status"])
        audit_log(
            actor=user,
            action=f"serial_exception.{row.decision}",
            obj=exception,
            order=exception.batch.order,
            payload={"answer_id": answer.pk, "note": note, "promises": named.split(",")},
        )
    return decisions


@transaction.atomic
def exception_decide(
    *,
    exceptions: Iterable[SerialException],
    user: User,
    decision: str,
    promises: Iterable[str] | str,
    note: str = "",
) -> list[ExceptionDecision]:
    """The buyer gives one decision and note for one or many exceptions (the API's form),
    naming the promise (or promises) the review tests."""
    chosen = list(exceptions)
    rows = [DecisionRow(exception.pk, decision, note) for exception in chosen]
    try:
        return exceptions_decide(rows=rows, user=user, promises=promises)
    except ValidationError as error:
        raise _flattened(error, chosen) from None


def _flattened(error: ValidationError, exceptions: list[SerialException]) -> ValidationError:
    """A per-row refusal as one list of sentences naming each exception by its summary."""
    summaries = {exception.pk: exception.summary for exception in exceptions}
    return ValidationError(
        [
            f"“{summaries.get(pk, '')}”: {message}" if pk else message
            for pk, messages in row_errors(error).items()
            for message in messages
        ]
    )


def _locked(ids: list[int], user: User) -> dict[int, SerialException]:
    """The caller's exceptions with these ids, locked in id order; refused when any id is not
    the caller's to change, or is given twice."""
    if not ids:
        raise ValidationError(_("Choose at least one exception."))
    if len(ids) != len(set(ids)):
        raise ValidationError(_("An exception is named twice."))
    rows = list(
        SerialException.objects.select_for_update(of=("self",))
        .select_related("batch__order")
        .filter(pk__in=ids, batch__in=batches_visible_to(user))
        .order_by("id")
    )
    if len(rows) != len(ids):
        raise PermissionDenied(_("Some of these exceptions are not yours to change."))
    return {row.pk: row for row in rows}
