"""The API of gates: list, create and read them, release one, and record or list its payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals import services as approvals
from approvals.api.scope import BY_ORDER_AND_BATCH, by_order_and_batch, order_and_batch
from approvals.forms import MONEY_KINDS
from approvals.models import Gate, Payment
from orders.selectors import orders_visible_to
from portal.api_query import refuse_empty
from portal.api_schema import CONFLICT
from portal.models import User
from portal.roles import can_manage_orders, can_move_money, is_buyer_side
from portal.typing import AuthenticatedAPIRequest


class GateSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-gate-detail")
    state = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    approval = serializers.SerializerMethodField()

    class Meta:
        model = Gate
        fields = [
            "id",
            "url",
            "order",
            "batch",
            "kind",
            "amount",
            "currency",
            "due_date",
            "state",
            "reason",
            "approval",
        ]
        read_only_fields = fields

    def _state(self, gate: Gate) -> approvals.GateState:
        cache = self.context.setdefault("states", {})
        if gate.pk not in cache:
            cache.update(approvals.gate_states([gate]))
        return cache[gate.pk]

    def get_state(self, gate: Gate) -> str:
        return self._state(gate).state

    def get_reason(self, gate: Gate) -> str:
        """What it waits for, or why it was released; the buyer's staff only."""
        return self._state(gate).reason if is_buyer_side(self.context["request"].user) else ""

    def get_approval(self, gate: Gate) -> int | None:
        approval = self._state(gate).approval
        return approval.pk if approval else None


class GateCreateSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    batch = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=Gate.Kind.choices)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # As on the page (approvals.forms.GateForm): a gate is never changed, so a deposit,
        # balance or fee gate without its amount could never get one.
        if attrs.get("kind") in MONEY_KINDS and attrs.get("amount") is None:
            raise serializers.ValidationError(
                {"amount": "A deposit, balance or fee gate needs its amount due and currency."}
            )
        return attrs


def gates_visible_to(user: User | AnonymousUser) -> QuerySet[Gate]:
    return Gate.objects.filter(order__in=orders_visible_to(user)).order_by("id")


class GateList(generics.ListAPIView):
    """Gates on the orders the caller may see, with their state; ?order=, ?batch=, ?state=.
    POST adds a gate (buyers and admins); it stays blocked until an approval opens it."""

    serializer_class = GateSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Gate]:
        return by_order_and_batch(gates_visible_to(self.request.user), self.request)

    @extend_schema(
        parameters=[
            *BY_ORDER_AND_BATCH,
            OpenApiParameter(
                "state", enum=Gate.State.values, description="Only gates in this state."
            ),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """States are computed together (a fixed number of queries), for the page shown."""
        refuse_empty(request, ["state"])
        wanted = request.query_params.get("state")
        if wanted is not None and wanted not in Gate.State.values:
            known = ", ".join(Gate.State.values)
            raise serializers.ValidationError({"state": [f"“{wanted}” is not a state ({known})."]})
        gates = list(self.filter_queryset(self.get_queryset()))
        if wanted:
            states = approvals.gate_states(gates)
            gates = [gate for gate in gates if states[gate.pk].state == wanted]
        # drf-stubs types paginate_queryset for a QuerySet only; DRF's paginators slice any
        # sequence, and the gates are a list here because their states were filtered in Python.
        page: list[Gate] | None = self.paginate_queryset(gates)  # type: ignore[arg-type]
        shown = page if page is not None else gates
        context = self.get_serializer_context() | {"states": approvals.gate_states(shown)}
        data = GateSerializer(shown, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=GateCreateSerializer, responses={201: GateSerializer})
    def post(self, request: AuthenticatedAPIRequest) -> Response:
        if not can_manage_orders(request.user):
            raise PermissionDenied("Only the buyer's buyers and admins set up gates.")
        incoming = GateCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        order, batch = order_and_batch(request, data)
        gate = approvals.gate_create(
            user=request.user,
            order=order,
            batch=batch,
            kind=data["kind"],
            amount=data.get("amount"),
            currency=data.get("currency", ""),
            due_date=data.get("due_date"),
        )
        body = GateSerializer(gate, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class GateDetail(generics.RetrieveAPIView):
    serializer_class = GateSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Gate]:
        return gates_visible_to(self.request.user)


class GateReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    code = serializers.CharField(
        write_only=True,
        max_length=12,
        help_text="The current 6-digit code of your authenticator app (the second factor).",
    )


class GateRelease(APIView):
    """Finance releases a gate, with their authenticator app's current code; a blocked one needs
    a reason. A second release answers 409."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=GateReleaseSerializer, responses={200: GateSerializer, 409: CONFLICT})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        gate = get_object_or_404(gates_visible_to(request.user), pk=pk)
        if not can_move_money(request.user):
            raise PermissionDenied("Only finance releases gates.")
        incoming = GateReleaseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        approvals.gate_release(
            gate=gate,
            user=request.user,
            request=request._request,
            reason=incoming.validated_data["reason"],
            code=incoming.validated_data["code"],
        )
        return Response(GateSerializer(gate, context={"request": request}).data)


class PaymentSerializer(serializers.ModelSerializer):
    document = serializers.FileField(write_only=True, allow_empty_file=True)
    paid_while_blocked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "gate",
            "kind",
            "amount",
            "currency",
            "payee",
            "paid_on",
            "document",
            "document_name",
            "document_sha256",
            "gate_state",
            "reason",
            "payee_named_in_file",
            "paid_while_blocked",
            "recorded_at",
        ]
        read_only_fields = [
            "id",
            "gate",
            "document_name",
            "document_sha256",
            "gate_state",
            "payee_named_in_file",
            "paid_while_blocked",
            "recorded_at",
        ]
        extra_kwargs = {"currency": {"max_length": 3}}


class GatePayments(generics.ListAPIView):
    """Payments on one gate: internal to the buyer (anyone else gets 404). Finance records one
    with a multipart POST that carries the proving document."""

    serializer_class = PaymentSerializer
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def get_gate(self) -> Gate:
        if not is_buyer_side(self.request.user):
            raise Http404("No such gate.")
        return get_object_or_404(gates_visible_to(self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return self.get_gate().payments.order_by("id")

    @extend_schema(request=PaymentSerializer, responses={201: PaymentSerializer})
    def post(self, request: AuthenticatedAPIRequest, pk: int) -> Response:
        gate = self.get_gate()
        if not can_move_money(request.user):
            raise PermissionDenied("Only finance records payments.")
        incoming = PaymentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        payment = approvals.payment_record(gate=gate, user=request.user, **incoming.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
