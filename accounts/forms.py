"""The buyer's admin's forms for people: invite one, change one's role; and the invited
person's set-password form."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from accounts.selectors import organisations_managed_by
from portal.forms import BootstrapFormMixin
from portal.models import ROLES_BY_KIND, Organisation, Role, User


def _role_choices(organisations: list[Organisation]) -> list[tuple[str, str]]:
    """The roles any of ``organisations`` may give, in the order Role lists them."""
    allowed = {role for organisation in organisations for role in ROLES_BY_KIND[organisation.kind]}
    return [(value, str(label)) for value, label in Role.choices if value in allowed]


class InviteForm(BootstrapFormMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("The invitation, with a one-time link to set a password, goes here."),
    )
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        required=False,
        help_text=_("What they type to sign in. Leave it empty to use the email address."),
    )
    organisation = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        help_text=_("Your own company, or one of the suppliers you have orders with."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        help_text=_("A supplier's people are suppliers; your own staff take any other role."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("Of the invitation email and, once they sign in, of their pages."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisations = list(organisations_managed_by(actor))
        self.organisations = {organisation.pk: organisation for organisation in organisations}
        organisation_field = self.fields["organisation"]
        assert isinstance(organisation_field, forms.ChoiceField)
        own = [(o.pk, o.name) for o in organisations if o.kind == Organisation.Kind.BUYER]
        suppliers = [(o.pk, o.name) for o in organisations if o.kind == Organisation.Kind.SUPPLIER]
        groups = [(_("Your company"), own), (_("Your suppliers"), suppliers)]
        organisation_field.choices = [(label, group) for label, group in groups if group]
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = _role_choices(organisations)
        # static/js/people.js offers only the roles valid for the chosen organisation; the
        # service checks it either way.
        role_field.widget.attrs["data-roles-by-organisation"] = json.dumps(
            {
                str(organisation.pk): sorted(ROLES_BY_KIND[organisation.kind])
                for organisation in organisations
            }
        )
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = [("", _("The browser's language")), *settings.LANGUAGES]

    def clean_organisation(self) -> Organisation:
        return self.organisations[self.cleaned_data["organisation"]]


class RoleForm(BootstrapFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, person: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"role": person.membership.role})
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = _role_choices([person.membership.organisation])
        # A supplier's people have one role to hold: nothing to choose.
        self.has_choice = len(role_field.choices) > 1


class PortalSetPasswordForm(BootstrapFormMixin, SetPasswordForm):
    """Django's form: the password twice, checked by ``AUTH_PASSWORD_VALIDATORS``."""
