"""The buyer's numbering rules: one per product, the pattern its serials follow."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.audit import audit_log
from portal.models import User
from portal.roles import can_manage_orders
from serials.models import NumberingRule


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
    rule = NumberingRule.objects.select_for_update().filter(buyer=buyer, product=product).first()
    before = None if rule is None else rule.pattern
    rule = rule or NumberingRule(buyer=buyer, product=product.strip())
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
