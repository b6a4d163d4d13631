"""The signed-in person's language and time zone, and the language switch in every page's footer.

Both are remembered on the user, so a supplier who picks 简体中文 once reads the portal and its
emails in it on every device. The switch also works signed out (the sign-in page): it sets
Django's language cookie."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.audit import audit_log
from portal.forms import BootstrapFormMixin
from portal.typing import AuthenticatedRequest

# Zones people pick from: the machine's IANA names, without the legacy aliases.
ZONES = sorted(
    name
    for name in zoneinfo.available_timezones()
    if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))
)


class PreferencesForm(BootstrapFormMixin, forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("The browser's language"))] + list(settings.LANGUAGES),
        help_text=gettext_lazy(
            "Pages and emails in this language. Serials, names and what people wrote stay as "
            "written."
        ),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        choices=[("", "UTC")] + [(name, name.replace("_", " ")) for name in ZONES],
        help_text=gettext_lazy("Times on pages are shown in it; records keep UTC."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    initial = {"language": user.language, "time_zone": user.time_zone}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if v != initial[k]}
        if changed:
            user.language = form.cleaned_data["language"]
            user.time_zone = form.cleaned_data["time_zone"]
            with transaction.atomic():
                user.save(update_fields=["language", "time_zone"])
                audit_log(
                    actor=user, action="account.preferences_changed", obj=user, payload=changed
                )
        # Answer in the language just chosen.
        if user.language:
            translation.activate(user.language)
        messages.success(request, _("Your preferences are saved."))
        response = HttpResponseRedirect(reverse("account-preferences"))
        _remember_language(response, user.language)
        return response
    return render(request, "accounts/preferences.html", {"form": form})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Set the language from the footer's switch; remembered on the user when signed in."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = ""
    user = request.user
    if user.is_authenticated and getattr(user, "language", "") != language:
        before = user.language
        user.language = language
        with transaction.atomic():
            user.save(update_fields=["language"])
            audit_log(
                actor=user,
                action="account.preferences_changed",
                obj=user,
                payload={"language": language, "was": before},
            )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("dashboard")
    response = HttpResponseRedirect(target)
    _remember_language(response, language)
    return response


def _remember_language(response: HttpResponse, language: str) -> None:
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
