"""State changes on orders and batches. Each checks who may make it, validates, writes an
audit event in the same transaction, and returns the saved object."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Q
from django.utils.functional import Promise

from orders.gtin import product_as_written
from orders.models import Batch, PurchaseOrder
from orders.selectors import orders_visible_to
from portal.audit import audit_log
from portal.models import Organisation, Role, User
from portal.roles import can_manage_orders, membership_of

ORDER_EDITABLE_FIELDS = (
    "supplier",
    "number",
    "product_name",
    "gtin",
    "sku",
    "quantity",
    "customer_promise",
    "order_date",
    "required_by",
    "status",
)

# Which batch fields each role may change: the buyer plans, the supplier reports production.
BATCH_PLANNING_FIELDS = ("code", "planned_quantity")
BATCH_PRODUCTION_FIELDS = (
    "declared_first_serial",
    "declared_last_serial",
    "production_started_on",
    "production_finished_on",
    "status",
)
BATCH_FIELDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.BUYER: (*BATCH_PLANNING_FIELDS, "status"),
    Role.SUPPLIER: BATCH_PRODUCTION_FIELDS,
    Role.ADMIN: (*BATCH_PLANNING_FIELDS, *BATCH_PRODUCTION_FIELDS),
}


# What a signed approval or the registry rests on: once either does, these never change (a
# signed record is not rewritten under its signature; a correction is a new order or batch).
ORDER_FROZEN_FIELDS: tuple[str, ...] = ("gtin", "sku")
BATCH_FROZEN_FIELDS: tuple[str, ...] = ("code", "declared_first_serial", "declared_last_serial")


def _accepted_serials(batches: Any) -> bool:
    # Reverse lookups, not an import: the registry lives in serials, above this app.
    return batches.filter(Q(serial_runs__accepted=True) | Q(serial_codes__accepted=True)).exists()


def _approved(orders: Any, batches: Any) -> bool:
    # Reverse lookups, not an import: approvals live above this app.
    return orders.exists() or batches.filter(approvals__isnull=False).exists()


def order_frozen_reason(*, order: PurchaseOrder) -> str | None:
    """Why the order's product (GTIN, SKU) can no longer change, or None if it still can."""
    if order.pk is None:
        return None
    if PurchaseOrder.objects.filter(pk=order.pk, approvals__isnull=False).exists():
        return "a signed approval of this order rests on it"
    if _accepted_serials(Batch.objects.filter(order=order)):
        return "the registry holds this order's accepted serials under it"
    # Reverse lookups, not an import: a validated list's registry rows carry the product they
    # were read under; changing it would leave them in another product's registry.
    batches = Batch.objects.filter(order=order)
    if batches.filter(Q(serial_runs__isnull=False) | Q(serial_codes__isnull=False)).exists():
        return (
            "this order's serial lists are registered under it (upload them again on a new order)"
        )
    return None


def batch_frozen_reason(*, batch: Batch) -> str | None:
    """Why the batch's code and declared range can no longer change, or None if they still can."""
    if batch.pk is None:
        return None
    order_approved = PurchaseOrder.objects.filter(
        pk=batch.order_id, approvals__isnull=False, approvals__batch__isnull=True
    )
    if _approved(order_approved, Batch.objects.filter(pk=batch.pk)):
        return "a signed approval of this batch rests on it"
    if _accepted_serials(Batch.objects.filter(pk=batch.pk)):
        return "the registry holds this batch's serials under it"
    return None


def _verbose_name(obj: PurchaseOrder | Batch, name: str) -> str | Promise:
    field = obj._meta.get_field(name)
    assert isinstance(field, Field)  # the frozen fields are the model's own columns
    return field.verbose_name


def frozen_fields_check(*, obj: PurchaseOrder | Batch, values: dict[str, Any]) -> None:
    """Refuse, naming each field and why, a change to what a signature or the registry rests on.
    The pages, the API and the admin all reach this through the services (the admin's forms
    also call it, to show the message on the field)."""
    if isinstance(obj, PurchaseOrder):
        fields, reason = ORDER_FROZEN_FIELDS, order_frozen_reason(order=obj)
    else:
        fields, reason = BATCH_FROZEN_FIELDS, batch_frozen_reason(batch=obj)
    if reason is None:
        return
    refused = {
        field: f"The {_verbose_name(obj, field)} cannot change: {reason}."
        for field in fields
        if field in values and (values[field] or "") != (getattr(obj, field) or "")
    }
    if refused:
        raise ValidationError(refused)


def batch_fields_for(user: User | AnonymousUser) -> tuple[str, ...]:
    membership = membership_of(user)
    return BATCH_FIELDS_BY_ROLE.get(membership.role, ()) if membership else ()


def _require_order_manager(user: User) -> Organisation:
    if not can_manage_orders(user):
        raise PermissionDenied("Only the buyer's buyers and admins create and edit orders.")
    return user.membership.organisation


def batch_lock(*, batch: Batch, share: Iterable[int] = ()) -> None:
    """Lock a batch row for update in the one lock order (see portal.audit): the orders' rows
    first, shared (an order editor locks the order, then its batches), then the batches in id
    order, this one for update and ``share`` (other batches the write names) shared, so two
    lockers never wait for each other in a circle. The audit lock comes after all of them."""
    if connection.vendor != "postgresql":
        return
    batch_ids = sorted({batch.pk, *share})
    order_ids = sorted(
        set(Batch.objects.filter(pk__in=batch_ids).values_list("order_id", flat=True))
    )
    with connection.cursor() as cursor:
        for model, pks in ((PurchaseOrder, order_ids), (Batch, batch_ids)):
            table, column = model._meta.db_table, model._meta.pk.column
            for pk in pks:
                mode = "UPDATE" if model is Batch and pk == batch.pk else "KEY SHARE"
                # Names from the models and a fixed mode, never a value: hence the noqa.
                sql = f"SELECT 1 FROM {table} WHERE {column} = %s FOR {mode}"  # noqa: S608
                cursor.execute(sql, [pk])


def _locked_visible_order(user: User, pk: int) -> PurchaseOrder:
    """Lock the order row, refusing one outside the caller's scope as if it did not exist."""
    try:
        return orders_visible_to(user).select_for_update(of=("self",)).get(pk=pk)
    except PurchaseOrder.DoesNotExist:
        raise PermissionDenied("This order is not yours to change.") from None


def _changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply values to obj and return {field: [old, new]} for what really changed."""
    changed = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            setattr(obj, field, new)
            changed[field] = [_plain(old), _plain(new)]
    return changed


def _plain(value: Any) -> Any:
    if isinstance(value, Organisation):
        return value.name
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _save_checked(obj: PurchaseOrder | Batch) -> None:
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:  # a concurrent write got there between the check and save
        raise ValidationError(f"Could not save: {error}") from None


@transaction.atomic
def order_create(
    *,
    user: User,
    supplier: Organisation,
    number: str,
    product_name: str,
    quantity: int,
    order_date: datetime.date,
    required_by: datetime.date,
    gtin: str = "",
    sku: str = "",
    customer_promise: str = "",
    status: str = PurchaseOrder.Status.DRAFT,
    inspection_firms: Iterable[Organisation] = (),
) -> PurchaseOrder:
    """Create an order for the user's own buyer company, audited."""
    buyer = _require_order_manager(user)
    order = PurchaseOrder(
        buyer=buyer,
        supplier=supplier,
        number=number.strip(),
        product_name=product_name,
        gtin=product_as_written(buyer.pk, gtin),
        sku=product_as_written(buyer.pk, sku, sku=True),
        quantity=quantity,
        customer_promise=customer_promise,
        order_date=order_date,
        required_by=required_by,
        status=status,
    )
    _save_checked(order)
    firms = list(inspection_firms)
    order.inspection_firms.set(firms)
    audit_log(
        actor=user,
        action="order.created",
        obj=order,
        order=order,
        payload={
            **{field: _plain(getattr(order, field)) for field in ORDER_EDITABLE_FIELDS},
            "inspection_firms": sorted(firm.name for firm in firms),
        },
    )
    return order


@transaction.atomic
def order_update(
    *,
    order: PurchaseOrder,
    user: User,
    inspection_firms: Iterable[Organisation] | None = None,
    **values: Any,
) -> PurchaseOrder:
    """Change an order's fields; records exactly what changed, or nothing if nothing did."""
    _require_order_manager(user)
    unknown = set(values) - set(ORDER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    order = _locked_visible_order(user, order.pk)
    if "gtin" in values:
        values["gtin"] = product_as_written(order.buyer_id, values["gtin"] or "")
    if "sku" in values:
        values["sku"] = product_as_written(order.buyer_id, values["sku"] or "", sku=True)
    frozen_fields_check(obj=order, values=values)
    changed = _changes(order, values)
    if changed:
        _save_checked(order)
    if inspection_firms is not None:
        before = sorted(order.inspection_firms.values_list("name", flat=True))
        firms = list(inspection_firms)
        after = sorted(firm.name for firm in firms)
        if before != after:
            order.inspection_firms.set(firms)
            changed["inspection_firms"] = [before, after]
    if changed:
        audit_log(actor=user, action="order.updated", obj=order, order=order, payload=changed)
    return order


@transaction.atomic
def batch_create(
    *, order: PurchaseOrder, user: User, code: str, planned_quantity: int, **values: Any
) -> Batch:
    """Plan a new batch inside an order, audited."""
    _require_order_manager(user)
    order = _locked_visible_order(user, order.pk)
    allowed = set(batch_fields_for(user))
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be set: {', '.join(sorted(unknown))}.")
    batch = Batch(order=order, code=code.strip(), planned_quantity=planned_quantity, **values)
    _save_checked(batch)
    audit_log(
        actor=user,
        action="batch.created",
        obj=batch,
        order=order,
        payload={"code": batch.code, "planned_quantity": planned_quantity, **values},
    )
    return batch


@transaction.atomic
def batch_update(*, batch: Batch, user: User, **values: Any) -> Batch:
    """Change a batch: planning fields for the buyer, production details for the supplier."""
    allowed = set(batch_fields_for(user))
    if not allowed:
        raise PermissionDenied("Your role cannot change batches.")
    forbidden = set(values) - allowed
    if forbidden:
        raise PermissionDenied(f"Your role cannot change: {', '.join(sorted(forbidden))}.")
    # Lock the order: batch totals are checked against its quantity.
    _locked_visible_order(user, batch.order_id)
    batch = Batch.objects.select_related("order").get(pk=batch.pk)
    frozen_fields_check(obj=batch, values=values)
    changed = _changes(batch, values)
    if changed:
        _save_checked(batch)
        audit_log(actor=user, action="batch.updated", obj=batch, order=batch.order, payload=changed)
    return batch
