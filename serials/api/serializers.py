from __future__ import annotations

from rest_framework import serializers

from orders.models import Batch
from portal.ids import IdSerializerField
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
    batch: serializers.PrimaryKeyRelatedField[Batch] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
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
        child=IdSerializerField(),
        min_length=1,
        max_length=10_000,
    )
    reason = serializers.ChoiceField(choices=SerialException.Reason.choices)
    note = serializers.CharField(max_length=4000)


class ExceptionDecisionSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdSerializerField(),
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
    batch = IdSerializerField(required=False, help_text="Omit for the whole order.")


class AllocatedCodeListSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllocatedCodeList
        fields = ["id", "order", "batch", "original_name", "sha256", "code_count", "created_at"]
        read_only_fields = fields
