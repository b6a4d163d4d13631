"""A serial's life: the events no other record proves (returned, destroyed, decommissioned), and
the database guard that keeps a destroyed or decommissioned serial out of the registry for good.

The other states of a serial are read from the records that already prove them (its allocation,
the accepted list and its audit event, an inspection sample, a placement): a batch holds a
million serials, so nothing is written per serial for them (``lookup.life`` composes the line).

Re-exported from ``serials.models``."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.immutability import append_only

# The advisory lock class (with hashtext(scope) as the second key) that serialises, per scope,
# recording a destroyed or decommissioned serial and accepting serials into the registry.
LIFE_LOCK = 7_243_912
# The refusal's text, which the accept service recognises to name the serials.
REFUSAL = "a destroyed or decommissioned serial cannot be accepted again"


class SerialLifeEvent(models.Model):
    """One change in the life of a serial, or of a range of serials (a reel of 500 damaged
    labels is one event), that only a person can report: returned by a customer, destroyed,
    decommissioned. Who, when, why, and the record that proves it (a reference and/or a stored
    PDF or photo). Append-only: a mistaken event is answered by a new one, never edited.

    A destroyed or decommissioned event is final: on PostgreSQL, triggers on the registry
    (``SerialRun``, ``SerialCode``) refuse any row of its scope that covers the serial from
    becoming accepted, whatever path writes it."""

    class State(models.TextChoices):
        RETURNED = "returned", _("Returned")
        DESTROYED = "destroyed", _("Destroyed")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    # States after which a serial may never be accepted again.
    FINAL = (State.DESTROYED, State.DECOMMISSIONED)

    scope = models.CharField(max_length=100)
    batch = models.ForeignKey(
        "orders.Batch", on_delete=models.PROTECT, related_name="serial_life_events"
    )
    # Sequential rules: a counter range (one serial: lo = hi). Allocated codes: one code.
    counter_lo = models.BigIntegerField(null=True, blank=True)
    counter_hi = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(max_length=100, blank=True)
    first_serial = models.CharField(max_length=100)
    last_serial = models.CharField(max_length=100)
    state = models.CharField(max_length=20, choices=State.choices)
    reason = models.TextField()
    reference = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("The record that proves it: a destruction certificate, an RMA number…"),
    )
    file = models.FileField(upload_to="serial-life/", max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "serials"
        triggers = [
            *append_only(),
            # Recording takes the scope's lock, which accepting takes too (serials.models):
            # whichever commits first, the other then sees it.
            pgtrigger.Trigger(
                name="life_scope_lock",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func=f"PERFORM pg_advisory_xact_lock({LIFE_LOCK}, hashtext(NEW.scope)); "
                "RETURN NEW;",
            ),
        ]
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["scope", "counter_lo", "counter_hi"]),
            models.Index(fields=["scope", "code"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(counter_lo__isnull=False, counter_hi__gte=models.F("counter_lo"), code="")
                    | Q(counter_lo__isnull=True, counter_hi__isnull=True, code__gt="")
                ),
                name="life_event_range_or_code",
            ),
            models.CheckConstraint(
                condition=Q(reason__regex=r"\S"), name="life_event_reason_given"
            ),
        ]

    def __str__(self) -> str:
        span = self.first_serial
        if self.last_serial != self.first_serial:
            span = f"{self.first_serial} – {self.last_serial}"
        return f"{span} {self.get_state_display().lower()}"

    @property
    def count(self) -> int:
        if self.counter_lo is None or self.counter_hi is None:
            return 1
        return self.counter_hi - self.counter_lo + 1

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL


_FINAL_SQL = ", ".join(f"'{state.value}'" for state in SerialLifeEvent.FINAL)
_LIFE_TABLE = "serials_seriallifeevent"


class NeverAcceptedAgain(pgtrigger.Trigger):
    """Refuses a registry row (a run, or a code) that is accepted — inserted so or updated to
    it — while a destroyed or decommissioned event of its scope covers it. A statement trigger
    over the rows written (``REFERENCING NEW TABLE``): one set-based check, however many rows;
    rows written pending (``accepted`` false: every upload) skip it at once. It takes the
    scope's lock before it looks, as recording an event does, so a concurrent event is seen
    once it commits. Raises ``check_violation`` (an IntegrityError)."""

    when = pgtrigger.After
    level = pgtrigger.Statement
    referencing = pgtrigger.Referencing(new="new_rows")

    def __init__(self, *, name: str, operation: pgtrigger.Operation, codes: bool) -> None:
        self.codes = codes
        super().__init__(name=name, operation=operation)

    def get_func(self, model: object) -> str:
        covers = (
            "e.code = r.code" if self.codes else "e.counter_lo <= r.hi AND e.counter_hi >= r.lo"
        )
        return (
            "IF EXISTS (SELECT 1 FROM new_rows WHERE accepted) THEN "  # noqa: S608 - constants only
            f"PERFORM pg_advisory_xact_lock({LIFE_LOCK}, hashtext(s.scope)) FROM "
            "(SELECT DISTINCT scope FROM new_rows WHERE accepted ORDER BY scope) s; "
            f"IF EXISTS (SELECT 1 FROM new_rows r JOIN {_LIFE_TABLE} e ON e.scope = r.scope "
            f"AND e.state IN ({_FINAL_SQL}) AND {covers} WHERE r.accepted) THEN "
            f"RAISE EXCEPTION '{REFUSAL} (%)', TG_TABLE_NAME "
            "USING ERRCODE = 'check_violation'; END IF; END IF; RETURN NULL;"
        )


def never_accepted_again(*, codes: bool) -> list[pgtrigger.Trigger]:
    """The guard for ``Meta.triggers`` of SerialRun (``codes`` False) or SerialCode: one
    trigger per operation, as PostgreSQL allows transition tables on one event only."""
    return [
        NeverAcceptedAgain(name="never_again_insert", operation=pgtrigger.Insert, codes=codes),
        NeverAcceptedAgain(name="never_again_update", operation=pgtrigger.Update, codes=codes),
    ]
