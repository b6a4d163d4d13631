"""A serial list checked without being uploaded: the upload's look at the file
(``files._checked_name``), then the worker's reading and checks (``job.examine``: the engine,
workbooks read in a confined child, the reuse check against the registry) against the rule,
allocation and range an upload would be held against now.

Nothing is kept: no file in storage (the bytes sit in a private temporary folder for the
request), no row, no audit event, no notification."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext

from orders.models import Batch
from portal.models import User
from serials.models import SerialList
from serials.services.files import _checked_name, _uploaded_copy
from serials.services.job import ListUnreadable, examine
from serials.services.serial_lists import _can_upload, _held_against


def _no_progress(percent: int) -> None:
    """A check answers in its own request: nobody polls its progress."""


def serial_list_check(
    *, batch: Batch, user: User, uploaded_file: UploadedFile, kind: str = SerialList.Kind.PRODUCTION
) -> SerialList:
    """What an upload of this file would be told, on a serial list that is never saved (``pk``
    None, ``validation_report`` the report). Refused as the upload refuses: PermissionDenied for
    those who may not upload to the batch, ValidationError naming the file and what is wrong."""
    if not _can_upload(user, batch):
        raise PermissionDenied(
            gettext("Only the batch's supplier and the buyer check and upload serial lists.")
        )
    if kind not in SerialList.Kind.values:
        raise ValidationError(
            {"kind": gettext("“%(kind)s” is not a kind of serial list.") % {"kind": kind}}
        )
    name = _checked_name(uploaded_file)
    unsaved = SerialList(
        batch=batch,
        kind=kind,
        original_name=name,
        size=uploaded_file.size or 0,
        uploaded_by=user,
        **_held_against(batch, kind),
    )
    with _uploaded_copy(uploaded_file) as path:
        try:
            outcome = examine(unsaved, path, _no_progress)
        except ListUnreadable as error:
            raise ValidationError({"file": str(error)}) from None
    # outcome.record (the worker's write) is never called: the report is all a check keeps,
    # on this object, for this request.
    unsaved.validation_report = outcome.report
    unsaved.status = SerialList.Status.DONE
    unsaved.progress = 100
    return unsaved
