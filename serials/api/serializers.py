from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.promises import PromisesField
from orders.models import Batch
from portal.ids import IdSerializerField
from serials.models import (
    AllocatedCodeList,
    ExceptionAnswer,
    ExceptionAttachment,
    ExceptionDecision,
    NumberingRule,
    SerialException,
    SerialList,
)
from serials.services.answers import NOTE_MAX_CHARS


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


class SerialListCheckSerializer(serializers.Serializer):
    """A file checked without being uploaded: what an upload of it would be told now."""

    batch = serializers.IntegerField(source="batch_id", read_only=True)
    kind = serializers.ChoiceField(choices=SerialList.Kind.choices, read_only=True)
    original_name = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    rule = serializers.CharField(source="rule_pattern", read_only=True)
    stored = serializers.SerializerMethodField(
        help_text="Always false: a check keeps no file, list, exception or audit event, and "
        "tells nobody. Upload the file to hand it in."
    )
    report = serializers.JSONField(
        read_only=True,
        help_text="The report an uploaded list of this file would get: the same keys as a "
        "validated serial list's report.",
    )

    @extend_schema_field(serializers.BooleanField())
    def get_stored(self, checked: SerialList) -> bool:
        return False


class SerialListQueuedSerializer(serializers.ModelSerializer):
    """What a 202 answer holds: where to poll."""

    url = serializers.HyperlinkedIdentityField(view_name="api-serial-list-detail")

    class Meta:
        model = SerialList
        fields = ["id", "status", "url"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    """A photo or PDF attached to an answer; ``url`` downloads it (signed in to the portal)."""

    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExceptionAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: ExceptionAttachment) -> str:
        path = reverse("exception-attachment", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class AnswerSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = ExceptionAnswer
        fields = ["id", "reason", "note", "answered_at", "attachments"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {
                "help_text": "Name it as answer_id when deciding: the decision is refused (409) "
                "if the supplier has answered again since."
            }
        }


class DecisionSerializer(serializers.ModelSerializer):
    promises = PromisesField(read_only=True, help_text="What the review tested.")

    class Meta:
        model = ExceptionDecision
        fields = ["id", "answer", "decision", "note", "promises", "decided_at"]
        read_only_fields = fields


class SerialExceptionSerializer(serializers.ModelSerializer):
    answers = AnswerSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

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
            "decisions",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "count": {
                "help_text": "Serials (or codes) the exception covers; rows for malformed and "
                "out-of-range values. A duplicated serial counts once: its rows are "
                "detail.rows, on the lines detail.lines."
            }
        }


BULK_MAX = 10_000


def _note(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=NOTE_MAX_CHARS,
        required=False,
        allow_blank=True,
        default="",
        help_text=help_text,
    )


class AnswerRowSerializer(serializers.Serializer):
    id = IdSerializerField(help_text="The exception answered.")
    reason = serializers.ChoiceField(choices=SerialException.Reason.choices)
    note = _note("What happened, in your words; required for “other”.")


class DecisionRowSerializer(serializers.Serializer):
    id = IdSerializerField(help_text="The exception decided.")
    decision = serializers.ChoiceField(choices=ExceptionDecision.Decision.choices)
    note = _note("A note to the supplier.")
    answer_id = IdSerializerField(
        required=False,
        help_text="The answer you read (the exception's last answers[].id): refused with 409 "
        "when the supplier has answered again since.",
    )


class _BulkRowsSerializer(serializers.Serializer):
    """Either ``ids`` with one choice and note for them all, or ``rows``, each with its own."""

    choice: str  # the field that ``ids`` needs beside them

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("rows" in attrs):
            raise serializers.ValidationError(
                _("Send either ids with one %(field)s for them all, or rows.")
                % {"field": self.choice}
            )
        if "ids" in attrs and self.choice not in attrs:
            raise serializers.ValidationError(
                {self.choice: [_("This field is required with ids.")]}
            )
        for field in (self.choice, "note"):
            if "rows" in attrs and attrs.get(field):
                raise serializers.ValidationError(
                    {field: [_("Give each row its own %(field)s.") % {"field": field}]}
                )
        return attrs


class ExceptionAnswerSerializer(_BulkRowsSerializer):
    """JSON, or multipart with an attachment (there, rows are ``rows[0]id``,
    ``rows[0]reason``, ``rows[0]note``, …)."""

    choice = "reason"

    ids = serializers.ListField(
        child=IdSerializerField(),
        min_length=1,
        max_length=BULK_MAX,
        required=False,
        help_text="The exceptions answered with one reason and note.",
    )
    reason = serializers.ChoiceField(choices=SerialException.Reason.choices, required=False)
    note = _note("What happened, in your words; required for “other”.")
    rows: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=AnswerRowSerializer(),
        required=False,
        min_length=1,
        max_length=BULK_MAX,
        help_text="Each exception with its own reason and note (instead of ids).",
    )
    attachment = serializers.FileField(
        required=False,
        allow_empty_file=True,
        help_text="One photo (JPEG, PNG, WebP) or PDF attached to every answer sent "
        "(multipart only), checked as evidence is.",
    )


class ExceptionDecisionSerializer(_BulkRowsSerializer):
    choice = "decision"

    promises = PromisesField(
        help_text="What this review tests (one choice for every decision sent, kept on each): "
        "one or more of capacity, identity, process, shipment, payment."
    )

    ids = serializers.ListField(
        child=IdSerializerField(),
        min_length=1,
        max_length=BULK_MAX,
        required=False,
        help_text="The exceptions decided with one decision and note.",
    )
    decision = serializers.ChoiceField(choices=ExceptionDecision.Decision.choices, required=False)
    note = _note("A note to the supplier.")
    rows: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=DecisionRowSerializer(),
        required=False,
        min_length=1,
        max_length=BULK_MAX,
        help_text="Each exception with its own decision, note and the answer read (instead "
        "of ids).",
    )


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
            "company_prefix_length",
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
