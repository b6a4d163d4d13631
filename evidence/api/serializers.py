from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.models import (
    EvidenceItem,
    EvidenceKind,
    EvidenceProvenance,
    EvidenceRequest,
    Statement,
)
from orders.api.promises import PromisesField
from portal.ids import IdSerializerField


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    description = serializers.CharField(max_length=500, required=False, default="")
    replaces = IdSerializerField(required=False, help_text="Id of the item replaced.")


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    # drf-stubs takes this for Field.label (a serializer is a field); the serializer's metaclass
    # moves declared fields into _declared_fields, so the two never meet.
    label = serializers.CharField()  # type: ignore[assignment]
    detail = serializers.CharField()


class ContentCredentialsSerializer(serializers.ModelSerializer):
    """What the worker read about the file's origin (C2PA content credentials)."""

    class Meta:
        model = EvidenceProvenance
        fields = [
            "credentials",
            "credential_codes",
            "signer",
            "signer_issuer",
            "claim_generator",
            "claimed_at",
            "source_type",
            "read_at",
        ]
        read_only_fields = fields


class EvidenceItemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-evidence-detail")
    file_url = serializers.HyperlinkedIdentityField(view_name="evidence-file")
    flags = serializers.SerializerMethodField()
    content_credentials = ContentCredentialsSerializer(
        source="provenance_or_none",
        read_only=True,
        allow_null=True,
        help_text="Null until the worker has read the file, and for types that carry none.",
    )

    class Meta:
        model = EvidenceItem
        fields = [
            "id",
            "url",
            "batch",
            "kind",
            "description",
            "original_name",
            "size",
            "sha256",
            "content_type",
            "uploaded_at",
            "version",
            "previous",
            "capture_date",
            "processed_at",
            "file_url",
            "flags",
            "content_credentials",
        ]
        read_only_fields = fields

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, item: EvidenceItem) -> list[dict[str, str]]:
        flags = self.context.get("flags", {}).get(item.pk, [])
        # drf-stubs types FlagSerializer(many=True) as a FlagSerializer with a ReturnDict; DRF
        # builds a ListSerializer, whose data is a ReturnList of the flags' dicts.
        return FlagSerializer(flags, many=True).data  # type: ignore[return-value]


class StatementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Statement
        fields = ["id", "version", "text", "written_at"]
        read_only_fields = fields


class EvidenceRequestSerializer(serializers.ModelSerializer):
    """A written request to the supplier, with the promises its answer will test and every
    version of the supplier's statement."""

    url = serializers.HyperlinkedIdentityField(view_name="api-request-detail")
    promises = PromisesField(read_only=True)
    statements = StatementSerializer(many=True, read_only=True)

    class Meta:
        model = EvidenceRequest
        fields = [
            "id",
            "url",
            "batch",
            "subject",
            "question",
            "promises",
            "due_on",
            "asked_at",
            "statements",
        ]
        read_only_fields = fields


class EvidenceRequestCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    question = serializers.CharField(max_length=4000)
    due_on = serializers.DateField(help_text="The day the answer is due (today or later).")
    promises = PromisesField()
