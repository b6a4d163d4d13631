"""The exceptions a supplier must explain, their answers, the files attached to an answer, and
the buyer's decisions. Every row is append-only; an exception's status is its only working
state, and the database allows only the transitions below.

Kept beside ``serials.models`` (which re-exports every name) so that neither module grows past
a screenful of models; the foreign keys name their models as strings, so this module imports
nothing from it."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders.promises import promises_check, promises_model_field
from portal.immutability import append_only

# The status an exception may take next: answered (from open, again, or after a rejection), then
# the buyer's decision on an answer. Anything else the database refuses.
EXCEPTION_TRANSITIONS = pgtrigger.Q(
    new__status="answered", old__status__in=["open", "answered", "rejected"]
) | pgtrigger.Q(new__status__in=["accepted", "rejected"], old__status="answered")


class Reason(models.TextChoices):
    """Why serials are missing, doubled or out of place, as suppliers' floors see it. Answers are
    append-only, so a stored value is never rewritten: "rework_relabel" stays the value of
    Rework, and "printer_skip" stays readable on the answers that used it but is no longer
    offered (a skipped label is now Destroyed or Label reprinted)."""

    DOUBLE_SCAN = "double_scan", _("Double scan")
    KEYING_ERROR = "keying_error", _("Keying error")
    LABEL_REPRINTED = "label_reprinted", _("Label reprinted")
    REWORK = "rework_relabel", _("Rework")
    TEST_SCRAP = "test_scrap", _("Test scrap")
    SAMPLE_RETAINED = "sample_retained", _("Sample retained")
    DESTROYED = "destroyed", _("Destroyed")
    PACKING_CHANGE = "packing_change", _("Packing change")
    OTHER = "other", _("Other")
    PRINTER_SKIP = "printer_skip", _("Printer skip")


# The reasons a supplier may choose today, in the order the form offers them.
LEGACY_REASONS = frozenset({Reason.PRINTER_SKIP})
ANSWER_REASONS = [(value, label) for value, label in Reason.choices if value not in LEGACY_REASONS]
# The one line shown beside each reason where it is chosen.
REASON_EXPLANATIONS: dict[str, str | Promise] = {
    Reason.DOUBLE_SCAN: _("One unit was scanned twice; only one unit carries the serial."),
    Reason.KEYING_ERROR: _("A serial was typed wrong in the list; the unit carries the right one."),
    Reason.LABEL_REPRINTED: _(
        "A damaged label was replaced by one with a new serial; the old one is on no unit."
    ),
    Reason.REWORK: _("The unit was repaired or reworked and relabelled."),
    Reason.TEST_SCRAP: _("Units failed testing and were scrapped; they never ship."),
    Reason.SAMPLE_RETAINED: _("Units kept as samples (reference, lab, approval); not shipped."),
    Reason.DESTROYED: _("Labels or units destroyed (a printer jam, damage); never applied."),
    Reason.PACKING_CHANGE: _("Units moved to another carton or batch after the list was made."),
    Reason.OTHER: _("None of these: say what happened in the note (required)."),
    Reason.PRINTER_SKIP: _("The printer skipped labels (an older answer)."),
}
# Reasons a code alone does not explain: the answer must say what happened in words.
NOTE_REQUIRED = frozenset({Reason.OTHER})


class SerialException(models.Model):
    """One anomaly the supplier must explain: a missing range, a duplicated serial, serials
    reused from another batch, or malformed values."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("Missing range")
        UNUSED = "unused", _("Allocated but unused")
        UNKNOWN = "unknown", _("Not allocated")
        DUPLICATE = "duplicate", _("Duplicated serial")
        REUSED = "reused", _("Reused serials")
        MALFORMED = "malformed", _("Malformed values")
        OUT_OF_RANGE = "out_of_range", _("Outside the allocated range")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the supplier")
        ANSWERED = "answered", _("Answered, waiting for the buyer")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    Reason = Reason
    # Not decided yet: waiting for the supplier's answer or for the buyer's decision.
    UNDECIDED = (Status.OPEN, Status.ANSWERED)

    serial_list = models.ForeignKey(
        "serials.SerialList", on_delete=models.PROTECT, related_name="exceptions"
    )
    batch = models.ForeignKey(
        "orders.Batch", on_delete=models.PROTECT, related_name="serial_exceptions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=300)
    lo = models.BigIntegerField(null=True, blank=True)
    hi = models.BigIntegerField(null=True, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    count = models.BigIntegerField(default=1)
    detail = models.JSONField(default=dict, blank=True)
    # For reuse: the batch that holds these serials too. Shown to the buyer only (the supplier
    # may not learn another supplier's orders); never serialised to the API.
    other_batch = models.ForeignKey(
        "orders.Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        app_label = "serials"
        triggers = append_only(mutable=["status"], update_refused_when=~EXCEPTION_TRANSITIONS)
        ordering = ["id"]

    def __str__(self) -> str:
        return self.summary

    @property
    def count_label(self) -> str:
        """What ``count`` counts, in the report page's words: serials (codes), or rows for
        malformed and out-of-range values; a duplicated serial is one serial on several rows."""
        K = SerialException.Kind
        count = f"{self.count:,}"
        if self.kind in (K.MALFORMED, K.OUT_OF_RANGE):
            text = ngettext("%(count)s row", "%(count)s rows", self.count) % {"count": count}
        elif self.kind in (K.UNKNOWN, K.UNUSED):
            text = ngettext("%(count)s code", "%(count)s codes", self.count) % {"count": count}
        else:
            text = ngettext("%(count)s serial", "%(count)s serials", self.count) % {"count": count}
        rows = (self.detail or {}).get("rows") if self.kind == K.DUPLICATE else None
        if not rows:
            return text
        return gettext("%(what)s on %(rows)s rows") % {"what": text, "rows": f"{rows:,}"}

    @property
    def latest_answer(self) -> ExceptionAnswer | None:
        answers = list(self.answers.all())  # uses prefetched rows when there are any
        return answers[-1] if answers else None

    @property
    def latest_decision(self) -> ExceptionDecision | None:
        decisions = list(self.decisions.all())
        return decisions[-1] if decisions else None


class ExceptionAnswer(models.Model):
    """The supplier's written reason for an exception. Append-only: a new answer is a new row."""

    exception = models.ForeignKey(SerialException, on_delete=models.PROTECT, related_name="answers")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "serials"
        triggers = append_only()
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.note[:60]}"

    @property
    def reason_explanation(self) -> str:
        return str(REASON_EXPLANATIONS.get(self.reason, ""))


class ExceptionAttachment(models.Model):
    """A photo or PDF the supplier attached to an answer, stored by its hash. One file sent with
    several answers is one row per answer over the same stored bytes. Append-only."""

    answer = models.ForeignKey(
        ExceptionAnswer, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to="exception-attachments/", max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "serials"
        triggers = append_only()
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class ExceptionDecision(models.Model):
    """The buyer's acceptance or rejection of an answered exception. Append-only."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accept")
        REJECTED = "rejected", _("Reject")

    exception = models.ForeignKey(
        SerialException, on_delete=models.PROTECT, related_name="decisions"
    )
    answer = models.ForeignKey(ExceptionAnswer, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # What the review tested (orders.promises): one choice per submission, on each of its rows.
    promises = promises_model_field()
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "serials"
        triggers = append_only()
        ordering = ["id"]
        constraints = [promises_check("exception_decision_promises_named")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.decided_by}"
