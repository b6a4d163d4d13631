"""Open points as written with an approval: checked (owner, due date, text), listed in its
manifest, read back for the signature's check."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import Approval
from evidence.models import Responsibility
from orders.models import PurchaseOrder


@dataclass(frozen=True)
class OpenPointDraft:
    """A point an "accepted with conditions" approval leaves open, as the signer writes it:
    what, who owns it (a party of the order's responsibility map, or None for the buyer), by
    when, and whether the approval's gates wait on it."""

    text: str
    owner: Responsibility | None
    due_on: datetime.date
    blocks_gates: bool = False


class ManifestOpenPoint(TypedDict):
    """One open point as the signed manifest lists it."""

    text: str
    owner: str
    party: int | None  # the responsibility-map row that names its owner; None: the buyer
    due_on: str
    blocks_gates: bool


def _open_point_owner_label(point: OpenPointDraft, order: PurchaseOrder) -> str:
    if point.owner is None:
        return order.buyer.name
    return f"{point.owner.party_name} ({point.owner.get_role_display()})"


def open_points_checked(
    *, order: PurchaseOrder, decision: str, open_points: Sequence[OpenPointDraft]
) -> list[ManifestOpenPoint]:
    """Each open point well-formed and owned by a current party of this order's map (or the
    buyer); only an approval accepted with conditions leaves points open."""
    if not open_points:
        return []
    if decision != Approval.Decision.ACCEPTED_WITH_CONDITIONS:
        raise ValidationError(
            {"open_points": _("Only an approval accepted with conditions leaves points open.")}
        )
    from evidence.services import current_responsibilities

    current = {row.pk for row in current_responsibilities(order).values()}
    listed: list[ManifestOpenPoint] = []
    for point in open_points:
        text = " ".join(point.text.split())
        if not text:
            raise ValidationError({"open_points": _("Say what each open point is.")})
        if len(text) > 500:
            raise ValidationError({"open_points": _("An open point is at most 500 characters.")})
        if point.owner is not None and point.owner.pk not in current:
            raise ValidationError(
                {
                    "open_points": _(
                        "“%(party)s” is not a current party of this order's responsibility map."
                    )
                    % {"party": point.owner.party_name}
                }
            )
        if point.due_on < timezone.localdate():
            raise ValidationError(
                {"open_points": _("The open point “%(text)s” is due in the past.") % {"text": text}}
            )
        listed.append(
            ManifestOpenPoint(
                text=text,
                owner=_open_point_owner_label(point, order),
                party=point.owner.pk if point.owner is not None else None,
                due_on=point.due_on.isoformat(),
                blocks_gates=bool(point.blocks_gates),
            )
        )
    return listed


def open_points_listed(approval: Approval) -> list[dict[str, Any]]:
    """The approval's open point rows, as its manifest lists them."""
    return [
        {
            "text": point.text,
            "owner": point.owner_label,
            "party": point.owner_id,
            "due_on": point.due_on.isoformat(),
            "blocks_gates": point.blocks_gates,
        }
        for point in sorted(approval.open_points.all(), key=lambda point: point.pk)
    ]
