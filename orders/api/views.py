"""Order and batch API: querysets always start from the caller's scope (foreign ids are 404),
writes go through the services (so they are validated and audited the same way as pages)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from orders import services
from orders.api.serializers import BatchSerializer, OrderSerializer
from orders.filters import BatchFilter, OrderFilter
from orders.models import Batch, PurchaseOrder
from orders.selectors import batches_visible_to, order_for, orders_visible_to
from portal.roles import can_manage_orders
from portal.typing import AuthenticatedAPIRequest


class ManagesOrdersOrReadOnly(permissions.BasePermission):
    """Reading follows scope; writing orders and planning batches is for buyers and admins.
    Checked on the object for detail views, so a foreign id is a 404 before it is a 403."""

    message = "Only the buyer's buyers and admins create and edit orders and plan batches."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS or view.kwargs.get("pk"):
            return True
        return can_manage_orders(request.user)

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        return request.method in permissions.SAFE_METHODS or can_manage_orders(request.user)


class EditsBatchOrReadOnly(permissions.BasePermission):
    message = "Your role cannot change batches."

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(
            services.batch_fields_for(request.user)
        )


class OrderList(generics.ListCreateAPIView):
    """Orders the caller may see. Buyers and admins create orders for their own company."""

    request: AuthenticatedAPIRequest

    serializer_class = OrderSerializer
    permission_classes = [permissions.IsAuthenticated, ManagesOrdersOrReadOnly]
    filterset_class = OrderFilter
    ordering_fields = ["order_date", "required_by", "number", "created_at"]

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return orders_visible_to(self.request.user).prefetch_related("inspection_firms")

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.order_create(
            user=self.request.user, **serializer.validated_data
        )


class OrderDetail(generics.RetrieveUpdateAPIView):
    request: AuthenticatedAPIRequest

    serializer_class = OrderSerializer
    permission_classes = [permissions.IsAuthenticated, ManagesOrdersOrReadOnly]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return orders_visible_to(self.request.user).prefetch_related("inspection_firms")

    def perform_update(self, serializer: BaseSerializer[PurchaseOrder]) -> None:
        order = serializer.instance
        assert order is not None  # UpdateModelMixin.update binds the serializer to the object
        serializer.instance = services.order_update(
            order=order, user=self.request.user, **serializer.validated_data
        )


class OrderBatchList(generics.ListCreateAPIView):
    """The batches of one order. Buyers and admins plan new ones."""

    request: AuthenticatedAPIRequest

    serializer_class = BatchSerializer
    permission_classes = [permissions.IsAuthenticated, ManagesOrdersOrReadOnly]
    filterset_class = BatchFilter
    ordering_fields = ["code", "created_at"]

    def get_order(self) -> PurchaseOrder:
        return order_for(self.request.user, self.kwargs["pk"])

    def get_queryset(self) -> QuerySet[Batch]:
        if getattr(self, "swagger_fake_view", False):
            return Batch.objects.none()
        return batches_visible_to(self.request.user).filter(order=self.get_order())

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.check_object_permissions(request, self.get_order())
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.batch_create(
            order=self.get_order(), user=self.request.user, **serializer.validated_data
        )


class BatchDetail(generics.RetrieveUpdateAPIView):
    """A batch. The buyer changes planning fields, the supplier production details."""

    request: AuthenticatedAPIRequest

    serializer_class = BatchSerializer
    permission_classes = [permissions.IsAuthenticated, EditsBatchOrReadOnly]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Batch]:
        return batches_visible_to(self.request.user)

    def perform_update(self, serializer: BaseSerializer[Batch]) -> None:
        batch = serializer.instance
        assert batch is not None  # UpdateModelMixin.update binds the serializer to the object
        serializer.instance = services.batch_update(
            batch=batch, user=self.request.user, **serializer.validated_data
        )
