"""Each person's lookups, written as they are answered and read back as "Your recent lookups"
(the lookup page, and customer service's dashboard through ``lookup.inbox``).

Written by the views that answer a lookup — the page, the API and both bulk paths — once per
request, after the answer is worked out and before it is sent: one INSERT (``LookupLog``). The
selectors stay reads only. The log is a convenience, not a record a decision rests on: if the
INSERT fails, the failure is logged and the person still gets the answer they asked for."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, transaction

from lookup.inputs import TEXT_MAX
from lookup.models import LookupLog
from lookup.results import RANK, LookupResult, LookupStatus
from portal.models import User
from portal.roles import membership_of

logger = logging.getLogger(__name__)

RECENT_LOOKUPS = 10


def loudest_status(results: Sequence[LookupResult]) -> str:
    """The first status in precedence order among the results (a bulk lookup's headline)."""
    if not results:
        return LookupStatus.UNKNOWN.value
    return str(min((result.status for result in results), key=RANK.__getitem__))


def _text(value: str, limit: int) -> str:
    # PostgreSQL text holds no NUL; an API query string may carry one (%00).
    return value.replace("\x00", "\ufffd")[:limit]


def lookup_log(
    *,
    user: User | AnonymousUser,
    results: Sequence[LookupResult],
    channel: str,
    query: str = "",
    file_name: str = "",
) -> LookupLog | None:
    """Record a lookup just answered for ``user``: the text as typed (single lookups), the
    uploaded file's own name (bulk), how many serials and the loudest status. None when the
    user has no organisation, or when the row could not be written (logged)."""
    membership = membership_of(user)
    if membership is None:
        return None
    name = os.path.basename(file_name.replace("\\", "/"))
    entry = LookupLog(
        user_id=membership.user_id,
        organisation_id=membership.organisation_id,
        channel=channel,
        query=_text(query, TEXT_MAX),
        file_name=_text(name, 255),
        serial_count=len(results),
        status=loudest_status(results),
    )
    try:
        # A savepoint when the caller is in a transaction: a failed INSERT must not break it.
        with transaction.atomic():
            entry.save(force_insert=True)
    except DatabaseError:
        logger.exception("The lookup of user %s could not be logged", membership.user_id)
        return None
    return entry


def recent_lookups(user: User | AnonymousUser, limit: int = RECENT_LOOKUPS) -> list[LookupLog]:
    """The user's own latest lookups, newest first, made for the organisation they are in now."""
    membership = membership_of(user)
    if membership is None:
        return []
    return list(
        LookupLog.objects.filter(
            user_id=membership.user_id, organisation_id=membership.organisation_id
        ).order_by("-id")[:limit]
    )
