"""The demo's People page: a supplier's QA lead invited and not yet signed up, a production
planner at the other supplier who set her password, and a former buyer deactivated."""

from __future__ import annotations

from accounts.services import person_deactivate, person_invite, person_password_set
from portal.models import Organisation, Role, User

# username: (first name, last name, email, organisation key, role, language, what becomes of them)
DEMO_PEOPLE = {
    "chen.jie": (
        "Jie",
        "Chen",
        "chen.jie@brightline.example",
        "supplier_a",
        Role.SUPPLIER,
        "zh-hans",
        "invited",
    ),
    "tran.mai": (
        "Mai",
        "Tran",
        "tran.mai@harbourtools.example",
        "supplier_b",
        Role.SUPPLIER,
        "vi",
        "active",
    ),
    "oliver.grant": (
        "Oliver",
        "Grant",
        "oliver.grant@northwind.example",
        "buyer",
        Role.BUYER,
        "",
        "deactivated",
    ),
}


def demo_people(*, admin: User, organisations: dict[str, Organisation], password: str) -> None:
    """Invite the demo's extra people through the admin's own path; skips those already there."""
    for username, (first, last, email, org_key, role, language, becomes) in DEMO_PEOPLE.items():
        if User.objects.filter(username=username).exists():
            continue
        person = person_invite(
            actor=admin,
            organisation=organisations[org_key],
            first_name=first,
            last_name=last,
            email=email,
            role=role,
            username=username,
            language=language,
        )
        if becomes == "invited":
            continue
        person.set_password(password)
        person.save(update_fields=["password"])
        person_password_set(person=person)
        if becomes == "deactivated":
            person_deactivate(actor=admin, person=person)
