"""Serial list, exception and numbering-rule API. Uploads answer 202 and a URL to
poll."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from orders.selectors import batch_for, order_for
from portal.api_schema import ERROR
from portal.errors import Conflict
from portal.roles import can_manage_orders, can_upload_batch_files
from portal.typing import AuthenticatedAPIRequest
from serials import services
from serials.api.serializers import (
    AllocatedCodeListSerializer,
    AllocatedCodeListUploadSerializer,
    ExceptionAnswerSerializer,
    ExceptionDecisionSerializer,
    NumberingRuleSerializer,
    SerialExceptionSerializer,
    SerialListCheckSerializer,
    SerialListQueuedSerializer,
    SerialListSerializer,
    SerialListUploadSerializer,
)
from serials.filters import ExceptionFilter, SerialListFilter
from serials.models import AllocatedCodeList, NumberingRule, SerialException, SerialList
from serials.selectors import exceptions_visible_to, rules_visible_to, serial_lists_visible_to
from serials.services.answers import AnswerRow, DecisionRow, is_stale, row_errors


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


class BatchSerialListCheck(APIView):
    """Check a serial list without uploading it (multipart ``file``, ``kind``): the checks an
    upload gets and the report the worker would write, answered at once. Nothing is kept: no
    stored file, no serial list, no exceptions, no audit event, no notification."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=SerialListUploadSerializer,
        responses={
            200: SerialListCheckSerializer,
            400: OpenApiResponse(
                description="The file cannot be checked: ``file`` names it and says what is "
                "wrong (empty, over the size limit, not a serial list, a workbook too large or "
                "too heavy to read), or the batch has no numbering rule or allocation yet."
            ),
            403: OpenApiResponse(
                description="Your role may not upload serial lists, so it may not check them."
            ),
            404: OpenApiResponse(description="No such batch among those you may see."),
        },
    )
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        batch = batch_for(request.user, pk)
        if not can_upload_batch_files(request.user):
            raise PermissionDenied(
                _("Only the batch's supplier and the buyer check and upload serial lists.")
            )
        upload = SerialListUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        checked = services.serial_list_check(
            batch=batch,
            user=request.user,
            uploaded_file=upload.validated_data["file"],
            kind=upload.validated_data["kind"],
        )
        return Response(SerialListCheckSerializer(checked).data)


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
            exceptions_visible_to(self.request.user)
            .filter(batch=batch)
            .prefetch_related("answers__attachments", "decisions")
        )


def _visible_exceptions(request: Request, ids: list[int]) -> list[SerialException]:
    found = list(exceptions_visible_to(request.user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise Http404("Some of these exceptions do not exist.")
    return found


class _BulkExceptionAction(APIView):
    """Validate ``ids`` (one choice for them all) or ``rows`` (each its own), act on the
    caller's exceptions, answer them. An id that is not one of the caller's is a 404 before
    anything else is looked at; a role that may not act is a 403; a refused row a 400 keyed by
    its exception's id, and nothing is written."""

    input_serializer: type[serializers.Serializer]
    request: AuthenticatedAPIRequest

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        raise NotImplementedError

    def act_rows(self, rows: list[dict[str, Any]], **fields: Any) -> None:
        raise NotImplementedError

    def post(self, request: AuthenticatedAPIRequest) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "rows" in fields:
            rows = [dict(row) for row in fields.pop("rows")]
            ids = [row["id"] for row in rows]
            _visible_exceptions(request, ids)
            self.act_rows(rows, **fields)
        else:
            ids = fields.pop("ids")
            self.act(_visible_exceptions(request, ids), **fields)
        fresh = (
            exceptions_visible_to(request.user)
            .filter(pk__in=ids)
            .prefetch_related("answers__attachments", "decisions")
        )
        return Response(
            SerialExceptionSerializer(fresh, many=True, context={"request": request}).data
        )


EXCEPTION_REFUSALS = {
    400: OpenApiResponse(
        description="Nothing was written: each refused exception by its id with why (a "
        "reason or decision missing or unknown, “other” without a note, an exception already "
        "accepted, no new answer to decide), the fields that were wrong, or the attachment "
        "refused, naming the file."
    ),
    404: OpenApiResponse(description="An id that is not one of the exceptions you may see."),
}


@extend_schema_view(
    post=extend_schema(
        request={
            "application/json": ExceptionAnswerSerializer,
            "multipart/form-data": ExceptionAnswerSerializer,
        },
        responses={
            200: SerialExceptionSerializer(many=True),
            **EXCEPTION_REFUSALS,
            403: OpenApiResponse(description="Only the supplier answers exceptions."),
        },
    )
)
class ExceptionAnswers(_BulkExceptionAction):
    """The supplier answers one or many exceptions: ``ids`` with one reason and note, or
    ``rows`` each with its own; multipart adds one photo or PDF (``attachment``) to every answer
    sent. The same answer sent again (no attachment) stands once."""

    input_serializer = ExceptionAnswerSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        services.exception_answer(exceptions=exceptions, user=self.request.user, **fields)

    def act_rows(self, rows: list[dict[str, Any]], **fields: Any) -> None:
        services.exceptions_answer(
            rows=[
                AnswerRow(exception_id=row["id"], reason=row["reason"], note=row["note"])
                for row in rows
            ],
            user=self.request.user,
            attachment=fields.get("attachment"),
        )


@extend_schema_view(
    post=extend_schema(
        request=ExceptionDecisionSerializer,
        responses={
            200: SerialExceptionSerializer(many=True),
            **EXCEPTION_REFUSALS,
            403: OpenApiResponse(description="Only the buyer's buyers and admins decide."),
            409: OpenApiResponse(
                response=ERROR.ref,
                description="The supplier answered again since the answer you name "
                "(answer_id): read the new answer and decide again. Nothing was written.",
            ),
        },
    )
)
class ExceptionDecisions(_BulkExceptionAction):
    """The buyer accepts or rejects one or many answered exceptions: ``ids`` with one decision
    and note, or ``rows`` each with its own and the ``answer_id`` it decides on."""

    input_serializer = ExceptionDecisionSerializer

    def act(self, exceptions: list[SerialException], **fields: Any) -> None:
        services.exception_decide(exceptions=exceptions, user=self.request.user, **fields)

    def act_rows(self, rows: list[dict[str, Any]], **fields: Any) -> None:
        try:
            services.exceptions_decide(
                rows=[
                    DecisionRow(
                        exception_id=row["id"],
                        decision=row["decision"],
                        note=row["note"],
                        answer_id=row.get("answer_id"),
                    )
                    for row in rows
                ],
                user=self.request.user,
                promises=fields["promises"],
            )
        except DjangoValidationError as error:
            if is_stale(error):
                raise Conflict(
                    " ".join(
                        _("Exception %(id)s: %(problem)s") % {"id": pk, "problem": message}
                        for pk, messages in row_errors(error).items()
                        for message in messages
                    )
                ) from None
            raise


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
