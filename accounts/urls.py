from django.urls import include, path

from accounts import second_factor, views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="account-tokens"),
    path("account/tokens/revoke/", views.api_token_revoke, name="account-token-revoke"),
    path("account/password/", views.PasswordChange.as_view(), name="account-password"),
    path("account/security/", second_factor.security, name="account-security"),
    path("account/security/app/", second_factor.app_setup, name="account-app-setup"),
    path("account/security/remove/", second_factor.factor_remove, name="account-factor-remove"),
    path("account/verify/", second_factor.verify, name="account-verify"),
    # django-otp-webauthn's JSON views: passkey registration, and the sign-in's passkey step.
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
]
