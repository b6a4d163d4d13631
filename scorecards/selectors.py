"""Who sees which scorecard. A card is per buyer–supplier pair: the buyer's staff see one card
per supplier of their own orders, a supplier sees one card per buyer it works for, and each card
counts only the facts of the orders the viewer may see (``orders_visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.ids import parse_id
from portal.models import Organisation, Role, User
from portal.roles import is_buyer_side, membership_of


@dataclass(frozen=True)
class Pair:
    """One scorecard: a buyer and one of its suppliers."""

    buyer: Organisation
    supplier: Organisation


def can_see_scorecards(user: User | AnonymousUser) -> bool:
    """The buyer's staff (every role: a supplier's record matters to buying, paying, answering
    customers and running the portal) and suppliers, for their own cards. Inspectors judge
    batches, not suppliers: they see none."""
    return is_buyer_side(user) or _is_supplier(user)


def _is_supplier(user: User | AnonymousUser) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == Role.SUPPLIER


def _own_organisation(user: User | AnonymousUser) -> Organisation:
    membership = membership_of(user)
    if membership is None or not can_see_scorecards(user):
        raise PermissionDenied
    return membership.organisation


def viewer_is_supplier(user: User | AnonymousUser) -> bool:
    return _is_supplier(user)


def pairs_visible_to(user: User | AnonymousUser) -> list[Pair]:
    """Every card the caller may open, by partner name: the buyer's suppliers, or the
    supplier's buyers. Raises PermissionDenied for anyone who sees no scorecards at all."""
    own = _own_organisation(user)
    orders = orders_visible_to(user)
    if _is_supplier(user):
        buyers = Organisation.objects.filter(pk__in=orders.values("buyer_id")).order_by("name")
        return [Pair(buyer=buyer, supplier=own) for buyer in buyers]
    suppliers = Organisation.objects.filter(pk__in=orders.values("supplier_id")).order_by("name")
    return [Pair(buyer=own, supplier=supplier) for supplier in suppliers]


def pair_for(user: User | AnonymousUser, supplier_id: int, buyer_key: str | None) -> Pair:
    """The card of ``supplier_id`` the caller may open; 404 for another supplier, or for a
    supplier this buyer has no order with. A supplier working for several buyers names the
    buyer (``buyer_key``, an id); without it, the first of them by name."""
    pairs = [pair for pair in pairs_visible_to(user) if pair.supplier.pk == supplier_id]
    if not pairs:
        raise Http404("No such scorecard.")
    if buyer_key is None or not _is_supplier(user):
        return pairs[0]
    buyer_id = parse_id(buyer_key)
    for pair in pairs:
        if pair.buyer.pk == buyer_id:
            return pair
    raise Http404("No such scorecard.")


def pair_orders(user: User | AnonymousUser, pair: Pair) -> QuerySet[PurchaseOrder]:
    """The orders of the pair the caller may see: every fact on a card comes from these."""
    return orders_visible_to(user).filter(buyer=pair.buyer, supplier=pair.supplier)
