"""The promise under test: before reviewing, the buyer names which promise a review tests, so
that one narrow change is not turned into a broad approval.

The five promises are defined here once, low in the layers, so that requests (evidence),
exception reviews (serials) and approvals (approvals) store and read them alike. A record holds
its set of promises in one text column: the codes, comma-joined in the order of ``Promise``
(``promises_joined`` makes that form, ``promises_split`` reads it back). The database refuses an
empty or unknown value (``promises_check``), and so does every service (``promises_clean``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


class Promise(models.TextChoices):
    """What a review tests (the order is the order they are listed and stored in)."""

    CAPACITY = "capacity", _("Production capacity")
    IDENTITY = "identity", _("Product identity")
    PROCESS = "process", _("Process control")
    SHIPMENT = "shipment", _("Shipment evidence")
    PAYMENT = "payment", _("Payment leverage")


# One line each: what a review of this promise tests (the help text of every form offering it).
PROMISE_HELP: dict[str, Any] = {
    Promise.CAPACITY: _(
        "The supplier made this quantity, on the lines and in the time it said: production "
        "records and the serial report."
    ),
    Promise.IDENTITY: _(
        "Each unit is the approved product, labelled as approved, with a serial of its own: the "
        "approved sample, label photos and the serial report."
    ),
    Promise.PROCESS: _(
        "Serials are printed, assigned and checked by the parties the responsibility map names: "
        "statements, exceptions with their decisions, inspection."
    ),
    Promise.SHIPMENT: _(
        "What leaves is what the lists say: carton lists, inspection and shipping documents agree."
    ),
    Promise.PAYMENT: _(
        "Money moves only against what was proven: the gates, the payment schedule and any "
        "payment made while evidence was pending."
    ),
}

# The longest value ("capacity,identity,process,shipment,payment") with room to spare.
PROMISES_MAX_LENGTH = 60
# A non-empty comma-joined list of known codes (the database's check; order and repeats are the
# services' to canonicalise).
_CODE = "(" + "|".join(Promise.values) + ")"
PROMISES_PATTERN = rf"^{_CODE}(,{_CODE})*$"


def promises_clean(values: Iterable[str] | str | None) -> list[str]:
    """The codes named, once each, in ``Promise`` order; refused when none is named or one is
    unknown. Takes a list of codes or the stored comma-joined text."""
    if values is None:
        values = []
    if isinstance(values, str):
        values = [part for part in values.split(",") if part.strip()]
    named = {str(value).strip() for value in values}
    unknown = sorted(named - set(Promise.values))
    if unknown:
        raise ValidationError(
            {
                "promises": _("“%(code)s” is not a promise (%(codes)s).")
                % {"code": unknown[0], "codes": ", ".join(Promise.values)}
            },
            code="invalid_promise",
        )
    if not named:
        raise ValidationError(
            {"promises": _("Name the promise (or promises) this tests.")}, code="no_promise"
        )
    return [value for value in Promise.values if value in named]


def promises_joined(values: Iterable[str] | str | None) -> str:
    """The stored form: ``promises_clean``'s codes, comma-joined."""
    return ",".join(promises_clean(values))


def promises_split(stored: str) -> list[Promise]:
    """The promises a stored value names, in ``Promise`` order (unknown codes left out)."""
    codes = {part.strip() for part in (stored or "").split(",")}
    return [Promise(value) for value in Promise.values if value in codes]


def promises_label(stored: str) -> str:
    """The promises in words, for a page or a sentence: "Product identity, shipment evidence"."""
    names = [str(promise.label) for promise in promises_split(stored)]
    if not names:
        return ""
    return ", ".join([names[0], *(name[:1].lower() + name[1:] for name in names[1:])])


def validate_promises(value: str) -> None:
    """A model field's validator: the stored form of at least one known promise."""
    promises_clean(value)


def promises_model_field(**kwargs: Any) -> models.CharField:
    """The column a record keeps its promises in."""
    kwargs.setdefault("verbose_name", _("promises under test"))
    return models.CharField(
        max_length=PROMISES_MAX_LENGTH, validators=[validate_promises], **kwargs
    )


def promises_check(name: str, field: str = "promises") -> models.CheckConstraint:
    """The database's refusal of an empty or unknown value, for a model's ``Meta.constraints``."""
    return models.CheckConstraint(condition=Q(**{f"{field}__regex": PROMISES_PATTERN}), name=name)


def _choice_label(value: str) -> str:
    return f"{Promise(value).label} — {PROMISE_HELP[value]}"


def promise_choices() -> list[tuple[str, Any]]:
    """Each promise with its one-line explanation, as a form's checkboxes show it."""
    return [(value, lazy(_choice_label, str)(value)) for value in Promise.values]


def promises_form_field(*, label: Any = None, **kwargs: Any) -> forms.MultipleChoiceField:
    """The checkboxes that name what a review tests (required)."""
    return forms.MultipleChoiceField(
        choices=promise_choices,
        widget=forms.CheckboxSelectMultiple,
        label=label if label is not None else _("What does this test?"),
        error_messages={"required": _("Name the promise (or promises) this tests.")},
        **kwargs,
    )
