"""Who may do what: one place that turns a user's membership into capabilities."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from portal.models import Membership, Organisation, Role, User

BUYER_SIDE_KINDS = {Organisation.Kind.BUYER}

# The role sets behind the capabilities below. Code elsewhere asks a capability by name and never
# spells out a set of roles (tests/portal/test_roles.py fails on one).
ORDER_MANAGERS = frozenset({Role.BUYER, Role.ADMIN})
ORDER_PARTIES = frozenset({Role.SUPPLIER, Role.BUYER, Role.ADMIN})
MONEY_MOVERS = frozenset({Role.FINANCE, Role.ADMIN})
DEADLINE_WATCHERS = frozenset({Role.BUYER, Role.ADMIN, Role.FINANCE})
INSPECTION_PLANNERS = frozenset({Role.BUYER, Role.ADMIN, Role.INSPECTOR})
INSPECTION_RECORDERS = frozenset({Role.INSPECTOR, Role.ADMIN})
SECOND_FACTOR_HOLDERS = ORDER_MANAGERS | MONEY_MOVERS


def membership_of(user: User | AnonymousUser) -> Membership | None:
    """The user's membership, or None for anonymous users and people outside any organisation."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.membership
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
    return role_of(user) in ORDER_MANAGERS


def can_upload_batch_files(user: User | AnonymousUser) -> bool:
    """Upload a batch's serial lists and evidence: the supplier, and the buyer's managers."""
    return role_of(user) in ORDER_PARTIES


def can_edit_responsibilities(user: User | AnonymousUser) -> bool:
    """Name who does which part of an order's serial work: the supplier, or the buyer."""
    return role_of(user) in ORDER_PARTIES


def can_review_batches(user: User | AnonymousUser) -> bool:
    """Open a batch's review page (every record side by side, the inspection and the money
    among them): the buyer's managers and finance. Never the supplier, who would learn the
    sample and the buyer's notes."""
    return role_of(user) in ORDER_MANAGERS | MONEY_MOVERS


def can_manage_approved_samples(user: User | AnonymousUser) -> bool:
    """Record a product's approved sample and its new versions (photos, label layout, the
    inspection instruction): the buyer's buyers and admins."""
    return role_of(user) in ORDER_MANAGERS


def can_move_money(user: User | AnonymousUser) -> bool:
    """Release payment and shipment gates and record payments: finance, and the admin."""
    return role_of(user) in MONEY_MOVERS


def needs_second_factor(user: User | AnonymousUser) -> bool:
    """Signs approvals or moves money, so holds a passkey or an authenticator app: buyers,
    finance and the admin."""
    return role_of(user) in SECOND_FACTOR_HOLDERS


def can_chase_overdue_orders(user: User | AnonymousUser) -> bool:
    """Is told on the dashboard which open orders are past their required-by date."""
    return role_of(user) in DEADLINE_WATCHERS


def can_see_inspections(user: User | AnonymousUser) -> bool:
    """The buyer's staff and the assigned inspectors. Never the supplier: a sample known in
    advance is a sample that can be prepared."""
    return is_buyer_side(user) or role_of(user) == Role.INSPECTOR


def can_plan_inspections(user: User | AnonymousUser) -> bool:
    return role_of(user) in INSPECTION_PLANNERS


def can_record_inspection_results(user: User | AnonymousUser) -> bool:
    return role_of(user) in INSPECTION_RECORDERS


def can_read_inspector_checks(user: User | AnonymousUser) -> bool:
    """What an approval tells the inspector to check: the buyer's staff and inspectors, never the
    supplier (like the samples: a check known in advance can be prepared for)."""
    return is_buyer_side(user) or role_of(user) == Role.INSPECTOR


def can_see_integrity(user: User | AnonymousUser) -> bool:
    """Read the integrity verification's runs and the checkpoints, and run it: the admin."""
    return role_of(user) == Role.ADMIN


def can_manage_people(user: User | AnonymousUser) -> bool:
    """Invite people to the buyer and to its suppliers, change their roles, deactivate them: the
    buyer's admin, in the portal (operators keep the Django admin)."""
    return role_of(user) == Role.ADMIN and is_buyer_side(user)
