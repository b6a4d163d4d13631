"""Each person's language and time zone: chosen once, remembered on the user, applied to every
page (and, in tests/portal/test_notifications.py, to emails); the footer's switch
works signed in and signed out and never redirects off the site."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent, User
from tests.conftest import ROLES, Cast


@pytest.mark.parametrize("username", ROLES)
def test_every_role_opens_and_saves_its_own_preferences(cast: Cast, username: str) -> None:
    client = cast.client(username)
    page = client.get(reverse("account-preferences"))
    assert page.status_code == 200
    assert 'name="language"' in page.content.decode()
    response = client.post(
        reverse("account-preferences"), {"language": "vi", "time_zone": "Asia/Ho_Chi_Minh"}
    )
    assert response.status_code == 302
    user = User.objects.get(username=username)
    assert (user.language, user.time_zone) == ("vi", "Asia/Ho_Chi_Minh")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "vi"
    event = AuditEvent.objects.get(action="account.preferences_changed", actor=user)
    assert event.payload == {"language": "vi", "time_zone": "Asia/Ho_Chi_Minh"}


def test_signed_out_the_preferences_page_asks_to_sign_in() -> None:
    response = Client().get(reverse("account-preferences"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_saved_language_and_zone_apply_on_every_page_and_device(cast: Cast) -> None:
    user = cast.users["supplier_a"]
    user.language, user.time_zone = "zh-hans", "Asia/Shanghai"
    user.save()
    # Another device: no cookie, a browser asking for English.
    client = cast.client("supplier_a")
    page = client.get(reverse("order-list"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = page.content.decode()
    assert '<html lang="zh-hans"' in body
    assert page["Content-Language"] == "zh-hans"
    assert "Asia/Shanghai" in body  # the footer names the zone times are shown in


def test_without_a_choice_the_browser_s_language_and_utc_apply(cast: Cast) -> None:
    page = cast.client("supplier_b").get(reverse("order-list"), HTTP_ACCEPT_LANGUAGE="vi")
    assert '<html lang="vi"' in page.content.decode()
    assert "Times are UTC." in cast.client("buyer").get(reverse("order-list")).content.decode()


def test_an_unknown_zone_or_language_is_refused_and_nothing_changes(cast: Cast) -> None:
    client = cast.client("buyer")
    page = client.post(
        reverse("account-preferences"), {"language": "xx", "time_zone": "Mars/Olympus"}
    )
    assert page.status_code == 200 and "is-invalid" in page.content.decode()
    user = User.objects.get(username="buyer")
    assert (user.language, user.time_zone) == ("", "")
    assert not AuditEvent.objects.filter(action="account.preferences_changed").exists()


def test_the_footer_switch_remembers_the_language_on_the_user(cast: Cast) -> None:
    client = cast.client("supplier_a")
    response = client.post(
        reverse("account-language"), {"language": "zh-hans", "next": reverse("order-list")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("order-list")
    assert User.objects.get(username="supplier_a").language == "zh-hans"
    assert '<html lang="zh-hans"' in client.get(reverse("order-list")).content.decode()


def test_signed_out_the_switch_sets_the_cookie_for_the_sign_in_page() -> None:
    client = Client()
    response = client.post(reverse("account-language"), {"language": "vi", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "vi"
    assert '<html lang="vi"' in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_the_switch_never_sends_anyone_off_the_site(cast: Cast, target: str) -> None:
    response = cast.client("buyer").post(
        reverse("account-language"), {"language": "vi", "next": target}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_the_switch_only_takes_a_post(cast: Cast) -> None:
    assert cast.client("buyer").get(reverse("account-language")).status_code == 405


def test_an_unknown_language_from_the_switch_clears_the_choice(cast: Cast) -> None:
    user = cast.users["buyer"]
    user.language = "vi"
    user.save()
    response = cast.client("buyer").post(reverse("account-language"), {"language": "klingon"})
    assert response.status_code == 302
    assert User.objects.get(username="buyer").language == ""


def test_the_preferences_form_saved_as_shown_changes_nothing(cast: Cast) -> None:
    user = cast.users["supplier_b"]
    user.language, user.time_zone = "vi", "Asia/Ho_Chi_Minh"
    user.save()
    client = cast.client("supplier_b")
    page = client.get(reverse("account-preferences")).content.decode()
    assert 'value="vi" selected' in page and 'value="Asia/Ho_Chi_Minh" selected' in page
    response = client.post(
        reverse("account-preferences"), {"language": "vi", "time_zone": "Asia/Ho_Chi_Minh"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("vi", "Asia/Ho_Chi_Minh")
    assert not AuditEvent.objects.filter(action="account.preferences_changed").exists()
