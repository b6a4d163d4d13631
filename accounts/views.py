"""The signed-in person's API tokens page and password change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.models import ApiToken
from portal.errors import message_of
from portal.forms import BootstrapFormMixin
from portal.passwords import password_confirm
from portal.typing import AuthenticatedRequest


class TokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        max_length=services.NAME_MAX,
        label=_("Name"),
        help_text=_(
            "The device or system that will hold it, e.g. “ERP export” or “Line 2 scanner”."
        ),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedRequest) -> HttpResponse:
    """List the user's own tokens; POST makes one and shows it, this once."""
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = services.token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", message_of(error))
        else:
            form = TokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user).order_by("-created"),
            "form": form,
            "new_token": new_token,
            "ttl_days": services.token_ttl().days,
        },
    )


@login_required
@require_POST
def api_token_revoke(request: AuthenticatedRequest) -> HttpResponse:
    """Revoke one of the user's own tokens (by its digest); anyone else's is 404."""
    token = services.token_revoke(user=request.user, digest=request.POST.get("digest", ""))
    if token is None:
        raise Http404("No such token of yours.")
    messages.success(
        request,
        gettext("Token “%(name)s” revoked: it no longer opens the API.") % {"name": token.name},
    )
    return redirect("account-tokens")


class AxesPasswordChangeForm(BootstrapFormMixin, PasswordChangeForm):
    """The old password counts like a sign-in (django-axes), as a signing password does."""

    def __init__(self, user: Any, *args: Any, request: AuthenticatedRequest, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        try:
            password_confirm(
                request=self.request,
                user=self.user,
                password=old_password,
                refused=str(self.error_messages["password_incorrect"]),
            )
        except ValidationError as error:
            raise ValidationError(message_of(error), code="password_incorrect") from None
        return old_password


@method_decorator(never_cache, name="dispatch")
class PasswordChange(auth_views.PasswordChangeView):
    """Change one's own password; every API token of the user is revoked (accounts.signals)."""

    form_class = AxesPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account-tokens")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request,
            gettext("Password changed. Every API token you had is revoked: make new ones."),
        )
        return response
