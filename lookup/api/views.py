"""Customer-service lookup API: one serial, or up to 100,000 at once (JSON or CSV)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lookup.api.serializers import LookupBulkRequestSerializer, LookupResultSerializer
from lookup.inputs import TEXT_MAX, lookup_texts_check
from lookup.log import lookup_log
from lookup.models import LookupLog
from lookup.results import BULK_CSV_HEADER, bulk_csv_rows
from lookup.selectors import membership_prefetch, serial_lookup, serials_lookup_bulk
from portal.api_query import refuse_empty
from portal.exports import csv_response
from portal.roles import is_buyer_side


class IsBuyerSide(BasePermission):
    message = "Only the buyer's staff look up serials."

    def has_permission(self, request: Request, view: APIView) -> bool:
        membership_prefetch(request.user)
        return is_buyer_side(request.user)


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` or ``Accept: text/csv`` choose CSV; the view writes the CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


def _absolute(data: dict[str, Any], base: str) -> dict[str, Any]:
    for key in ("order_url", "batch_url", "report_url"):
        if data[key]:
            data[key] = base + data[key]
    for finding in data["findings"]:
        if finding["url"]:
            finding["url"] = base + finding["url"]
    return data


class SerialLookup(APIView):
    """Look up one serial: order, batch, carton, shipment, customer, warranty end and its
    integrity status with every finding that applies (buyer-side staff only)."""

    permission_classes = [IsAuthenticated, IsBuyerSide]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "serial",
                str,
                required=True,
                description="A plain serial, a GS1 element string (bracketed, or with group "
                "separators and a scanner prefix) or a GS1 Digital Link URL.",
            )
        ],
        responses={200: LookupResultSerializer},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("serial", "")
        if not text.strip():
            raise serializers.ValidationError(
                {"serial": ["Give the serial to look up: ?serial=<serial or label text>."]}
            )
        if len(text) > TEXT_MAX:
            raise serializers.ValidationError(
                {"serial": [f"At most {TEXT_MAX:,} characters, not {len(text):,}."]}
            )
        result = serial_lookup(user=request.user, text=text)
        lookup_log(user=request.user, results=[result], channel=LookupLog.Channel.API, query=text)
        # The dict has LookupResultSerializer's fields (a test holds them together); a
        # serializer instance would cost more than the lookup's queries.
        return Response(_absolute(result.as_dict(), request.build_absolute_uri("/")[:-1]))


class SerialLookupBulk(APIView):
    """Look up up to 100,000 serials at once: a JSON list in the order given, or CSV
    (``?format=csv`` or ``Accept: text/csv``) with one row per serial."""

    permission_classes = [IsAuthenticated, IsBuyerSide]
    parser_classes = [JSONParser]  # a list of serials: a form would send only its last one
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        request=LookupBulkRequestSerializer,
        responses={
            (200, "application/json"): LookupResultSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def post(self, request: Request) -> Response | HttpResponse:
        refuse_empty(request, ["format"])  # ?format= alone would quietly answer JSON
        serials_given = request.data.get("serials") if isinstance(request.data, dict) else None
        if serials_given is None:
            raise serializers.ValidationError({"serials": ['Send {"serials": [...]}.']})
        try:
            texts = lookup_texts_check(serials_given)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"serials": error.messages}) from None
        results = serials_lookup_bulk(user=request.user, texts=texts)
        lookup_log(user=request.user, results=results, channel=LookupLog.Channel.API_BULK)
        if request.accepted_renderer.format == "csv":
            return csv_response("serial-lookup.csv", BULK_CSV_HEADER, bulk_csv_rows(results))
        base = request.build_absolute_uri("/")[:-1]
        return Response([_absolute(result.as_dict(), base) for result in results])

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Refusals are said in JSON even when CSV was asked for: a CSV of an error helps nobody.
        if isinstance(response, Response) and response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response
