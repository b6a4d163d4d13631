"""The customer-service lookup's entry points, for the page, the API and the benchmark: who may
look up, and the steps of one lookup (inputs read, records queried, findings concluded). What
each status means and their precedence: ``lookup.results``."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from lookup.findings import Conclusions
from lookup.inputs import inputs_read, lookup_texts_check
from lookup.query import LookupQuery
from lookup.results import Links, LookupResult
from portal.models import Membership, Organisation, Role, User
from portal.roles import is_buyer_side, membership_of


def membership_prefetch(user: User | AnonymousUser) -> None:
    """Load the caller's membership with its organisation in one statement, before the role
    checks read both: a lookup should cost a handful of queries, and the ORM's join compiles
    slower than this lookup runs. The organisation's timestamp is left deferred."""
    if not user.is_authenticated or Membership.user.field.remote_field.is_cached(user):
        return
    found = list(
        Membership.objects.raw(
            """SELECT m.*, o.name AS organisation_name, o.kind AS organisation_kind,
                      o.country AS organisation_country, o.contact_email AS organisation_email
               FROM portal_membership m JOIN portal_organisation o ON o.id = m.organisation_id
               WHERE m.user_id = %s""",
            [user.pk],
        )
    )
    if not found:
        return
    membership = found[0]
    joined = vars(membership)  # the raw query's extra columns, set on the instance as attributes
    membership.organisation = Organisation.from_db(
        membership._state.db,
        ["id", "name", "kind", "country", "contact_email"],
        [
            membership.organisation_id,
            joined["organisation_name"],
            joined["organisation_kind"],
            joined["organisation_country"],
            joined["organisation_email"],
        ],
    )
    user.membership = membership


def serial_lookup(*, user: User | AnonymousUser, text: str) -> LookupResult:
    """Look up one serial for a buyer-side user; a handful of indexed queries. Raises
    PermissionDenied for anyone else. Never writes."""
    return serials_lookup_bulk(user=user, texts=[text])[0]


def serials_lookup_bulk(*, user: User | AnonymousUser, texts: Sequence[str]) -> list[LookupResult]:
    """Look up many serials at once (at most BULK_LIMIT), one result per text in the same
    order. Set-based: per product scope, the registry's runs are loaded once and matched with
    NumPy, placements and inspection results are fetched in chunks. Never writes."""
    membership_prefetch(user)
    if not is_buyer_side(user):
        raise PermissionDenied("Only the buyer's staff look up serials.")
    texts = lookup_texts_check(texts)
    membership = membership_of(user)
    assert membership is not None
    results = inputs_read(texts)
    links = Links()
    query = LookupQuery(
        user=user, buyer_id=membership.organisation_id, results=results, links=links
    )
    query.run()
    conclusions = Conclusions(query, links)
    for position, result in enumerate(results):
        if not result.findings:
            conclusions.conclude(position, result)
    return results


def serial_check_for_brand(*, organisation: Organisation, text: str) -> LookupResult:
    """Look up one serial as the brand's own buyer staff would (every order of the buyer, its
    numbering rules), for a caller who is nobody of the brand: the public genuine-or-not check
    (``lookup.public``), which shows only a verdict drawn from the result. Never writes.

    The lookup is scoped through a person's membership (``orders_visible_to``); here that person
    is a stand-in, never saved, holding the buyer role at ``organisation``."""
    reader = User(username="", is_active=True)
    reader.membership = Membership(user=reader, organisation=organisation, role=Role.BUYER)
    return serial_lookup(user=reader, text=text)
