from django.urls import path

from accounts import views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="account-tokens"),
    path("account/tokens/revoke/", views.api_token_revoke, name="account-token-revoke"),
    path("account/password/", views.PasswordChange.as_view(), name="account-password"),
]
