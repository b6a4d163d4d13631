"""Evidence API: uploads are stored at once (201); the capture date and thumbnail follow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from evidence import services
from evidence.api.serializers import (
    EvidenceItemSerializer,
    EvidenceRequestCreateSerializer,
    EvidenceRequestSerializer,
    EvidenceUploadSerializer,
)
from evidence.filters import EvidenceFilter
from evidence.models import EvidenceItem, EvidenceRequest
from evidence.selectors import evidence_visible_to, freshness_flags, requests_visible_to
from orders.selectors import batch_for
from portal.roles import can_manage_orders
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


class BatchRequests(generics.ListAPIView):
    """The buyer's written requests on a batch, each with the promises its answer will test and
    the supplier's statements; POST asks a new one (the buyer's buyers and admins)."""

    serializer_class = EvidenceRequestSerializer

    def get_queryset(self) -> QuerySet[EvidenceRequest]:
        if getattr(self, "swagger_fake_view", False):
            return EvidenceRequest.objects.none()
        return (
            requests_visible_to(self.request.user)
            .filter(batch=batch_for(self.request.user, self.kwargs["pk"]))
            .prefetch_related("statements")
        )

    @extend_schema(
        request=EvidenceRequestCreateSerializer, responses={201: EvidenceRequestSerializer}
    )
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        batch = batch_for(request.user, pk)
        if not can_manage_orders(request.user):
            raise PermissionDenied("Only the buyer's buyers and admins send requests.")
        incoming = EvidenceRequestCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        asked = services.request_create(batch=batch, user=request.user, **incoming.validated_data)
        body = EvidenceRequestSerializer(asked, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class RequestDetail(generics.RetrieveAPIView):
    """One written request with its statements."""

    serializer_class = EvidenceRequestSerializer

    def get_queryset(self) -> QuerySet[EvidenceRequest]:
        return requests_visible_to(self.request.user).prefetch_related("statements")
