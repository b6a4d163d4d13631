"""The GTIN check both the order and the approved sample apply (each model names its own
validator, so migrations keep their references; both call this)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError


def gtin_checked(value: str) -> None:
    """A GTIN-8, -12, -13 or -14 with a correct GS1 check digit."""
    if len(value) not in (8, 12, 13, 14):
        raise ValidationError(
            gettext("“%(value)s” has %(digits)s digits; a GTIN has 8, 12, 13 or 14.")
            % {"value": value, "digits": len(value)},
            code="gtin_length",
        )
    try:
        ean.validate(value)
    except StdnumError as error:
        raise ValidationError(
            gettext("“%(value)s” is not a valid GTIN: %(error)s.")
            % {"value": value, "error": error},
            code="gtin",
        ) from None
