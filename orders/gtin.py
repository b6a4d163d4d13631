"""The GTIN check both the order and the approved sample apply (each model names its own
validator, so migrations keep their references; both call this)."""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError


def gtin_checked(value: str) -> None:
    """A GTIN-8, -12, -13 or -14 with a correct GS1 check digit, in ASCII digits (a full-width
    "０５０…" would pass the check digit and be another product's writing)."""
    if value.isdigit() and not value.isascii():
        raise ValidationError(
            gettext("“%(value)s” is not a GTIN: a GTIN is written in the digits 0 to 9 only.")
            % {"value": value},
            code="gtin_digits",
        )
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


# The first key of the advisory locks taken while a buyer's product is written (the second
# is a hash of the buyer and the product).
PRODUCT_LOCK = 0x5E9_0001


def gtin14(value: str) -> str:
    """A GTIN-8, -12, -13 or -14 as 14 digits, or '' for anything else (a SKU)."""
    value = value.strip()
    ascii_digits = value.isascii() and value.isdigit()
    return value.zfill(14) if ascii_digits and len(value) in (8, 12, 13, 14) else ""


def gtin_spellings(key: str) -> list[str]:
    """A GTIN-14 as it may be written: 14 digits, or 13, 12 or 8 where the leading digits are
    zeros."""
    return [key[-n:] for n in (14, 13, 12, 8) if set(key[: 14 - n]) <= {"0"}]


def _one_writer(buyer_id: int, key: str) -> None:
    """Serialise, until the transaction ends, everyone writing this buyer's product: two rules
    or orders saved at the same moment must agree on one writing (PostgreSQL; SQLite writes
    one at a time anyway)."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"{buyer_id}:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [PRODUCT_LOCK, int.from_bytes(digest[:4], "big", signed=True)],
        )


def product_as_written(buyer_id: int, value: str, *, sku: bool = False) -> str:
    """The buyer's one writing of a product: for a GTIN, the writing its numbering rule, else
    its orders, already use (``5012345678900`` for ``05012345678900``); for a SKU, the same
    letters in another case. The value as given when there is none. Serials are registered
    per buyer and product as written (``serials.models.registry_scope``): two writings of one
    product would be two registries, and a serial destroyed in one could be accepted in the
    other. Call it inside the transaction that saves the rule or order: it holds the product's
    lock until then."""
    value = value.strip()
    key = "" if sku else gtin14(value)
    if not value:
        return value
    _one_writer(buyer_id, key or value.casefold())
    # The rules live above orders (serials): read through the app registry, not an import.
    rules = apps.get_model("serials", "NumberingRule").objects.filter(buyer_id=buyer_id)
    orders = apps.get_model("orders", "PurchaseOrder").objects.filter(buyer_id=buyer_id)
    rule_match: dict[str, object]
    order_match: dict[str, object]
    if key:
        others = [spelling for spelling in gtin_spellings(key) if spelling != value]
        rule_match, order_match = {"product__in": others}, {"gtin__in": others}
    else:
        rule_match = {"product__iexact": value}
        order_match = {"sku__iexact": value}
    written = (
        rules.filter(**rule_match).order_by("id").values_list("product", flat=True).first()
        or orders.filter(**order_match)
        .order_by("id")
        .values_list("sku" if not key else "gtin", flat=True)
        .first()
    )
    return written or value
