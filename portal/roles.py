"""Who may do what: one place that turns a user's membership into capabilities."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from portal.models import Membership, Organisation, Role, User

BUYER_SIDE_KINDS = {Organisation.Kind.BUYER}


def membership_of(user: User | AnonymousUser) -> Membership | None:
    """The user's membership, or None for anonymous users and people outside any organisation."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.membership  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return None


def role_of(user: User | AnonymousUser) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def is_buyer_side(user: User | AnonymousUser) -> bool:
    """Buyer-company staff: they may see internal records such as the audit timeline."""
    membership = membership_of(user)
    return bool(membership and membership.organisation.kind in BUYER_SIDE_KINDS)


def can_manage_orders(user: User | AnonymousUser) -> bool:
    """Create and edit purchase orders and plan batches."""
    return role_of(user) in {Role.BUYER, Role.ADMIN}


def can_read_inspector_checks(user: User | AnonymousUser) -> bool:
    """What an approval tells the inspector to check: the buyer's staff and inspectors, never the
    supplier (like the samples: a check known in advance can be prepared for)."""
    return is_buyer_side(user) or role_of(user) == Role.INSPECTOR
