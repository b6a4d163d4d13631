"""Typed requests for the views only a signed-in user reaches.

django-stubs types ``HttpRequest.user`` (and DRF's ``Request.user``) as ``User | AnonymousUser``:
a request in general may be anonymous. Behind ``@login_required``, behind DRF's
``IsAuthenticated`` (the default permission class, ``REST_FRAMEWORK`` in settings) and inside the
admin site it never is: it is a ``portal.models.User``. A view says so in its signature by taking
one of these instead of the plain request, as django-stubs documents for a custom user model.
They are annotations only: Django and DRF still pass their own request objects.

- ``AuthenticatedRequest``: a page view under ``@login_required``, and the helpers it hands its
  request to.
- ``AuthenticatedAPIRequest``: an API view's handler (``get``, ``post``, ...) under
  ``IsAuthenticated``; a generic view whose hooks read ``self.request.user`` declares
  ``request: AuthenticatedAPIRequest`` on the class.
- ``admin_user``: the admin's hooks, whose signatures Django fixes to a plain ``HttpRequest``.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from portal.models import User


class AuthenticatedRequest(HttpRequest):
    """An ``HttpRequest`` whose user has signed in (a view under ``@login_required``)."""

    user: User


class AuthenticatedAPIRequest(Request):
    """A DRF ``Request`` whose user has authenticated (a view under ``IsAuthenticated``)."""

    user: User


def admin_user(request: HttpRequest) -> User:
    """The user of an admin request. ``AdminSite.admin_view`` lets only signed-in staff through,
    but ``ModelAdmin``'s hooks are typed with a plain ``HttpRequest`` that a subclass may not
    narrow, so the admin asks here instead of taking an ``AuthenticatedRequest``."""
    return cast(User, request.user)
