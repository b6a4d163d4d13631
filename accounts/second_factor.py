"""The Security page (passkeys and authenticator apps), their setup, and the sign-in's second
step. Passkeys are registered and used at sign-in through django-otp-webauthn's own views and
script; authenticator apps (TOTP) through django-otp's device, with a QR code drawn by segno."""

from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import factors
from accounts.passkeys import passkeys_of, signing_options
from portal.errors import message_of
from portal.forms import BootstrapFormMixin
from portal.models import User
from portal.roles import needs_second_factor
from portal.typing import AuthenticatedRequest


class CodeForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        max_length=12,
        label=_("6-digit code from your app"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class AppForm(CodeForm):
    name = forms.CharField(
        max_length=64,
        initial="Authenticator app",
        label=_("Name"),
        help_text=_("Which app or phone, e.g. “Phone · Google Authenticator”."),
    )
    field_order = ["name", "code"]


@never_cache
@login_required
@require_http_methods(["GET"])
def security(request: AuthenticatedRequest) -> HttpResponse:
    """The user's passkeys and authenticator apps; add or remove them."""
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "passkeys": passkeys_of(user),
            "apps": factors.totp_devices_of(user),
            "needs_second_factor": needs_second_factor(user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def app_setup(request: AuthenticatedRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then confirm a code."""
    device = factors.totp_pending(request)
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = factors.totp_confirm(
                request=request,
                user=request.user,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            form.add_error("code", message_of(error))
        else:
            if not factors.verified(request):
                otp_login(request, device)
            messages.success(
                request, gettext("Authenticator app added: it can now confirm signatures.")
            )
            return redirect("account-security")
    key = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/app_setup.html",
        {
            "form": form,
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(
                scale=4, title=gettext("QR code for your authenticator app")
            ),
            "key_groups": [key[i : i + 4] for i in range(0, len(key), 4)],
        },
    )


@login_required
@require_POST
def factor_remove(request: AuthenticatedRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    device_id = request.POST.get("id", "")
    if kind not in {"passkey", "app"} or not device_id.isdigit() or len(device_id) > 18:
        raise Http404("No such second factor of yours.")
    name = factors.factor_remove(
        user=request.user, kind="passkey" if kind == "passkey" else "totp", device_id=int(device_id)
    )
    if name is None:
        raise Http404("No such second factor of yours.")
    messages.success(
        request, gettext("“%(name)s” removed: it no longer signs or signs you in.") % {"name": name}
    )
    return redirect("account-security")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedRequest) -> HttpResponse:
    """The sign-in's second step: a passkey (django-otp-webauthn's script) or an app's code."""
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if factors.verified(request) or not factors.has_second_factor(user):
        return redirect(next_url)
    apps = factors.totp_devices_of(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = factors.totp_match(user, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", message_of(error))
        else:
            otp_login(request, device)
            return redirect(next_url)
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "apps": apps, "passkeys": passkeys_of(user), "next": next_url},
    )


def factor_context(user: User, options_url: str) -> dict[str, object]:
    """What a signing or release form shows of the user's second factors
    (``includes/factor_submit.html``): the passkey button, the app's code field, or the way to
    set one up."""
    passkeys = bool(passkeys_of(user))
    apps = bool(factors.totp_devices_of(user))
    return {
        "passkeys": passkeys,
        "apps": apps,
        "missing": not (passkeys or apps),
        "options_url": options_url,
    }


def passkey_options_response(
    request: AuthenticatedRequest, *, binding: str, purpose: str, summary: str
) -> JsonResponse:
    """The WebAuthn options for signing ``binding`` (a SHA-256): the page's script hands them to
    the passkey, and shows ``summary`` and the hash while it asks."""
    if not passkeys_of(request.user):
        return JsonResponse(
            {"detail": gettext("You hold no passkey; use your app's code.")}, status=400
        )
    options = signing_options(request=request, user=request.user, binding=binding, purpose=purpose)
    return JsonResponse({"options": options, "sha256": binding, "summary": summary})
