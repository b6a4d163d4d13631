from __future__ import annotations

from rest_framework import serializers

from lookup.inputs import BULK_LIMIT, TEXT_MAX
from lookup.results import LookupStatus


class LookupFindingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LookupStatus.choices)
    reason = serializers.CharField()
    url = serializers.CharField(help_text="The page that shows this finding.")


class LookupResultSerializer(serializers.Serializer):
    """One looked-up serial (``lookup.results.LookupResult.as_dict``). URLs are absolute."""

    input = serializers.CharField(help_text="The text as given.")
    serial = serializers.CharField(help_text="The serial read from it, upper-cased.")
    gtin = serializers.CharField(help_text="The GTIN the text carried (14 digits), or empty.")
    input_kind = serializers.ChoiceField(
        choices=[
            ("plain", "Plain serial"),
            ("gs1_element_string", "GS1 element string"),
            ("digital_link", "GS1 Digital Link URL"),
        ]
    )
    status = serializers.ChoiceField(
        choices=LookupStatus.choices, help_text="The first of ``statuses``: see the precedence."
    )
    statuses = serializers.ListField(child=serializers.ChoiceField(choices=LookupStatus.choices))
    reason = serializers.CharField(help_text="The primary finding's reason.")
    findings = LookupFindingSerializer(many=True)
    product = serializers.CharField(help_text="The GTIN or SKU of the rule that matched.")
    order = serializers.CharField(help_text="PO number, or empty when unknown.")
    order_url = serializers.CharField()
    batch = serializers.CharField(help_text="Batch code, or empty when unknown.")
    batch_url = serializers.CharField()
    report_url = serializers.CharField(help_text="The serial report of the batch's list.")
    registered = serializers.BooleanField(
        allow_null=True, help_text="Accepted into the registry (null when no batch holds it)."
    )
    carton = serializers.CharField()
    customer_reference = serializers.CharField()
    shipped_on = serializers.DateField(allow_null=True)
    warranty_months = serializers.IntegerField(allow_null=True)
    warranty_end = serializers.DateField(allow_null=True)


class LookupBulkRequestSerializer(serializers.Serializer):
    serials = serializers.ListField(
        # A blank entry is looked up too (an unreadable label): answers line up with the list.
        child=serializers.CharField(max_length=TEXT_MAX, trim_whitespace=False, allow_blank=True),
        min_length=1,
        max_length=BULK_LIMIT,
        help_text=f"Up to {BULK_LIMIT:,} serials, GS1 element strings or Digital Link URLs.",
    )
