"""Whom the buyer's admin manages: the people of the buyer and of its suppliers.

A supplier is one of the buyer's when it has at least one purchase order from it (a draft
too: the admin invites the supplier's people before issuing the first order). The lookup
goes through the order's ``supplier`` relation by name, in the query: accounts sits below
orders in the layers and imports nothing from it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from portal.models import Organisation, User
from portal.roles import can_manage_people, membership_of


def organisations_managed_by(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The admin's own organisation and every supplier with an order from it; none for anyone
    else."""
    membership = membership_of(user)
    if membership is None or not can_manage_people(user):
        return Organisation.objects.none()
    buyer = membership.organisation
    suppliers = Organisation.objects.filter(
        kind=Organisation.Kind.SUPPLIER, orders_received__buyer=buyer
    ).values("pk")
    return Organisation.objects.filter(Q(pk=buyer.pk) | Q(pk__in=suppliers)).order_by(
        "kind", "name"
    )


def people_visible_to(user: User | AnonymousUser) -> QuerySet[User]:
    """The people of the organisations ``user`` manages, with their membership and whether
    they hold a second factor (``has_second_factor``)."""
    return (
        User.objects.filter(membership__organisation__in=organisations_managed_by(user))
        .select_related("membership__organisation")
        .annotate(
            has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
            | Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .order_by("membership__organisation__name", "first_name", "last_name", "username")
    )


def person_for(user: User | AnonymousUser, pk: int) -> User:
    """One person ``user`` manages; 404 for anyone else, as for an id that does not exist."""
    return get_object_or_404(people_visible_to(user), pk=pk)
