"""Open points of approvals accepted with conditions: closing one, with the record that closes
it. A point is written with its approval (``signing``) and never changed; its closing is one
append-only row, audited. The buyer's buyers and admins close any point; the supplier's users
close a point owned by a party of the responsibility map (the supplier named it); nobody else.

While a point the gates wait on (``blocks_gates``) is open, the approval's gates stay blocked
(``gates.gate_states``); once it is closed they open, if nothing else holds them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from approvals.models import OpenPoint, OpenPointClosure
from evidence.models import EvidenceItem, Statement
from orders.selectors import orders_visible_to
from portal.audit import audit_log
from portal.errors import Conflict
from portal.models import Role, User
from portal.roles import can_manage_orders, role_of

NOTE_MAX_CHARS = 4000


def open_points_visible_to(user: User) -> QuerySet[OpenPoint]:
    """The open points of approvals on the orders the user sees (closed or not)."""
    return OpenPoint.objects.filter(approval__order__in=orders_visible_to(user)).select_related(
        "approval__order", "approval__batch", "owner"
    )


def can_close(user: User, point: OpenPoint) -> bool:
    """The buyer's buyers and admins close any point; the supplier's users those owned by a
    party of the responsibility map."""
    if can_manage_orders(user):
        return True
    return role_of(user) == Role.SUPPLIER and point.supplier_side


def closing_records(point: OpenPoint) -> list[tuple[str, str]]:
    """What may close the point, as ("evidence:12", label) choices: the evidence items and the
    statement versions of the approval's batch (of the order's batches for an order's
    approval), newest first."""
    approval = point.approval
    batches = (
        [approval.batch_id]
        if approval.batch_id
        else list(approval.order.batches.values_list("pk", flat=True))
    )
    items = EvidenceItem.objects.filter(batch_id__in=batches).select_related("batch")
    statements = Statement.objects.filter(request__batch_id__in=batches).select_related(
        "request__batch"
    )
    return [
        *(
            (
                f"evidence:{item.pk}",
                _("Evidence: %(item)s, batch %(batch)s") % {"item": item, "batch": item.batch.code},
            )
            for item in items.order_by("-id")
        ),
        *(
            (
                f"statement:{statement.pk}",
                _("Statement v%(version)s on “%(subject)s”, batch %(batch)s")
                % {
                    "version": statement.version,
                    "subject": statement.request.subject,
                    "batch": statement.request.batch.code,
                },
            )
            for statement in statements.order_by("-id")
        ),
    ]


def _record(point: OpenPoint, record: str) -> tuple[str, int | None, str]:
    """The record named as "kind:id", checked to be one of the point's batch (or order)."""
    if not record:
        return "", None, ""
    labels = dict(closing_records(point))
    if record not in labels:
        raise ValidationError(
            {
                "record": _(
                    "Choose an evidence item or a statement of this approval's batch; "
                    "“%(record)s” is not one."
                )
                % {"record": record}
            }
        )
    kind, _sep, raw = record.partition(":")
    return kind, int(raw), str(labels[record])[:300]


@transaction.atomic
def open_point_close(
    *, point: OpenPoint, user: User, note: str, record: str = ""
) -> OpenPointClosure:
    """Close one open point, with a note and, if named, the record that closes it
    (``"evidence:<id>"`` or ``"statement:<id>"`` of the approval's batch). Closed once: a second
    closing is a Conflict."""
    point = (
        OpenPoint.objects.select_for_update(of=("self",))
        .select_related("approval__order", "approval__batch")
        .get(pk=point.pk)
    )
    if not orders_visible_to(user).filter(pk=point.approval.order_id).exists():
        raise PermissionDenied(_("This open point is not yours."))
    if not can_close(user, point):
        raise PermissionDenied(
            _("The buyer owns this point: only the buyer's buyers and admins close it.")
            if role_of(user) == Role.SUPPLIER
            else _(
                "Only the buyer's buyers and admins, or the supplier for its own points, close "
                "open points."
            )
        )
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say how the point was settled.")})
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(
            {"note": _("The note is longer than %(limit)s characters.") % {"limit": "4,000"}}
        )
    if hasattr(point, "closure"):
        raise Conflict(_("This point was closed a moment ago."))
    kind, record_id, label = _record(point, record)
    try:
        with transaction.atomic():
            closure = OpenPointClosure.objects.create(
                point=point,
                closed_by=user,
                note=note,
                record_kind=kind,
                record_id=record_id,
                record_label=label,
            )
    except IntegrityError:
        raise Conflict(_("This point was closed a moment ago.")) from None
    audit_log(
        actor=user,
        action="open_point.closed",
        obj=point,
        order=point.approval.order,
        payload={
            "approval": point.approval_id,
            "text": point.text,
            "owner": point.owner_label,
            "note": note,
            "record": label,
            "blocked_gates": point.blocks_gates,
        },
    )
    return closure
