"""The approved sample of a product (``orders.sample_models``): which one applies to an order or
batch, who sees it, recording it and its new versions, its photos, and the serial format.

Reads start from what the caller may see; each change checks who may make it, validates, stores
the photos by hash, and writes its audit event in the same transaction. A new version makes the
approvals that pinned the one it replaces stale (``orders.pins``)."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps

from orders.models import ApprovedSample, Batch, PurchaseOrder, validate_gtin
from orders.selectors import orders_visible_to
from portal.audit import audit_log
from portal.integrity import CheckResult
from portal.models import User
from portal.roles import can_manage_approved_samples, is_buyer_side, membership_of
from portal.storage import store_by_hash, stored_files_check
from portal.uploads import PILLOW_FORMATS, upload_checked

PHOTO_TYPES = frozenset(PILLOW_FORMATS)  # JPEG, PNG, WebP: photos, nothing else
PHOTOS = ("sample", "label")  # which photo: of the sample, of its label
VIEW_SIZE = (1600, 1600)
# The words upload_checked names the file with (it translates them).
PHOTO_WHAT = {
    "sample": gettext_noop("a photo of the approved sample"),
    "label": gettext_noop("a photo of the approved label"),
}
LAYOUT_FIELDS = (
    "label_fields",
    "serial_format",
    "symbology",
    "code_position",
    "instruction",
)


# ---------------------------------------------------------------- the serial format


def serial_format_fits(pattern: str, serial: str) -> bool:
    """Whether ``serial`` has the approved format: ``#`` is one digit (0-9), any other
    character stands for itself; an empty format fits every serial."""
    if not pattern:
        return True
    if len(serial) != len(pattern):
        return False
    return all(
        char in "0123456789" if wanted == "#" else char == wanted
        for wanted, char in zip(pattern, serial, strict=True)
    )


def _serial_format_checked(pattern: str) -> str:
    pattern = pattern.strip()
    if not pattern:
        return ""
    if any(char.isspace() for char in pattern) or "#" not in pattern:
        raise ValidationError(
            {
                "serial_format": _(
                    "Write the serial format with # for each digit and the fixed characters as "
                    "they are printed, without spaces: VLT#########."
                )
            }
        )
    return pattern


# ---------------------------------------------------------------- reads


def approved_sample_for(batch_or_order: Batch | PurchaseOrder) -> ApprovedSample | None:
    """The approved sample that applies to an order (or a batch's order): the newest version of
    the order's own sample if it has one, else of its product's (its buyer and GTIN); None when
    there is neither. No access check: the caller already holds the order or batch it may see."""
    order = batch_or_order.order if isinstance(batch_or_order, Batch) else batch_or_order
    own = _newest(ApprovedSample.objects.filter(order=order))
    if own is not None or not order.gtin:
        return own
    return _newest(
        ApprovedSample.objects.filter(order__isnull=True, buyer_id=order.buyer_id, gtin=order.gtin)
    )


def _newest(samples: QuerySet[ApprovedSample]) -> ApprovedSample | None:
    return (
        samples.filter(replaced_by__isnull=True)
        .select_related("order", "created_by")
        .order_by("-version", "-id")
        .first()
    )


def samples_visible_to(user: User | AnonymousUser) -> QuerySet[ApprovedSample]:
    """The buyer's staff see every sample of their buyer; a supplier or an inspector sees an
    order's own sample where it sees the order, and a product's where it sees an order of that
    product (a draft order counts for nobody but the buyer). Anyone else sees none."""
    samples = ApprovedSample.objects.select_related("buyer", "order", "created_by")
    membership = membership_of(user)
    if membership is None:
        return samples.none()
    if is_buyer_side(user):
        return samples.filter(buyer=membership.organisation)
    orders = orders_visible_to(user)
    of_product = orders.filter(buyer=OuterRef("buyer"), gtin=OuterRef("gtin")).exclude(gtin="")
    return samples.filter(Q(order__in=orders) | (Q(order__isnull=True) & Exists(of_product)))


def sample_for(user: User | AnonymousUser, pk: int) -> ApprovedSample:
    """The sample if the caller may see it; otherwise 404, as if it did not exist."""
    return get_object_or_404(samples_visible_to(user), pk=pk)


def sample_versions(sample: ApprovedSample) -> list[ApprovedSample]:
    """Every version of the sample's line, newest first, whichever version is given."""
    key = Q(order=sample.order_id) if sample.order_id else Q(order__isnull=True, gtin=sample.gtin)
    return list(
        ApprovedSample.objects.filter(key, buyer_id=sample.buyer_id)
        .select_related("created_by")
        .order_by("-version")
    )


def current_samples_visible_to(user: User | AnonymousUser) -> QuerySet[ApprovedSample]:
    """The newest version of each product's and each order's sample the caller may see."""
    return (
        samples_visible_to(user)
        .filter(replaced_by__isnull=True)
        .order_by("product_name", "gtin", "order__number")
    )


def may_show_instruction(user: User | AnonymousUser) -> bool:
    """The inspection instruction is for the buyer's staff and the inspectors, never the
    supplier: a check known in advance can be prepared for."""
    from portal.roles import can_read_inspector_checks

    return can_read_inspector_checks(user)


# ---------------------------------------------------------------- photos


def _photo_checked(uploaded: UploadedFile, which: str) -> tuple[str, str]:
    return upload_checked(
        uploaded,
        allowed=PHOTO_TYPES,
        max_bytes=settings.EVIDENCE_MAX_BYTES,
        field=f"{which}_photo",
        what=PHOTO_WHAT[which],
    )


def _photo_stored(uploaded: UploadedFile, which: str) -> dict[str, Any]:
    """Check a photo through the upload gate, store it by its hash, and make the view shown on
    the pages (re-encoded by us, without metadata). Returns the model's fields for it."""
    name, content_type = _photo_checked(uploaded, which)
    storage_name, sha, _size = store_by_hash(uploaded, folder="approved-samples")
    _view_made(storage_name, content_type, sha)
    return {
        f"{which}_photo": storage_name,
        f"{which}_photo_name": name,
        f"{which}_photo_type": content_type,
        f"{which}_photo_sha256": sha,
    }


def _view_name(sha: str) -> str:
    return f"approved-sample-views/{sha[:2]}/{sha}.jpg"


def _view_made(storage_name: str, content_type: str, sha: str) -> str:
    """The photo as the pages show it: upright, at most 1600 px, a JPEG of our own with no EXIF
    or other metadata (the original is never shown as it is). Made once per stored photo."""
    name = _view_name(sha)
    if default_storage.exists(name):
        return name
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with (
            default_storage.open(storage_name, "rb") as stored,
            Image.open(stored, formats=[PILLOW_FORMATS[content_type]]) as image,
        ):
            view = ImageOps.exif_transpose(image)
            view.thumbnail(VIEW_SIZE)
            if view.mode not in ("RGB", "L"):
                view = view.convert("RGB")
            buffer = io.BytesIO()
            view.save(buffer, "JPEG", quality=85)  # no exif=: nothing is carried over
    saved = default_storage.save(name, ContentFile(buffer.getvalue()))
    if saved != name:  # another request made the same view a moment ago
        default_storage.delete(saved)
    return name


def sample_photo_view(sample: ApprovedSample, which: str) -> str:
    """The storage name of the view of one of the sample's photos (made now if missing)."""
    if which not in PHOTOS:
        raise ValueError(which)
    return _view_made(
        getattr(sample, f"{which}_photo").name,
        getattr(sample, f"{which}_photo_type"),
        getattr(sample, f"{which}_photo_sha256"),
    )


def approved_samples_verify() -> CheckResult:
    """Re-hash every stored photo of every approved sample against its row: the
    ``approved-sample-photos`` part of ``portal.integrity``."""
    result = stored_files_check(
        "approved-sample-photos",
        ApprovedSample.objects.all(),
        file_field="sample_photo",
        sha_field="sample_photo_sha256",
    )
    labels = stored_files_check(
        "approved-sample-photos",
        ApprovedSample.objects.all(),
        file_field="label_photo",
        sha_field="label_photo_sha256",
    )
    result.checked += labels.checked
    result.findings.extend(labels.findings)
    return result


# ---------------------------------------------------------------- the layout


def _layout_checked(values: dict[str, Any]) -> dict[str, Any]:
    """The label layout and the instruction, cleaned, or ValidationError naming the field."""
    errors: dict[str, str] = {}
    fields = list(dict.fromkeys(values.get("label_fields") or []))
    unknown = [field for field in fields if field not in ApprovedSample.LabelField.values]
    if unknown:
        errors["label_fields"] = _("Not a field a label carries: %(fields)s.") % {
            "fields": ", ".join(unknown)
        }
    elif not fields:
        errors["label_fields"] = _("Tick the fields the approved label carries.")
    symbology = values.get("symbology") or ""
    if symbology not in ApprovedSample.Symbology.values:
        errors["symbology"] = _("Choose the code the label carries.")
    try:
        serial_format = _serial_format_checked(values.get("serial_format") or "")
    except ValidationError as error:
        errors.update({key: " ".join(messages) for key, messages in error.message_dict.items()})
        serial_format = ""
    code_position = (values.get("code_position") or "").strip()
    if len(code_position) > 200:
        errors["code_position"] = _("Say where the code is in at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    order = {value: index for index, value in enumerate(ApprovedSample.LabelField.values)}
    return {
        "label_fields": sorted(fields, key=order.__getitem__),
        "serial_format": serial_format,
        "symbology": symbology,
        "code_position": code_position,
        "instruction": (values.get("instruction") or "").strip(),
    }


def sample_fingerprint(sample: ApprovedSample) -> str:
    """What an approval pinning this version holds it to: its photos and its layout."""
    content = json.dumps(
        {
            "gtin": sample.gtin,
            "sample_photo": sample.sample_photo_sha256,
            "label_photo": sample.label_photo_sha256,
            **{name: getattr(sample, name) for name in LAYOUT_FIELDS},
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return f"v{sample.version};sha256:{hashlib.sha256(content.encode()).hexdigest()[:32]}"


# ---------------------------------------------------------------- changes


def _manager_checked(user: User) -> None:
    if not can_manage_approved_samples(user):
        raise PermissionDenied(_("Only the buyer's buyers and admins record approved samples."))


def _payload(sample: ApprovedSample) -> dict[str, Any]:
    return {
        "product_name": sample.product_name,
        "gtin": sample.gtin,
        "order": sample.order.number if sample.order else None,
        "version": sample.version,
        "replaces": sample.previous_id,
        "sample_photo": sample.sample_photo_sha256,
        "label_photo": sample.label_photo_sha256,
        **{name: getattr(sample, name) for name in LAYOUT_FIELDS if name != "instruction"},
        "change_note": sample.change_note,
    }


def _saved(sample: ApprovedSample) -> ApprovedSample:
    try:
        with transaction.atomic():
            sample.save()
    except IntegrityError:
        raise ValidationError(
            _("Someone recorded this sample a moment ago; reload the page and look again.")
        ) from None
    return sample


@transaction.atomic
def approved_sample_create(
    *,
    user: User,
    sample_photo: UploadedFile,
    label_photo: UploadedFile,
    product_name: str = "",
    gtin: str = "",
    order: PurchaseOrder | None = None,
    **layout: Any,
) -> ApprovedSample:
    """Record the first version of a product's approved sample (its buyer and GTIN), or of one
    order's own sample when ``order`` is given (the order's GTIN and product then)."""
    _manager_checked(user)
    buyer = user.membership.organisation
    if order is not None:
        own = orders_visible_to(user).select_for_update(of=("self",)).filter(pk=order.pk)
        order = own.first()
        if order is None:
            raise PermissionDenied(_("This order is not yours."))
        gtin, product_name = order.gtin, product_name.strip() or order.product_name
        existing = ApprovedSample.objects.filter(order=order)
    else:
        gtin = gtin.strip()
        if not gtin:
            raise ValidationError({"gtin": _("Give the product's GTIN.")})
        validate_gtin(gtin)
        existing = ApprovedSample.objects.filter(order__isnull=True, buyer=buyer, gtin=gtin)
    product_name = product_name.strip()
    if not product_name:
        raise ValidationError({"product_name": _("Name the product.")})
    current = _newest(existing)
    if current is not None:
        raise ValidationError(
            _(
                "%(product)s already has an approved sample (version %(version)s): make a new "
                "version of it instead."
            )
            % {"product": current.product_name, "version": current.version}
        )
    values = _layout_checked(layout)
    sample = ApprovedSample(
        buyer=buyer,
        gtin=gtin,
        product_name=product_name[:200],
        order=order,
        version=1,
        created_by=user,
        **values,
        **_photo_stored(sample_photo, "sample"),
        **_photo_stored(label_photo, "label"),
    )
    _saved(sample)
    audit_log(
        actor=user,
        action="approved_sample.created",
        obj=sample,
        order=order,
        payload=_payload(sample),
    )
    return sample


@transaction.atomic
def approved_sample_new_version(
    *,
    sample: ApprovedSample,
    user: User,
    sample_photo: UploadedFile | None = None,
    label_photo: UploadedFile | None = None,
    change_note: str = "",
    **layout: Any,
) -> ApprovedSample:
    """Record a new version of a sample: new photos where given (else the previous version's),
    the layout and instruction as given. The approvals that pinned the version it replaces
    turn stale (``orders.pins``)."""
    _manager_checked(user)
    if not samples_visible_to(user).filter(pk=sample.pk).exists():
        raise PermissionDenied(_("This approved sample is not yours to change."))
    # The orders first, then the sample, as a signing takes them (it locks its order, then the
    # sample it pins): the other way round, the two wait for each other in a circle.
    _lock_pinning_orders(sample)
    previous = ApprovedSample.objects.select_for_update().get(pk=sample.pk)
    previous = ApprovedSample.objects.select_related("replaced_by", "order").get(pk=previous.pk)
    if not previous.is_current:
        raise ValidationError(
            _("Version %(version)s was already replaced; make a new version of the newest one.")
            % {"version": previous.version}
        )
    change_note = change_note.strip()
    if not change_note:
        raise ValidationError({"change_note": _("Say what changed in this version.")})
    values = _layout_checked(layout)
    photos: dict[str, Any] = {}
    for which, uploaded in (("sample", sample_photo), ("label", label_photo)):
        if uploaded is not None:
            photos |= _photo_stored(uploaded, which)
        else:
            photos |= {
                f"{which}_photo{suffix}": getattr(previous, f"{which}_photo{suffix}")
                for suffix in ("", "_name", "_type", "_sha256")
            }
    new = ApprovedSample(
        buyer_id=previous.buyer_id,
        gtin=previous.gtin,
        product_name=previous.product_name,
        order=previous.order,
        version=previous.version + 1,
        previous=previous,
        change_note=change_note[:300],
        created_by=user,
        **values,
        **photos,
    )
    _saved(new)
    _lock_pinning_orders(previous)  # again: an approval signed while this waited for the sample
    audit_log(
        actor=user,
        action="approved_sample.versioned",
        obj=new,
        order=previous.order,
        payload=_payload(new),
    )
    return new


def _lock_pinning_orders(sample: ApprovedSample) -> None:
    """The orders whose approvals pinned ``sample`` hear of the new version inside its audit
    event (they turn stale, each with an event naming its order). Their rows are locked here,
    before the chain's lock, as every writer takes them (see portal.audit)."""
    if connection.vendor != "postgresql":
        return
    # A reverse lookup, not an import: approvals live above this app.
    order_ids = sorted(
        set(
            PurchaseOrder.objects.filter(
                approvals__pins__kind="sample", approvals__pins__object_id=sample.pk
            ).values_list("pk", flat=True)
        )
    )
    table, column = PurchaseOrder._meta.db_table, PurchaseOrder._meta.pk.column
    with connection.cursor() as cursor:
        for pk in order_ids:
            # Names from the model, never a value: hence the noqa.
            cursor.execute(f"SELECT 1 FROM {table} WHERE {column} = %s FOR KEY SHARE", [pk])  # noqa: S608
