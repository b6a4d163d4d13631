"""The GTIN check both the order and the approved sample apply (each model names its own
validator, so migrations keep their references; both call this)."""

from __future__ import annotations

from django.apps import apps
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


def gtin14(value: str) -> str:
    """A GTIN-8, -12, -13 or -14 as 14 digits, or '' for anything else (a SKU)."""
    value = value.strip()
    return value.zfill(14) if value.isdigit() and len(value) in (8, 12, 13, 14) else ""


def gtin_spellings(key: str) -> list[str]:
    """A GTIN-14 as it may be written: 14 digits, or 13, 12 or 8 where the leading digits are
    zeros."""
    return [key[-n:] for n in (14, 13, 12, 8) if set(key[: 14 - n]) <= {"0"}]


def gtin_as_written(buyer_id: int, value: str) -> str:
    """The buyer's one writing of a product's GTIN: the writing its numbering rule, else its
    orders, already use; the value as given when there is none. Serials are registered per
    buyer and product as written (``serials.models.registry_scope``): two writings of one
    GTIN would be two registries, and a serial destroyed in one could be accepted in the
    other."""
    value = value.strip()
    key = gtin14(value)
    others = [spelling for spelling in gtin_spellings(key) if spelling != value] if key else []
    if not others:
        return value
    # The rules live above orders (serials): read through the app registry, not an import.
    rules = apps.get_model("serials", "NumberingRule").objects
    orders = apps.get_model("orders", "PurchaseOrder").objects
    written = (
        rules.filter(buyer_id=buyer_id, product__in=others)
        .order_by("id")
        .values_list("product", flat=True)
        .first()
    ) or (
        orders.filter(buyer_id=buyer_id, gtin__in=others)
        .order_by("id")
        .values_list("gtin", flat=True)
        .first()
    )
    return written or value
