"""The People page's table (django-tables2): sortable, with each person's status."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables  # type: ignore[import-untyped]
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.models import User

HIDE_ON_PHONE = {
    "th": {"class": "d-none d-md-table-cell"},
    "td": {"class": "d-none d-md-table-cell"},
}


def person_status(person: User) -> tuple[str, str]:
    """(key, label): deactivated; invited (no password set yet); or active."""
    if not person.is_active:
        return "deactivated", str(_("Deactivated"))
    if not person.has_usable_password():
        return "invited", str(_("Invited"))
    return "active", str(_("Active"))


class PeopleTable(tables.Table):
    name = tables.Column(
        verbose_name=_("Name"),
        accessor="username",
        order_by=("first_name", "last_name", "username"),
    )
    organisation = tables.Column(
        verbose_name=_("Organisation"),
        accessor="membership__organisation__name",
        attrs=HIDE_ON_PHONE,
    )
    role = tables.Column(verbose_name=_("Role"), accessor="membership__role", attrs=HIDE_ON_PHONE)
    status = tables.Column(verbose_name=_("Status"), accessor="is_active", order_by=("-is_active",))
    last_login = tables.DateTimeColumn(
        verbose_name=_("Last sign-in"),
        format="d M Y H:i",
        default=_("never"),
        attrs=HIDE_ON_PHONE,
    )
    has_second_factor = tables.Column(
        verbose_name=_("Second factor"), attrs=HIDE_ON_PHONE, empty_values=()
    )

    class Meta:
        model = User
        fields: tuple[str, ...] = ()
        sequence = ("name", "organisation", "role", "status", "last_login", "has_second_factor")
        order_by = ("organisation", "name")
        empty_text = _("Nobody matches these filters.")
        attrs = {"class": "table table-sm table-hover align-middle mb-0", "data-testid": "people"}
        row_attrs = {"data-username": lambda record: record.username}

    def render_name(self, record: User) -> Any:
        """The name and email; on a phone also the organisation and role, whose columns it
        leaves out."""
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary '
            'text-break">{}</div><div class="small d-md-none">{} · {}</div>',
            reverse("person-detail", args=[record.pk]),
            record.printed_name,
            record.email or record.username,
            record.membership.organisation.name,
            record.membership.get_role_display(),
        )

    def render_role(self, record: User) -> str:
        return str(record.membership.get_role_display())

    def render_status(self, record: User) -> Any:
        key, label = person_status(record)
        return format_html('<span class="status-badge person-{}">{}</span>', key, label)

    def render_has_second_factor(self, value: bool) -> Any:
        if value:
            return format_html(
                '<i aria-hidden="true" class="bi bi-shield-check text-success"></i> {}', _("Yes")
            )
        return format_html('<span class="text-body-secondary">{}</span>', _("No"))
