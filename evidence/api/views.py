"""Evidence API: uploads are stored at once (201); the capture date and thumbnail follow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from evidence import services
from evidence.api.serializers import EvidenceItemSerializer, EvidenceUploadSerializer
from evidence.filters import EvidenceFilter
from evidence.models import EvidenceItem
from evidence.selectors import evidence_visible_to, freshness_flags
from orders.selectors import batch_for
from portal.typing import AuthenticatedAPIRequest


class FlaggedMixin:
    # A mixin: the generic view after it in the bases gives super() and the attributes used here,
    # which mypy cannot see from the mixin alone.
    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return context
        items = list(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        context["flags"] = freshness_flags(items, self.request.user)  # type: ignore[attr-defined]
        return context


class BatchEvidence(FlaggedMixin, generics.ListAPIView):
    """The evidence of a batch, every version; POST a file (multipart) to add one."""

    serializer_class = EvidenceItemSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = EvidenceFilter

    def get_queryset(self) -> QuerySet[EvidenceItem]:
        if getattr(self, "swagger_fake_view", False):
            return EvidenceItem.objects.none()
        return evidence_visible_to(self.request.user).filter(
            batch=batch_for(self.request.user, self.kwargs["pk"])
        )

    @extend_schema(request=EvidenceUploadSerializer, responses={201: EvidenceItemSerializer})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        batch = batch_for(request.user, pk)
        upload = EvidenceUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = dict(upload.validated_data)
        replaces = None
        if "replaces" in data:
            replaces = (
                evidence_visible_to(request.user)
                .filter(pk=data.pop("replaces"), batch=batch)
                .first()
            )
            if replaces is None:
                raise serializers.ValidationError({"replaces": "No such item on this batch."})
        item = services.evidence_upload(
            batch=batch,
            user=request.user,
            uploaded_file=data["file"],
            kind=data["kind"],
            description=data["description"],
            replaces=replaces,
        )
        body = EvidenceItemSerializer(item, context={"request": request, "flags": {}}).data
        return Response(body, status=status.HTTP_201_CREATED)


class EvidenceDetail(FlaggedMixin, generics.RetrieveAPIView):
    serializer_class = EvidenceItemSerializer

    def get_queryset(self) -> QuerySet[EvidenceItem]:
        return evidence_visible_to(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = generics.RetrieveAPIView.get_serializer_context(self)
        if not getattr(self, "swagger_fake_view", False) and "pk" in self.kwargs:
            item = self.get_object()
            context["flags"] = freshness_flags([item], self.request.user)
        return context
