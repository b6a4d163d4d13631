"""Where a batch's serials stand: a status worked out from its latest production list (see
``serials.selectors.batch_serial_status``), not a stored column."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BatchSerialStatus(models.TextChoices):
    """Where a batch's serials stand, from its latest production list (``batch_serial_status``);
    ``tone`` is the colour the pages give it."""

    NONE = "none", _("No serial list yet")
    VALIDATING = "validating", _("Validating")
    FAILED = "failed", _("Last upload failed")
    CLEAN = "clean", _("Clean")
    EXCEPTIONS_OPEN = "exceptions_open", _("Exceptions open")
    EXCEPTIONS_ANSWERED = "exceptions_answered", _("Exceptions answered")
    EXCEPTIONS_ACCEPTED = "exceptions_accepted", _("Exceptions accepted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")

    @property
    def tone(self) -> str:
        return _BATCH_SERIAL_STATUS_TONES[self]

    @property
    def can_be_accepted(self) -> bool:
        """Nothing open, undecided or rejected stands in the way of entering the registry."""
        return self in (BatchSerialStatus.CLEAN, BatchSerialStatus.EXCEPTIONS_ACCEPTED)


_BATCH_SERIAL_STATUS_TONES = {
    BatchSerialStatus.NONE: "secondary",
    BatchSerialStatus.VALIDATING: "info",
    BatchSerialStatus.FAILED: "danger",
    BatchSerialStatus.CLEAN: "success",
    BatchSerialStatus.EXCEPTIONS_OPEN: "warning",
    BatchSerialStatus.EXCEPTIONS_ANSWERED: "primary",
    BatchSerialStatus.EXCEPTIONS_ACCEPTED: "primary",
    BatchSerialStatus.ACCEPTED: "success",
    BatchSerialStatus.REJECTED: "danger",
}
