"""Serial list, exception and numbering-rule API. Uploads answer 202 and a URL to
poll."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from orders.selectors import batch_for, order_for
from portal.roles import can_manage_orders
from portal.typing import AuthenticatedAPIRequest
from serials import services
from serials.api.serializers import (
    AllocatedCodeListSerializer,
    AllocatedCodeListUploadSerializer,
    ExceptionAnswerSerializer,
    ExceptionDecisionSerializer,
    NumberingRuleSerializer,
    SerialExceptionSerializer,
    SerialListQueuedSerializer,
    SerialListSerializer,
    SerialListUploadSerializer,
)
from serials.filters import ExceptionFilter, SerialListFilter
from serials.models import AllocatedCodeList, NumberingRule, SerialException, SerialList
from serials.selectors import exceptions_visible_to, rules_visible_to, serial_lists_visible_to


class BatchSerialLists(generics.ListAPIView):
    """The serial lists of a batch; POST a file (multipart ``file``, ``kind``) to add one."""

    serializer_class = SerialListSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = SerialListFilter

    def get_queryset(self) -> QuerySet[SerialList]:
        if getattr(self, "swagger_fake_view", False):
            return SerialList.objects.none()
        return serial_lists_visible_to(self.request.user).filter(
            batch=batch_for(self.request.user, self.kwargs["pk"])
        )

    @extend_schema(request=SerialListUploadSerializer, responses={202: SerialListQueuedSerializer})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        batch = batch_for(request.user, pk)
        upload = SerialListUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        serial_list = services.serial_list_upload(
            batch=batch,
            user=request.user,
            uploaded_file=upload.validated_data["file"],
            kind=upload.validated_data["kind"],
        )
        body = SerialListQueuedSerializer(serial_list, context={"request": request}).data
        # str(): the field gives a Hyperlink (a str subclass), which a strict WSGI server such as
        # wsgiref refuses as a header value (a 500 after the list was stored).
        location = str(body["url"])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class SerialListDetail(generics.RetrieveAPIView):
    """Status, progress (0–100), error and, once done, the report."""

    serializer_class = SerialListSerializer

    def get_queryset(self) -> QuerySet[SerialList]:
        return serial_lists_visible_to(self.request.user)


class BatchExceptions(generics.ListAPIView):
    serializer_class = SerialExceptionSerializer
    filterset_class = ExceptionFilter

    def get_queryset(self) -> QuerySet[SerialException]:
        if getattr(self, "swagger_fake_view", False):
            return SerialException.objects.none()
        batch = batch_for(self.request.user, self.kwargs["pk"])
        return (
            exceptions_visible_to(self.request.user).filter(batch=batch).prefetch_related("answers")
        )


def _visible_exceptions(request: Request, ids: list[int]) -> list[SerialException]:
    found = list(exceptions_visible_to(request.user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise Http404("Some of these exceptions do not exist.")
    return found


class _BulkExceptionAction(APIView):
    """Validate ``ids`` and the action's fields, act on the caller's exceptions, answer them."""

    input_serializer: type[serializers.Serializer]
    request: AuthenticatedAPIRequest

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        raise NotImplementedError

    def post(self, request: AuthenticatedAPIRequest) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        ids = fields.pop("ids")
        self.act(_visible_exceptions(request, ids), **fields)
        fresh = exceptions_visible_to(request.user).filter(pk__in=ids)
        return Response(SerialExceptionSerializer(fresh, many=True).data)


@extend_schema_view(
    post=extend_schema(
        request=ExceptionAnswerSerializer, responses={200: SerialExceptionSerializer(many=True)}
    )
)
class ExceptionAnswers(_BulkExceptionAction):
    """The supplier answers one or many exceptions with a reason code and a note."""

    input_serializer = ExceptionAnswerSerializer

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        services.exception_answer(exceptions=exceptions, user=self.request.user, **fields)


@extend_schema_view(
    post=extend_schema(
        request=ExceptionDecisionSerializer, responses={200: SerialExceptionSerializer(many=True)}
    )
)
class ExceptionDecisions(_BulkExceptionAction):
    """The buyer accepts or rejects one or many answered exceptions."""

    input_serializer = ExceptionDecisionSerializer

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        services.exception_decide(exceptions=exceptions, user=self.request.user, **fields)


class OrderAllocatedCodes(generics.ListAPIView):
    """Codes allocated to an order (allocated-code rules); POST a file to allocate more."""

    serializer_class = AllocatedCodeListSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[AllocatedCodeList]:
        if getattr(self, "swagger_fake_view", False):
            return AllocatedCodeList.objects.none()
        return order_for(self.request.user, self.kwargs["pk"]).allocated_code_lists.all()

    @extend_schema(
        request=AllocatedCodeListUploadSerializer, responses={201: AllocatedCodeListSerializer}
    )
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        order = order_for(request.user, pk)
        if not can_manage_orders(request.user):
            raise PermissionDenied("Only the buyer's buyers and admins allocate codes.")
        upload = AllocatedCodeListUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        batch = None
        if "batch" in upload.validated_data:
            batch = order.batches.filter(pk=upload.validated_data["batch"]).first()
            if batch is None:
                raise serializers.ValidationError({"batch": "No such batch in this order."})
        code_list = services.allocated_code_list_upload(
            user=request.user, order=order, uploaded_file=upload.validated_data["file"], batch=batch
        )
        return Response(AllocatedCodeListSerializer(code_list).data, status=status.HTTP_201_CREATED)


class NumberingRules(generics.ListCreateAPIView):
    """The buyer's numbering rules; POST creates or replaces the rule of a product."""

    serializer_class = NumberingRuleSerializer
    request: AuthenticatedAPIRequest

    def get_queryset(self) -> QuerySet[NumberingRule]:
        return rules_visible_to(self.request.user)

    def perform_create(self, serializer: BaseSerializer[NumberingRule]) -> None:
        serializer.instance = services.numbering_rule_save(
            user=self.request.user, **serializer.validated_data
        )
