from __future__ import annotations

from rest_framework import serializers

from lookup.inputs import BULK_LIMIT, TEXT_MAX
from lookup.results import LifeState, LookupStatus


class LookupFindingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LookupStatus.choices)
    reason = serializers.CharField()
    url = serializers.CharField(help_text="The page that shows this finding.")


class LifeEntrySerializer(serializers.Serializer):
    """One step of the serial's life (``lookup.life``)."""

    state = serializers.ChoiceField(choices=LifeState.choices)
    at = serializers.CharField(help_text="When: an ISO 8601 time, or a date (a shipment).")
    who = serializers.CharField(help_text="Who recorded it (or the uploader of its list).")
    why = serializers.CharField()
    url = serializers.CharField(help_text="The page of the record that proves it (a path).")
    proof = serializers.CharField(help_text="The proving record: a reference or a file's name.")
    proof_url = serializers.CharField(help_text="The proving file's download (a path), or empty.")


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
    life_state = serializers.CharField(
        help_text="The state the serial's life ends in (a life state), or empty."
    )
    life = LifeEntrySerializer(
        many=True,
        help_text="The serial's life line, oldest first: composed for lookups of up to 100 "
        "serials; a bulk lookup leaves it empty.",
    )


class LookupBulkRequestSerializer(serializers.Serializer):
    serials = serializers.ListField(
        # A blank entry is looked up too (an unreadable label): answers line up with the list.
        child=serializers.CharField(max_length=TEXT_MAX, trim_whitespace=False, allow_blank=True),
        min_length=1,
        max_length=BULK_LIMIT,
        help_text=f"Up to {BULK_LIMIT:,} serials, GS1 element strings or Digital Link URLs.",
    )
