"""State changes for evidence, requirements, requests, statements and the responsibility map.
Each checks who may make it, validates, writes an audit event, and returns the new row."""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps

from evidence.models import (
    EvidenceItem,
    EvidenceProvenance,
    EvidenceRequest,
    EvidenceRequirement,
    Responsibility,
    Statement,
    StatementReview,
)
from evidence.provenance import READ_TYPES, Provenance, provenance_read
from orders.models import Batch, PurchaseOrder
from orders.promises import promises_joined
from orders.selectors import batches_visible_to, orders_visible_to
from portal.audit import audit_log
from portal.integrity import CheckResult
from portal.jobs import task_send_on_commit
from portal.models import Role, User
from portal.roles import (
    can_edit_responsibilities,
    can_manage_orders,
    can_upload_batch_files,
    role_of,
)
from portal.storage import store_by_hash, stored_files_check
from portal.uploads import PILLOW_FORMATS, upload_checked

THUMBNAIL_SIZE = (480, 480)
EXIF_DATETIME_ORIGINAL = 0x9003


def _visible_batch(user: User, batch: Batch) -> None:
    if not batches_visible_to(user).filter(pk=batch.pk).exists():
        raise PermissionDenied(_("This batch is not yours."))


def _checked_upload(uploaded: UploadedFile) -> tuple[str, str]:
    """The file's own name and the type told by its bytes, after every check an upload gets."""
    return upload_checked(
        uploaded,
        allowed=settings.EVIDENCE_ALLOWED_TYPES,
        max_bytes=settings.EVIDENCE_MAX_BYTES,
        field="file",
        what="evidence",
    )


@transaction.atomic
def evidence_upload(
    *,
    batch: Batch,
    user: User,
    uploaded_file: UploadedFile,
    kind: str,
    description: str = "",
    replaces: EvidenceItem | None = None,
) -> EvidenceItem:
    """Store a file for a batch by its hash; a replacement becomes the next version."""
    if not can_upload_batch_files(user):
        raise PermissionDenied(_("Your role does not upload evidence."))
    _visible_batch(user, batch)
    version = 1
    if replaces is not None:
        replaces = EvidenceItem.objects.select_for_update().get(pk=replaces.pk)
        if replaces.batch_id != batch.pk:
            raise ValidationError(
                _("A replacement must name the same batch as the file it replaces.")
            )
        if not replaces.is_current:
            raise ValidationError(
                _("%(item)s was already replaced; replace the newest version.") % {"item": replaces}
            )
        version = replaces.version + 1
    name, content_type = _checked_upload(uploaded_file)
    storage_name, sha, size = store_by_hash(uploaded_file, folder="evidence")
    try:
        with transaction.atomic():
            item = EvidenceItem.objects.create(
                batch=batch,
                kind=kind,
                description=description.strip(),
                file=storage_name,
                original_name=name,
                size=size,
                sha256=sha,
                content_type=content_type,
                uploaded_by=user,
                previous=replaces,
                version=version,
            )
    except IntegrityError:
        raise ValidationError(
            _("Someone replaced this file a moment ago; reload and try again.")
        ) from None
    audit_log(
        actor=user,
        action="evidence.replaced" if replaces else "evidence.uploaded",
        obj=item,
        order=batch.order,
        payload={
            "batch": batch.code,
            "kind": kind,
            "file": name,
            "sha256": sha,
            "version": version,
            "replaces": replaces.pk if replaces else None,
        },
    )
    task_send_on_commit("evidence.tasks.process_evidence", item.pk)
    return item


def evidence_process(*, item_id: int) -> None:
    """Read the capture date, make a thumbnail with no metadata, and read the file's provenance
    (content credentials, a photo's perceptual hash). Safe to run twice: the thumbnail's name
    follows from the bytes, and only the first run writes the results."""
    item = EvidenceItem.objects.filter(pk=item_id, processed_at__isnull=True).first()
    if item is None:
        return
    capture_date, thumbnail_name, note = None, "", ""
    if item.content_type in PILLOW_FORMATS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with (
                    default_storage.open(item.file.name, "rb") as stored,
                    Image.open(stored, formats=[PILLOW_FORMATS[item.content_type]]) as image,
                ):
                    capture_date = _capture_date(image)
                    thumbnail_name = _thumbnail(image, item.sha256)
        except Exception as error:  # noqa: BLE001 - a hostile file must not stall the item
            # Pillow raises many kinds of errors on odd metadata (SyntaxError for bad EXIF,
            # struct.error, ValueError…): record it; the item is processed, with no date.
            note = f"Could not read the image: {error.__class__.__name__}: {error}"[:300]
    reading = _provenance_of(item)
    with transaction.atomic():
        written = EvidenceItem.objects.filter(pk=item_id, processed_at__isnull=True).update(
            processed_at=timezone.now(),
            capture_date=capture_date,
            thumbnail=thumbnail_name,
            processing_note=note,
        )
        if written and reading is not None:
            _provenance_store(item, reading)


def _provenance_of(item: EvidenceItem) -> Provenance | None:
    """Content credentials and perceptual hash, read in a confined child (``provenance``)."""
    if item.content_type not in READ_TYPES:
        return None
    with default_storage.open(item.file.name, "rb") as stored:
        return provenance_read(stored.read(), item.content_type)


def _provenance_store(item: EvidenceItem, reading: Provenance) -> None:
    """One row per item, ever: a second writer's row is kept and this one dropped."""
    row = EvidenceProvenance(
        item=item,
        credentials=reading.credentials,
        credential_codes=reading.codes,
        signer=reading.signer,
        signer_issuer=reading.signer_issuer,
        claim_generator=reading.claim_generator,
        claimed_at=reading.claimed_at,
        source_type=reading.source_type,
        claims=reading.claims,
        phash=reading.phash,
        note=reading.note,
    )
    EvidenceProvenance.objects.bulk_create([row], ignore_conflicts=True)


def evidence_provenance_fill(*, limit: int | None = None) -> int:
    """Read the provenance of processed items that have none yet (files stored before it was
    read, or whose reading was interrupted); the number of items read. Safe to run twice."""
    missing = EvidenceItem.objects.filter(
        processed_at__isnull=False, content_type__in=READ_TYPES, provenance__isnull=True
    ).order_by("pk")
    count = 0
    for item in missing[:limit] if limit else missing.iterator(chunk_size=100):
        reading = _provenance_of(item)
        if reading is not None:
            _provenance_store(item, reading)
            count += 1
    return count


def _capture_date(image: Image.Image) -> datetime.datetime | None:
    """EXIF DateTimeOriginal (a claim by the file, not proof); None when absent or garbled."""
    exif = image.getexif().get_ifd(ExifTags.IFD.Exif)
    raw = exif.get(EXIF_DATETIME_ORIGINAL)
    if not raw:
        return None
    try:
        value = datetime.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return value.replace(tzinfo=datetime.UTC)


def _thumbnail(image: Image.Image, sha: str) -> str:
    """A JPEG re-encoded by us: upright, small, and with no EXIF or other metadata."""
    thumb = ImageOps.exif_transpose(image)
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGB")
    name = f"evidence-thumbs/{sha[:2]}/{sha}.jpg"
    if not default_storage.exists(name):
        from io import BytesIO

        buffer = BytesIO()
        thumb.save(buffer, "JPEG", quality=82)  # no exif= argument: nothing is carried over
        default_storage.save(name, ContentFile(buffer.getvalue()))
    return name


def evidence_verify() -> CheckResult:
    """Re-hash every stored evidence file against its row: the ``evidence-files`` part of
    ``portal.integrity`` (registered in ``EvidenceConfig.ready()``)."""
    return stored_files_check("evidence-files", EvidenceItem.objects.all())


# ---------------------------------------------------------------- requirements


@transaction.atomic
def requirements_set(*, batch: Batch, user: User, kinds: list[str]) -> list[str]:
    """The buyer says which kinds of evidence the batch needs. Adding only: a requirement, once
    asked for, stays on the file."""
    if not can_manage_orders(user):
        raise PermissionDenied(_("Only the buyer's buyers and admins set evidence requirements."))
    _visible_batch(user, batch)
    existing = set(batch.requirements.values_list("kind", flat=True))
    added = [kind for kind in kinds if kind not in existing]
    for kind in added:
        # get_or_create: two buyers adding the same kind at once both succeed.
        EvidenceRequirement.objects.get_or_create(
            batch=batch, kind=kind, defaults={"created_by": user}
        )
    if added:
        audit_log(
            actor=user,
            action="evidence.required",
            obj=batch,
            order=batch.order,
            payload={"kinds": added},
        )
    return added


# ---------------------------------------------------------------- requests and statements


@transaction.atomic
def request_create(
    *,
    batch: Batch,
    user: User,
    subject: str,
    question: str,
    due_on: datetime.date,
    promises: Iterable[str] | str,
) -> EvidenceRequest:
    """The buyer asks the supplier in writing, naming the promise (or promises) the answer
    will test (``orders.promises``)."""
    if not can_manage_orders(user):
        raise PermissionDenied(_("Only the buyer's buyers and admins send requests."))
    _visible_batch(user, batch)
    named = promises_joined(promises)
    if not subject.strip():
        raise ValidationError({"subject": _("Give the request a subject.")})
    if not question.strip():
        raise ValidationError({"question": _("Write the question.")})
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": _("The due date is in the past.")})
    request = EvidenceRequest.objects.create(
        batch=batch,
        subject=subject.strip(),
        question=question.strip(),
        promises=named,
        due_on=due_on,
        asked_by=user,
    )
    audit_log(
        actor=user,
        action="evidence_request.sent",
        obj=request,
        order=batch.order,
        payload={"subject": request.subject, "due_on": due_on, "promises": named.split(",")},
    )
    return request


@transaction.atomic
def statement_write(*, request: EvidenceRequest, user: User, text: str) -> Statement:
    """The supplier answers; a revision is the next version, never an edit."""
    if role_of(user) != Role.SUPPLIER:
        raise PermissionDenied(_("Only the supplier writes statements."))
    _visible_batch(user, request.batch)
    if not text.strip():
        raise ValidationError({"text": _("Write the statement.")})
    EvidenceRequest.objects.select_for_update().get(pk=request.pk)
    latest = request.statements.aggregate(latest=Max("version"))["latest"] or 0
    statement = Statement.objects.create(
        request=request, version=latest + 1, text=text.strip(), written_by=user
    )
    audit_log(
        actor=user,
        action="statement.written",
        obj=statement,
        order=request.batch.order,
        payload={"request": request.pk, "version": statement.version, "text": statement.text},
    )
    return statement


@transaction.atomic
def statement_review(*, statement: Statement, user: User) -> StatementReview:
    """The buyer has read this version: the next one will be shown as a diff against it."""
    if not can_manage_orders(user):
        raise PermissionDenied(_("Only the buyer's buyers and admins review statements."))
    _visible_batch(user, statement.request.batch)
    review = StatementReview.objects.create(statement=statement, reviewed_by=user)
    audit_log(
        actor=user,
        action="statement.reviewed",
        obj=statement,
        order=statement.request.batch.order,
        payload={"version": statement.version},
    )
    return review


# ---------------------------------------------------------------- responsibility map


@transaction.atomic
def responsibility_record(
    *,
    order: PurchaseOrder,
    user: User,
    role: str,
    party_name: str,
    party_type: str,
    contact: str,
    accepts_responsibility: bool,
) -> Responsibility:
    """The supplier (or the buyer) names who does one part of the serial work."""
    if not can_edit_responsibilities(user):
        raise PermissionDenied(_("Your role does not edit the responsibility map."))
    if not orders_visible_to(user).filter(pk=order.pk).exists():
        raise PermissionDenied(_("This order is not yours."))
    entry = Responsibility(
        order=order,
        role=role,
        party_name=party_name.strip(),
        party_type=party_type,
        contact=contact.strip(),
        accepts_responsibility=accepts_responsibility,
        recorded_by=user,
    )
    entry.full_clean()
    entry.save()
    audit_log(
        actor=user,
        action="responsibility.recorded",
        obj=entry,
        order=order,
        payload={
            "role": role,
            "party": entry.party_name,
            "type": party_type,
            "contact": entry.contact,
            "accepts": accepts_responsibility,
        },
    )
    return entry


def current_responsibilities(order: PurchaseOrder) -> dict[str, Responsibility]:
    current: dict[str, Responsibility] = {}
    for entry in order.responsibilities.select_related("recorded_by"):  # newest first
        current.setdefault(entry.role, entry)
    return current
