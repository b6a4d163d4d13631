from __future__ import annotations

from rest_framework import serializers

from serials.lookup import BULK_LIMIT, TEXT_MAX, LookupStatus
from serials.models import (
    AllocatedCodeList,
    ExceptionAnswer,
    ExceptionDecision,
    NumberingRule,
    SerialException,
    SerialList,
)


class SerialListUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.ChoiceField(choices=SerialList.Kind.choices, default="production")


class SerialListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-serial-list-detail")
    batch = serializers.PrimaryKeyRelatedField(read_only=True)
    rule = serializers.CharField(source="rule_pattern", read_only=True)

    class Meta:
        model = SerialList
        fields = [
            "id",
            "url",
            "batch",
            "kind",
            "status",
            "progress",
            "error",
            "original_name",
            "size",
            "sha256",
            "rule",
            "uploaded_at",
            "started_at",
            "finished_at",
            "report",
        ]
        read_only_fields = fields


class SerialListQueuedSerializer(serializers.ModelSerializer):
    """What a 202 answer holds: where to poll."""

    url = serializers.HyperlinkedIdentityField(view_name="api-serial-list-detail")

    class Meta:
        model = SerialList
        fields = ["id", "status", "url"]
        read_only_fields = fields


class AnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExceptionAnswer
        fields = ["reason", "note", "answered_at"]
        read_only_fields = fields


class SerialExceptionSerializer(serializers.ModelSerializer):
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = SerialException
        fields = [
            "id",
            "serial_list",
            "batch",
            "kind",
            "summary",
            "lo",
            "hi",
            "serial",
            "count",
            "detail",
            "status",
            "answers",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "count": {
                "help_text": "Serials (or codes) the exception covers; rows for malformed and "
                "out-of-range values. A duplicated serial counts once: its rows are "
                "detail.rows, on the lines detail.lines."
            }
        }


class ExceptionAnswerSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10_000,
    )
    reason = serializers.ChoiceField(choices=SerialException.Reason.choices)
    note = serializers.CharField(max_length=4000)


class ExceptionDecisionSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10_000,
    )
    decision = serializers.ChoiceField(choices=ExceptionDecision.Decision.choices)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class NumberingRuleSerializer(serializers.ModelSerializer):
    pattern = serializers.CharField(read_only=True)

    class Meta:
        model = NumberingRule
        fields = [
            "id",
            "product",
            "kind",
            "prefix",
            "width",
            "check_digit",
            "warranty_months",
            "note",
            "pattern",
        ]
        validators: list[object] = []


class AllocatedCodeListUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    batch = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Omit for the whole order."
    )


class AllocatedCodeListSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllocatedCodeList
        fields = ["id", "order", "batch", "original_name", "sha256", "code_count", "created_at"]
        read_only_fields = fields


class LookupFindingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LookupStatus.choices)
    reason = serializers.CharField()
    url = serializers.CharField(help_text="The page that shows this finding.")


class LookupResultSerializer(serializers.Serializer):
    """One looked-up serial (``serials.lookup.LookupResult.as_dict``). URLs are absolute."""

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
        child=serializers.CharField(max_length=TEXT_MAX, trim_whitespace=False),
        min_length=1,
        max_length=BULK_LIMIT,
        help_text=f"Up to {BULK_LIMIT:,} serials, GS1 element strings or Digital Link URLs.",
    )
