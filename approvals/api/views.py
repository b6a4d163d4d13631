"""Approvals, gates and payments over the API. Reads start from the caller's scope; writes go
through ``approvals.services`` (the same checks, locks and audit as the pages). Approvals have no
update or delete: a signed approval is superseded by signing a new one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from approvals import services as approvals
from approvals.api.gates import (
    gates_visible_to,
)
from approvals.api.scope import BY_ORDER_AND_BATCH, by_order_and_batch, order_and_batch
from approvals.models import (
    Approval,
    ApprovalPin,
    Gate,
    OpenPoint,
    OpenPointClosure,
)
from orders.api.promises import PromisesField
from orders.selectors import orders_visible_to
from portal.api_schema import CONFLICT
from portal.ids import MAX_ID
from portal.models import User
from portal.roles import (
    can_manage_orders,
    can_read_inspector_checks,
)
from portal.typing import AuthenticatedAPIRequest


class SignatureSerializer(serializers.Serializer):
    printed_name = serializers.CharField()
    signed_at = serializers.DateTimeField()
    meaning = serializers.CharField()
    signature_sha256 = serializers.CharField()


class PinSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApprovalPin
        fields = ["kind", "object_id", "label", "fingerprint"]


class OpenPointClosureSerializer(serializers.ModelSerializer):
    closed_by = serializers.CharField(source="closed_by.printed_name", read_only=True)

    class Meta:
        model = OpenPointClosure
        fields = ["closed_by", "closed_at", "note", "record_kind", "record_id", "record_label"]
        read_only_fields = fields


class OpenPointSerializer(serializers.ModelSerializer):
    """A point the approval left open: its owner (``party``: the responsibility-map row, null
    for the buyer), due date, whether the gates wait on it, and its closing if closed."""

    party = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner_label", read_only=True)
    closure = serializers.SerializerMethodField()

    class Meta:
        model = OpenPoint
        fields = ["id", "text", "owner", "party", "due_on", "blocks_gates", "closure"]
        read_only_fields = fields

    @extend_schema_field(OpenPointClosureSerializer(allow_null=True))
    def get_closure(self, point: OpenPoint) -> dict[str, Any] | None:
        closure = getattr(point, "closure", None)
        return OpenPointClosureSerializer(closure).data if closure is not None else None


class OpenPointInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    party = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="The owner: the id of a current entry of the order's responsibility map; "
        "leave it out (or null) for the buyer itself.",
    )
    due_on = serializers.DateField()
    blocks_gates = serializers.BooleanField(
        required=False, default=False, help_text="The approval's gates wait on it until closed."
    )


class ApprovalSerializer(serializers.ModelSerializer):
    """A signed approval as it stands: what it tests, what it pinned, what it opens, what it
    left open, whether it went stale."""

    url = serializers.HyperlinkedIdentityField(view_name="api-approval-detail")
    promises = PromisesField(read_only=True)
    open_points = OpenPointSerializer(many=True, read_only=True)
    pins = PinSerializer(many=True, read_only=True)
    # many=True makes this a ManyRelatedField of such fields; drf-stubs types the call as below.
    unlocks: serializers.PrimaryKeyRelatedField[Gate] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    signature = SignatureSerializer(read_only=True)
    stale_reasons = serializers.SerializerMethodField()
    signature_intact = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = [
            "id",
            "url",
            "order",
            "batch",
            "promises",
            "decision",
            "sentence",
            "conditions",
            "keep_unchanged",
            "inspector_checks",
            "gate_reason",
            "open_points",
            "pins",
            "unlocks",
            "based_on",
            "manifest_sha256",
            "signature",
            "stale_reasons",
            "signature_intact",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Approval) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not can_read_inspector_checks(request.user):
            data.pop("inspector_checks", None)  # the inspector's instructions are buyer-side
        return data

    def get_stale_reasons(self, approval: Approval) -> list[str]:
        return [stale.reason for stale in approval.staleness.all()]

    def get_signature_intact(self, approval: Approval) -> bool:
        return approvals.signature_intact(approval)


@extend_schema_field(OpenApiTypes.STR)
class PinField(serializers.Field):
    """A pin as "kind:id" (e.g. "evidence:12") or {"kind": ..., "object_id": ...}."""

    def to_internal_value(self, data: Any) -> tuple[str, int]:
        if isinstance(data, str) and ":" in data:
            kind, _, raw = data.partition(":")
        elif isinstance(data, dict):
            kind, raw = data.get("kind", ""), data.get("object_id", "")
        else:
            raise serializers.ValidationError('Write a pin as "kind:id", e.g. "evidence:12".')
        if kind not in ApprovalPin.Kind.values:
            kinds = ", ".join(ApprovalPin.Kind.values)
            raise serializers.ValidationError(f"“{kind}” is not a kind of pin ({kinds}).")
        if not str(raw).isascii() or not str(raw).isdigit() or len(str(raw)) > 18:
            raise serializers.ValidationError(f"“{raw}” is not an id.")
        return kind, int(raw)

    def to_representation(self, value: tuple[str, int]) -> str:
        return f"{value[0]}:{value[1]}"


class ApprovalSignSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    batch = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    promises = PromisesField()
    decision = serializers.ChoiceField(choices=Approval.Decision.choices)
    sentence = serializers.CharField(max_length=300)
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    keep_unchanged = serializers.CharField(required=False, allow_blank=True, default="")
    inspector_checks = serializers.CharField(required=False, allow_blank=True, default="")
    pins = serializers.ListField(child=PinField(), allow_empty=False)
    unlocks = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, default=list
    )
    based_on = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    gate_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why it opens a gate its promises do not cover (required then): a deposit, "
        "balance or extra fee is covered by payment; a shipment release by shipment or identity.",
    )
    open_points = OpenPointInputSerializer(
        many=True,
        required=False,
        default=list,
        help_text="What an approval accepted with conditions leaves open.",
    )
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    code = serializers.CharField(
        write_only=True,
        max_length=12,
        help_text="The current 6-digit code of your authenticator app (the second factor). "
        "Passkeys sign on the approvals page in the browser.",
    )


def _open_points(order: Any, given: list[dict[str, Any]]) -> list[approvals.OpenPointDraft]:
    """The open points sent, each owner looked up in the order's responsibility map (an id
    that is not one of its current entries is a 400 naming it)."""
    from evidence.services import current_responsibilities

    parties = {row.pk: row for row in current_responsibilities(order).values()}
    points = []
    for index, point in enumerate(given):
        owner = None
        if point.get("party"):
            owner = parties.get(point["party"])
            if owner is None:
                raise serializers.ValidationError(
                    {
                        "open_points": [
                            f"Open point {index + 1}: {point['party']} is not a current entry "
                            "of this order's responsibility map."
                        ]
                    }
                )
        points.append(
            approvals.OpenPointDraft(
                text=point["text"],
                owner=owner,
                due_on=point["due_on"],
                blocks_gates=point["blocks_gates"],
            )
        )
    return points


def approvals_visible_to(user: User | AnonymousUser) -> QuerySet[Approval]:
    return Approval.objects.filter(order__in=orders_visible_to(user))


class ApprovalList(generics.ListAPIView):
    """Approvals on the orders the caller may see; filter with ?order= and ?batch=.
    POST signs a new one (buyers and admins, with their password and their authenticator app's
    current code)."""

    serializer_class = ApprovalSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Approval]:
        approvals_qs = (
            approvals_visible_to(self.request.user)
            .select_related("signature")
            .prefetch_related("pins", "staleness", "unlocks", "open_points__closure")
            .order_by("-id")
        )
        return by_order_and_batch(approvals_qs, self.request)

    @extend_schema(parameters=BY_ORDER_AND_BATCH)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ApprovalSignSerializer,
        responses={
            201: ApprovalSerializer,
            409: CONFLICT,
            429: OpenApiResponse(
                description="Too many wrong passwords in a row (signing in or signing): paused."
            ),
        },
    )
    def post(self, request: AuthenticatedAPIRequest) -> Response:
        if not can_manage_orders(request.user):
            raise PermissionDenied("Only the buyer's buyers and admins sign approvals.")
        incoming = ApprovalSignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        order, batch = order_and_batch(request, data)
        based_on = None
        if data.get("based_on"):
            based_on = get_object_or_404(
                Approval.objects.filter(order=order, batch=batch), pk=data["based_on"]
            )
        gates = list(gates_visible_to(request.user).filter(pk__in=data["unlocks"]))
        unknown = sorted(set(data["unlocks"]) - {gate.pk for gate in gates})
        if unknown:
            raise serializers.ValidationError(
                {"unlocks": f"No gate with id {', '.join(map(str, unknown))} on your orders."}
            )
        approval = approvals.approval_sign(
            user=request.user,
            password=data["password"],
            code=data["code"],
            request=request._request,
            order=order,
            batch=batch,
            promises=data["promises"],
            gate_reason=data["gate_reason"],
            open_points=_open_points(order, data["open_points"]),
            decision=data["decision"],
            sentence=data["sentence"],
            conditions=data["conditions"],
            keep_unchanged=data["keep_unchanged"],
            inspector_checks=data["inspector_checks"],
            pins=data["pins"],
            unlocks=gates,
            based_on=based_on,
        )
        body = ApprovalSerializer(approval, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApprovalDetail(generics.RetrieveAPIView):
    """One approval. There is no PUT, PATCH or DELETE: sign a new one to supersede it."""

    serializer_class = ApprovalSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Approval]:
        return approvals_visible_to(self.request.user).prefetch_related(
            "pins", "staleness", "open_points__closure"
        )
