"""The navigation's question: does this person see scorecards (``scorecards.selectors``)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from portal.models import User
from scorecards.selectors import can_see_scorecards as _can_see_scorecards

register = template.Library()


@register.filter
def can_see_scorecards(user: User | AnonymousUser) -> bool:
    return _can_see_scorecards(user)
