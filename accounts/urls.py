from django.urls import include, path

from accounts import people, preferences, second_factor, views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="account-tokens"),
    path("account/tokens/revoke/", views.api_token_revoke, name="account-token-revoke"),
    path("account/password/", views.PasswordChange.as_view(), name="account-password"),
    path("account/preferences/", preferences.preferences, name="account-preferences"),
    path("account/language/", preferences.language_switch, name="account-language"),
    path("account/security/", second_factor.security, name="account-security"),
    path("account/security/app/", second_factor.app_setup, name="account-app-setup"),
    path("account/security/remove/", second_factor.factor_remove, name="account-factor-remove"),
    path("account/verify/", second_factor.verify, name="account-verify"),
    # An invitation's one-time link to set a password (Django's password-reset token).
    path(
        "account/set-password/<uidb64>/<token>/",
        people.SetPassword.as_view(),
        name="account-set-password",
    ),
    # The buyer's admin's People pages (portal.roles.can_manage_people).
    path("people/", people.people_list, name="people"),
    path("people/invite/", people.person_invite, name="people-invite"),
    path("people/<int:pk>/", people.person_detail, name="person-detail"),
    path("people/<int:pk>/role/", people.person_role, name="person-role"),
    path("people/<int:pk>/deactivate/", people.person_deactivate, name="person-deactivate"),
    path("people/<int:pk>/reactivate/", people.person_reactivate, name="person-reactivate"),
    path(
        "people/<int:pk>/invitation/",
        people.person_invitation_resend,
        name="person-invitation-resend",
    ),
    # django-otp-webauthn's JSON views: passkey registration, and the sign-in's passkey step.
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
]
