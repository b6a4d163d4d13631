"""What the inspection app puts in the inspector's "Waiting on you" (registered in
``InspectionConfig.ready``; see ``portal.dashboard``): one item per inspection with labels still
to read, linking straight to the next unit, so the first label is one tap from the dashboard;
and one per batch ready to be sampled that has no inspection yet.

The navigation counts these items on every page: a fixed handful of queries, however many
inspections the inspector has."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inspection.models import InspectionPlan, SampledUnit, UnitResult
from inspection.selectors import carton_order, next_unit, plans_visible_to
from orders.models import PurchaseOrder
from orders.selectors import batches_visible_to
from portal.dashboard import WaitingItem
from portal.models import Role, User
from portal.roles import can_plan_inspections, role_of
from serials.models import SerialList

FINISHED_ORDERS = [PurchaseOrder.Status.CLOSED, PurchaseOrder.Status.CANCELLED]


def _inspect_item(
    plan: InspectionPlan,
    units: list[SampledUnit],
    results: dict[int, UnitResult],
    blocked: bool,
) -> WaitingItem | None:
    """An inspection with a unit to read that has not failed yet (a blocked step leaves the
    other labels to read)."""
    unit = next_unit(plan, results=results, units=units)
    defective = sum(1 for result in results.values() if result.defective)
    if unit is None or defective >= plan.reject:
        return None
    skipped = sum(1 for result in results.values() if result.skipped)
    read = len(results) - skipped
    left = len(units) - read
    batch, order = plan.batch, plan.batch.order
    title = ngettext(
        "Inspect batch %(batch)s of PO %(order)s: %(left)d unit to read, %(read)d read",
        "Inspect batch %(batch)s of PO %(order)s: %(left)d units to read, %(read)d read",
        left,
    ) % {"batch": batch.code, "order": order.number, "left": left, "read": read}
    if unit.carton:
        details = [
            _("Next: %(serial)s in carton %(carton)s")
            % {"serial": unit.serial, "carton": unit.carton}
        ]
    else:
        details = [_("Next: %(serial)s") % {"serial": unit.serial}]
    if skipped:
        details.append(
            ngettext(
                "%(n)d skipped, waiting at the end", "%(n)d skipped, waiting at the end", skipped
            )
            % {"n": skipped}
        )
    if blocked:
        details.append(_("a step is blocked"))
    details.append(f"{order.product_name} · {order.supplier}")
    return WaitingItem(
        title,
        " · ".join(details),
        reverse("sampled-unit", args=[unit.pk]),
        kind="inspection",
        icon="bi-upc-scan",
    )


def _inspections(user: User | AnonymousUser) -> tuple[list[WaitingItem], set[int]]:
    """The items of each batch's newest inspection, and the batches that have one."""
    plans = (
        plans_visible_to(user)
        .exclude(batch__order__status__in=FINISHED_ORDERS)
        .select_related("batch__order__supplier")
        .order_by("batch_id", "-id")
    )
    newest: dict[int, InspectionPlan] = {}
    for plan in plans:
        newest.setdefault(plan.batch_id, plan)  # a batch's newest inspection speaks for it
    chosen = [plan.pk for plan in newest.values()]
    units: dict[int, list[SampledUnit]] = defaultdict(list)
    for unit in SampledUnit.objects.filter(plan_id__in=chosen):
        units[unit.plan_id].append(unit)
    results: dict[int, dict[int, UnitResult]] = defaultdict(dict)
    rows = (
        UnitResult.objects.filter(unit__plan_id__in=chosen)
        .annotate(of_plan=F("unit__plan_id"))
        .only("id", "unit_id", "method", "defective")
    )
    for result in rows.order_by("id"):
        results[result.of_plan][result.unit_id] = result  # the newest counts
    blocked = set(
        InspectionPlan.objects.filter(pk__in=chosen, blocked_steps__isnull=False).values_list(
            "pk", flat=True
        )
    )
    items = []
    for plan in newest.values():
        ordered = sorted(units[plan.pk], key=carton_order)
        if item := _inspect_item(plan, ordered, results[plan.pk], plan.pk in blocked):
            items.append(item)
    return items, set(newest)


def waiting_on(user: User | AnonymousUser) -> list[WaitingItem]:
    if role_of(user) != Role.INSPECTOR:
        return []
    items, inspected = _inspections(user)
    if not can_plan_inspections(user):
        return items
    batches = (
        batches_visible_to(user)
        .exclude(order__status__in=[*FINISHED_ORDERS, PurchaseOrder.Status.DRAFT])
        .exclude(pk__in=inspected)
        .select_related("order")
    )
    newest_lists: dict[int, SerialList] = {}
    for serial_list in SerialList.objects.filter(
        batch__in=batches, kind=SerialList.Kind.PRODUCTION
    ).order_by("batch_id", "-id"):
        newest_lists.setdefault(serial_list.batch_id, serial_list)
    for batch in batches:
        listed = newest_lists.get(batch.pk)
        if listed is None or listed.status != SerialList.Status.DONE:
            continue  # nothing to sample from yet
        items.append(
            WaitingItem(
                _("Plan the sample of batch %(batch)s of PO %(order)s")
                % {"batch": batch.code, "order": batch.order.number},
                _("%(serials)s is validated: draw the sample, then read the labels.")
                % {"serials": listed.original_name},
                reverse("batch-inspections", args=[batch.pk]),
                kind="inspection",
                icon="bi-shuffle",
            )
        )
    return items
