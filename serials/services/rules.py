"""The buyer's numbering rules: one per product, the pattern its serials follow."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from orders.gtin import product_as_written
from portal.audit import audit_log
from portal.models import User
from portal.roles import can_manage_orders
from serials.life_models import SerialLifeEvent
from serials.models import NumberingRule, SerialCode, SerialRun


def _pattern_of(rule: NumberingRule) -> tuple[object, ...]:
    return (rule.kind, rule.prefix, rule.width, rule.check_digit)


def _pattern_change_check(rule: NumberingRule, before: tuple[object, ...]) -> None:
    """The pattern is what the registry's counters and a serial's recorded life mean: once
    serials of the product are registered or have a life event, it stays as it is (a new
    pattern would read the same counters as other serials, or as codes that no destroyed
    event names)."""
    if _pattern_of(rule) == before:
        return
    scope = f"{rule.buyer_id}:{rule.product}"
    if (
        SerialRun.objects.filter(scope=scope).exists()
        or SerialCode.objects.filter(scope=scope).exists()
        or SerialLifeEvent.objects.filter(scope=scope).exists()
    ):
        raise ValidationError(
            {
                "kind": _(
                    "Serials of %(product)s are already registered, or have a recorded life, "
                    "under its present pattern: the kind, prefix, width and check digit cannot "
                    "change. Give a new numbering a product of its own (a new GTIN or SKU)."
                )
                % {"product": rule.product}
            }
        )


@transaction.atomic
def numbering_rule_save(
    *,
    user: User,
    product: str,
    prefix: str = "",
    width: int | None = None,
    check_digit: str = NumberingRule.Check.NONE,
    note: str = "",
    kind: str = NumberingRule.Kind.SEQUENTIAL,
    warranty_months: int | None = None,
    company_prefix_length: int | None = None,
) -> NumberingRule:
    """Create or change the buyer's rule for one product (every field is set), audited."""
    if not can_manage_orders(user):
        raise PermissionDenied("Only the buyer's buyers and admins define numbering rules.")
    buyer = user.membership.organisation
    # One writing per product: "5012345678900" edits the rule written "05012345678900", and
    # "sku-z" the rule written "SKU-Z".
    if product.strip().isdigit() and not product.strip().isascii():
        raise ValidationError(
            {
                "product": _("Write the GTIN in the digits 0 to 9: “%(product)s”.")
                % {"product": product}
            }
        )
    product = product_as_written(buyer.pk, product)
    rule = NumberingRule.objects.select_for_update().filter(buyer=buyer, product=product).first()
    before = None if rule is None else rule.pattern
    pattern_before = None if rule is None else _pattern_of(rule)
    rule = rule or NumberingRule(buyer=buyer, product=product)
    rule.kind, rule.prefix, rule.width, rule.check_digit, rule.note = (
        kind,
        prefix,
        width,
        check_digit,
        note,
    )
    warranty_before = rule.warranty_months
    rule.warranty_months = warranty_months
    rule.company_prefix_length = company_prefix_length
    rule.full_clean()
    if pattern_before is not None:
        _pattern_change_check(rule, pattern_before)
    rule.save()
    audit_log(
        actor=user,
        action="numbering_rule.saved",
        obj=rule,
        payload={
            "pattern": rule.pattern,
            "before": before,
            "warranty_months": warranty_months,
            "warranty_months_before": warranty_before,
            "company_prefix_length": company_prefix_length,
        },
    )
    return rule
