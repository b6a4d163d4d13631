"""Inspection API: the same scope and services as the pages. Suppliers get 404 everywhere."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from inspection import services
from inspection.api.serializers import (
    InspectionPlanSerializer,
    PlanCreateSerializer,
    ResultCreateSerializer,
    SampledUnitSerializer,
)
from inspection.models import InspectionPlan
from inspection.selectors import (
    inspection_batch_for,
    plans_visible_to,
    unit_for,
)
from portal.roles import can_plan_inspections, can_record_inspection_results
from portal.typing import AuthenticatedAPIRequest


class BatchInspections(generics.ListAPIView):
    """The batch's inspection plans; POST plans a new sample (buyers, admins, inspectors)."""

    serializer_class = InspectionPlanSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[InspectionPlan]:
        if getattr(self, "swagger_fake_view", False):
            return InspectionPlan.objects.none()
        batch = inspection_batch_for(self.request.user, self.kwargs["pk"])
        return batch.inspection_plans.order_by("-id")

    @extend_schema(request=PlanCreateSerializer, responses={201: InspectionPlanSerializer})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        batch = inspection_batch_for(request.user, pk)
        if not can_plan_inspections(request.user):
            raise PermissionDenied(
                "Only the buyer's buyers and admins, and inspectors, plan samples."
            )
        incoming = PlanCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        plan = services.inspection_plan_create(
            batch=batch, user=request.user, **incoming.validated_data
        )
        body = InspectionPlanSerializer(plan, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class InspectionDetail(generics.RetrieveAPIView):
    serializer_class = InspectionPlanSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[InspectionPlan]:
        return plans_visible_to(self.request.user).prefetch_related("units", "blocked_steps")


class UnitResults(APIView):
    """GET: the unit and every result recorded for it. POST: record a new result (inspectors):
    JSON with ``label_text``, or multipart with a ``photo`` of the label to decode."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses={200: SampledUnitSerializer})
    def get(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        return Response(SampledUnitSerializer(unit_for(request.user, pk)).data)

    @extend_schema(request=ResultCreateSerializer, responses={201: SampledUnitSerializer})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        unit = unit_for(request.user, pk)
        if not can_record_inspection_results(request.user):
            raise PermissionDenied("Only inspectors record inspection results.")
        incoming = ResultCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.unit_result_record(unit=unit, user=request.user, **incoming.validated_data)
        return Response(SampledUnitSerializer(unit).data, status=status.HTTP_201_CREATED)
