"""The buyer's admin's People pages: who is listed, inviting (with the one-time link to set a
password), roles per organisation, deactivating and reactivating; everyone else refused."""

from __future__ import annotations

import datetime
import re
import smtplib
from typing import Any

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import person_invite, token_create
from portal.models import AuditEvent, Membership, Organisation, Role, User
from tests.conftest import PASSWORD, ROLES, Cast

# Whom the buyer's admin manages: the buyer's staff and the people of its two suppliers.
MANAGED = {"buyer", "finance", "service", "admin", "supplier_a", "supplier_b"}
UNREACHABLE = {"inspector", "other_buyer", "outsider"}
PERSON_PAGES = ["person-detail", "person-deactivate"]
PERSON_ACTIONS = [
    "person-role",
    "person-deactivate",
    "person-reactivate",
    "person-invitation-resend",
]
NEW_PASSWORD = "Lantern-orchard-417"


class TwoHoursAgo(PasswordResetTokenGenerator):
    """Makes the links Django made two hours ago."""

    def _now(self) -> datetime.datetime:
        return datetime.datetime.now() - datetime.timedelta(hours=2)


def _signs_in(username: str, password: str) -> Client | None:
    """A client signed in through the sign-in page (django-axes needs the request), or None."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client if response.status_code == 302 else None


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that does not answer."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _invite(cast: Cast, **fields: Any) -> Any:
    data = {
        "first_name": "Jie",
        "last_name": "Chen",
        "email": "chen.jie@brightline.example",
        "username": "",
        "organisation": cast.organisations["supplier_a"].pk,
        "role": Role.SUPPLIER,
        "language": "",
        **fields,
    }
    return cast.client("admin").post(reverse("people-invite"), data)


def _link(message: mail.EmailMessage) -> str:
    """The path of the email's set-password link."""
    [path] = re.findall(r"https?://[^/\s]+(/account/set-password/\S+/)", str(message.body))
    return path


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_it_lists_the_buyer_s_and_its_suppliers_people(cast: Cast) -> None:
    response = cast.client("admin").get(reverse("people"))
    assert response.status_code == 200
    listed = set(re.findall(r'data-username="([^"]+)"', response.content.decode()))
    assert listed == MANAGED
    # The supplier of both buyers is listed for each buyer's admin; the rest stay apart.
    other_admin = User.objects.create_user(username="other_admin", password=PASSWORD)
    Membership.objects.create(
        user=other_admin, organisation=cast.organisations["other_buyer"], role=Role.ADMIN
    )
    client = Client()
    client.force_login(other_admin)
    page = client.get(reverse("people")).content.decode()
    assert set(re.findall(r'data-username="([^"]+)"', page)) == {
        "other_buyer",
        "other_admin",
        "supplier_a",
    }


def test_it_filters_sorts_and_exports_people(cast: Cast) -> None:
    client = cast.client("admin")
    User.objects.filter(username="finance").update(is_active=False)

    def listed(**query: str) -> set[str]:
        page = client.get(reverse("people"), query).content.decode()
        return set(re.findall(r'data-username="([^"]+)"', page))

    assert listed(organisation=str(cast.organisations["supplier_b"].pk)) == {"supplier_b"}
    assert listed(role="supplier") == {"supplier_a", "supplier_b"}
    assert listed(active="no") == {"finance"}
    assert listed(q="supplier_") == {"supplier_a", "supplier_b"}
    assert "finance" not in listed(active="yes")
    # Another buyer's organisation is not a choice: the filter refuses it, and shows nobody.
    refused = client.get(reverse("people"), {"organisation": cast.organisations["other_buyer"].pk})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    page = client.get(reverse("people"), {"sort": "-status"})
    assert page.status_code == 200
    csv = client.get(reverse("people"), {"format": "csv", "role": "supplier"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Name,User name,Email,Organisation,Role,Status")
    assert len(lines) == 3 and all("Supplier" in line for line in lines[1:])


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"admin"}))
def test_it_refuses_everyone_but_the_buyer_s_admin(cast: Cast, role: str) -> None:
    client = cast.client(role)
    target = cast.users["supplier_a"].pk
    assert client.get(reverse("people")).status_code == 403
    assert client.get(reverse("people"), {"format": "csv"}).status_code == 403
    assert client.get(reverse("people-invite")).status_code == 403
    assert _invite_as(client, cast).status_code == 403
    for name in PERSON_PAGES:
        assert client.get(reverse(name, args=[target])).status_code == 403, name
    for name in PERSON_ACTIONS:
        response = client.post(reverse(name, args=[target]), {"role": "supplier"})
        assert response.status_code == 403, name
    assert not User.objects.filter(email="chen.jie@brightline.example").exists()
    assert User.objects.get(pk=target).is_active
    assert b"/people/" not in client.get(reverse("dashboard")).content


def _invite_as(client: Client, cast: Cast) -> Any:
    return client.post(
        reverse("people-invite"),
        {
            "first_name": "Jie",
            "email": "chen.jie@brightline.example",
            "organisation": cast.organisations["supplier_a"].pk,
            "role": "supplier",
        },
    )


def test_it_sends_anonymous_visitors_to_sign_in(cast: Cast) -> None:
    anonymous = Client()
    urls = [reverse("people"), reverse("people-invite")]
    urls += [reverse(name, args=[cast.users["buyer"].pk]) for name in PERSON_PAGES]
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_answers_404_for_people_outside_the_admin_s_reach(cast: Cast) -> None:
    client = cast.client("admin")
    missing = User.objects.order_by("-pk").first().pk + 1000
    targets = [cast.users[key].pk for key in UNREACHABLE] + [missing]
    for pk in targets:
        for name in PERSON_PAGES:
            response = client.get(reverse(name, args=[pk]))
            assert response.status_code == 404, (name, pk)
        for name in PERSON_ACTIONS:
            response = client.post(reverse(name, args=[pk]), {"role": "inspector"})
            assert response.status_code == 404, (name, pk)
    assert all(User.objects.get(username=key).is_active for key in UNREACHABLE)
    assert Membership.objects.get(user=cast.users["inspector"]).role == Role.INSPECTOR
    assert not _events("person.deactivated") and not _events("person.role_changed")
    for key in MANAGED:
        assert client.get(reverse("person-detail", args=[cast.users[key].pk])).status_code == 200


def test_it_invites_and_the_link_sets_a_password(cast: Cast) -> None:
    form = cast.client("admin").get(reverse("people-invite")).content.decode()
    assert "Supplier A Co" in form and "Other Buyer Co" not in form
    response = _invite(cast, username="chen.jie", language="zh-hans")
    person = User.objects.get(username="chen.jie")
    assert response.status_code == 302
    assert response["Location"] == reverse("person-detail", args=[person.pk])
    assert not person.has_usable_password() and person.is_active
    assert person.language == "zh-hans" and person.printed_name == "Jie Chen"
    assert person.membership.organisation == cast.organisations["supplier_a"]
    assert person.membership.role == Role.SUPPLIER
    [event] = _events("person.invited")
    assert event.actor == cast.users["admin"] and event.object_id == str(person.pk)
    assert event.payload["organisation"] == "Supplier A Co" and event.payload["role"] == "supplier"
    [message] = mail.outbox
    assert message.to == ["chen.jie@brightline.example"]
    assert "chen.jie" in message.body
    link = _link(message)
    # Not yet: the invited person cannot sign in.
    assert not _signs_in("chen.jie", "")
    # The link: Django redirects to the same page without the token, then takes the password.
    visitor = Client()
    page = visitor.get(link, follow=True)
    assert page.status_code == 200 and "Set your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    weak = visitor.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "too common" in weak.content.decode()
    done = visitor.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("login")
    signed_in = _signs_in("chen.jie", NEW_PASSWORD)
    assert signed_in is not None
    assert signed_in.get(reverse("dashboard")).context["user"].username == "chen.jie"
    assert _events("person.password_set")[0].actor == person
    # The link works once.
    used = Client().get(link, follow=True).content.decode()
    assert "This link no longer works" in used


def test_it_uses_the_email_address_as_the_user_name_when_none_is_given(cast: Cast) -> None:
    assert _invite(cast).status_code == 302
    assert User.objects.filter(username="chen.jie@brightline.example").exists()


@pytest.mark.parametrize(
    ("organisation", "role", "message"),
    [
        ("supplier_a", Role.BUYER, "Supplier A Co is a supplier: its people can only be Supplier."),
        ("buyer", Role.SUPPLIER, "Buyer Co is a buyer: its people can only be"),
    ],
)
def test_it_gives_only_roles_valid_for_the_organisation(
    cast: Cast, organisation: str, role: str, message: str
) -> None:
    response = _invite(cast, organisation=cast.organisations[organisation].pk, role=role)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email="chen.jie@brightline.example").exists()
    assert not mail.outbox and not _events("person.invited")


def test_it_refuses_an_organisation_outside_the_admin_s_reach(cast: Cast) -> None:
    for key in ("other_buyer", "inspection"):
        response = _invite(cast, organisation=cast.organisations[key].pk, role=Role.INSPECTOR)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    # The service refuses it too, whatever calls it.
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="your suppliers"):
        person_invite(
            actor=cast.users["admin"],
            organisation=cast.organisations["other_buyer"],
            first_name="X",
            last_name="",
            email="x@example.com",
            role=Role.BUYER,
        )
    assert not User.objects.filter(email__in=["chen.jie@brightline.example", "x@example.com"])


def test_it_refuses_a_duplicate_email_or_user_name_clearly(cast: Cast) -> None:
    taken_email = _invite(cast, email="Supplier_A@EXAMPLE.com")
    assert taken_email.status_code == 200
    assert "already has the email address" in taken_email.content.decode()
    taken_name = _invite(cast, username="Supplier_B")
    assert taken_name.status_code == 200
    assert "The user name “Supplier_B” is taken" in taken_name.content.decode()
    assert User.objects.count() == len(ROLES) and not mail.outbox


def test_it_keeps_nothing_when_the_invitation_cannot_be_sent(cast: Cast, settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"
    response = _invite(cast)
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    assert "nobody was invited" in response.content.decode()
    assert not User.objects.filter(email="chen.jie@brightline.example").exists()
    assert not _events("person.invited")


def test_it_sends_a_new_link_until_a_password_is_set(cast: Cast) -> None:
    _invite(cast, username="chen.jie")
    person = User.objects.get(username="chen.jie")
    client = cast.client("admin")
    response = client.post(reverse("person-invitation-resend", args=[person.pk]))
    assert response.status_code == 302 and len(mail.outbox) == 2
    assert _events("person.invitation_sent")[0].actor == cast.users["admin"]
    # Someone with a password gets no invitation.
    client.post(reverse("person-invitation-resend", args=[cast.users["supplier_b"].pk]))
    assert len(mail.outbox) == 2


def test_a_link_expires_and_a_deactivated_person_s_link_opens_nothing(
    cast: Cast, settings: Any
) -> None:
    _invite(cast, username="chen.jie")
    person = User.objects.get(username="chen.jie")
    link = _link(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = 3600
    old = TwoHoursAgo().make_token(person)
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    expired = Client().get(reverse("account-set-password", args=[uid, old]), follow=True)
    assert "This link no longer works" in expired.content.decode()
    cast.client("admin").post(reverse("person-deactivate", args=[person.pk]))
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()
    # Reactivated, the person needs a new invitation: the old link stays dead.
    cast.client("admin").post(reverse("person-reactivate", args=[person.pk]))
    assert User.objects.get(pk=person.pk).is_active
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()


def test_it_changes_a_role_within_the_organisation_s_roles(cast: Cast) -> None:
    client = cast.client("admin")
    service = cast.users["service"]
    response = client.post(reverse("person-role", args=[service.pk]), {"role": Role.FINANCE})
    assert response.status_code == 302
    assert Membership.objects.get(user=service).role == Role.FINANCE
    [event] = _events("person.role_changed")
    assert event.payload["role"] == ["customer_service", "finance"]
    assert event.actor == cast.users["admin"]
    # A supplier's person cannot be made a buyer; the page says why, and nothing changes.
    supplier = cast.users["supplier_a"]
    refused = client.post(reverse("person-role", args=[supplier.pk]), {"role": Role.BUYER})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert Membership.objects.get(user=supplier).role == Role.SUPPLIER
    # Nor does the admin change their own role.
    own = client.post(reverse("person-role", args=[cast.users["admin"].pk]), {"role": Role.BUYER})
    assert own.status_code == 400 and "own role" in own.content.decode()
    assert Membership.objects.get(user=cast.users["admin"]).role == Role.ADMIN
    assert len(_events("person.role_changed")) == 1


def test_deactivation_ends_sessions_revokes_tokens_and_blocks_sign_in(cast: Cast) -> None:
    person = cast.users["supplier_a"]
    session = _signs_in("supplier_a", PASSWORD)
    assert session is not None
    assert session.get(reverse("dashboard")).status_code == 200
    _, key = token_create(user=person, name="ERP export")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api-order-list")).status_code == 200
    admin = cast.client("admin")
    confirm = admin.get(reverse("person-deactivate", args=[person.pk]))
    assert confirm.status_code == 200
    assert "Their 1 API token is revoked" in confirm.content.decode()
    assert person.is_active  # asking is not doing
    response = admin.post(reverse("person-deactivate", args=[person.pk]))
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(person.pk) for s in Session.objects.all()
    )
    assert not ApiToken.objects.filter(user=person).exists()
    assert session.get(reverse("dashboard")).status_code == 302
    assert api.get(reverse("api-order-list")).status_code == 401
    assert not _signs_in("supplier_a", PASSWORD)
    [event] = _events("person.deactivated")
    assert event.actor == cast.users["admin"]
    assert event.payload == {"sessions_ended": 1, "tokens_revoked": 1}
    [revoked] = _events("api_token.revoked")
    assert revoked.actor == cast.users["admin"] and revoked.payload["why"] == "deactivated"
    listed = admin.get(reverse("people"), {"active": "no"}).content.decode()
    assert 'data-username="supplier_a"' in listed
    # Reactivated, they sign in with the password they had.
    assert admin.post(reverse("person-reactivate", args=[person.pk])).status_code == 302
    assert _signs_in("supplier_a", PASSWORD)
    assert _events("person.reactivated")[0].actor == cast.users["admin"]


def test_an_admin_cannot_deactivate_themself(cast: Cast) -> None:
    client = cast.client("admin")
    me = cast.users["admin"]
    page = client.get(reverse("person-deactivate", args=[me.pk])).content.decode()
    assert "You cannot deactivate yourself" in page and "btn-danger" not in page
    response = client.post(reverse("person-deactivate", args=[me.pk]))
    assert response.status_code == 400
    assert "You cannot deactivate yourself" in response.content.decode()
    me.refresh_from_db()
    assert me.is_active and not _events("person.deactivated")
    assert client.get(reverse("people")).status_code == 200  # still signed in


def test_only_the_admin_sees_people_in_the_navigation(cast: Cast) -> None:
    for role in ROLES:
        page = cast.client(role).get(reverse("order-list")).content.decode()
        assert (f'href="{reverse("people")}"' in page) == (role == "admin"), role


def test_an_invited_person_appears_as_invited(cast: Cast) -> None:
    _invite(cast, username="chen.jie")
    person = User.objects.get(username="chen.jie")
    page = cast.client("admin").get(reverse("person-detail", args=[person.pk])).content.decode()
    assert "Invited" in page and "Send a new invitation link" in page
    assert Organisation.objects.filter(memberships__user=person, kind="supplier").exists()
