"""The navigation asks whether to show "Public checks" (``lookup.public``), without a context
processor of its own: ``{% load public_checks %}{% if user|can_see_public_checks %}``."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from lookup import public
from portal.models import User

register = template.Library()


@register.filter
def can_see_public_checks(user: User | AnonymousUser) -> bool:
    return public.can_see_public_checks(user)
