"""API shapes of inspection plans, sampled units and their results."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inspection import sampling
from inspection.models import BlockedStep, InspectionPlan, SampledUnit, UnitResult
from inspection.selectors import carton_reconciliation, latest_results, plan_outcome


class UnitResultSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.printed_name", read_only=True)

    class Meta:
        model = UnitResult
        fields = [
            "id",
            "method",
            "label_text",
            "read_serial",
            "read_gtin",
            "matches",
            "carton_found",
            "in_right_carton",
            "defects",
            "defective",
            "photo_sha256",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class BlockedStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = BlockedStep
        fields = ["id", "step", "blocked_by", "reason", "recorded_at"]
        read_only_fields = fields


class InspectionPlanSerializer(serializers.ModelSerializer):
    """A plan with its outcome, each sampled unit's newest result, blocked steps and the carton
    reconciliation."""

    url = serializers.HyperlinkedIdentityField(view_name="api-inspection-detail")
    outcome = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()
    blocked_steps = BlockedStepSerializer(many=True, read_only=True)
    reconciliation = serializers.SerializerMethodField()

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "url",
            "batch",
            "serial_list",
            "lot_size",
            "level",
            "aql",
            "code_letter",
            "plan_letter",
            "sample_size",
            "accept",
            "reject",
            "seed",
            "note",
            "created_at",
            "outcome",
            "units",
            "blocked_steps",
            "reconciliation",
        ]
        read_only_fields = fields

    def _results(self, plan: InspectionPlan) -> dict[int, UnitResult]:
        cache = self.context.setdefault("results", {})
        if plan.pk not in cache:
            cache[plan.pk] = latest_results(plan)
        return cache[plan.pk]

    def get_outcome(self, plan: InspectionPlan) -> dict[str, Any]:
        outcome = plan_outcome(plan, self._results(plan))
        return {
            "state": outcome.state,
            "recorded": outcome.recorded,
            "defective": outcome.defective,
            "reason": outcome.reason,
        }

    def get_units(self, plan: InspectionPlan) -> list[dict[str, Any]]:
        results = self._results(plan)
        return [
            {
                "id": unit.pk,
                "position": unit.position,
                "serial": unit.serial,
                "carton": unit.carton,
                "result": UnitResultSerializer(results[unit.pk]).data
                if unit.pk in results
                else None,
            }
            for unit in plan.units.all()
        ]

    def get_reconciliation(self, plan: InspectionPlan) -> dict[str, Any]:
        found = carton_reconciliation(plan)
        return {
            "cartons": found.cartons,
            "matched": found.matched,
            "missing_from_carton": [
                {"serial": s, "carton": c} for s, c in found.missing_from_carton
            ],
            "not_on_list": [{"serial": s, "carton": c} for s, c in found.not_on_list],
            "wrong_carton": [
                {"serial": s, "found_in": f, "listed_in": listed}
                for s, f, listed in found.wrong_carton
            ],
            "seen_twice": [{"serial": s, "times": n} for s, n in found.seen_twice],
            "unreadable": [{"label_text": t, "carton": c} for t, c in found.unreadable],
        }


class PlanCreateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=InspectionPlan.Level.choices, default="II")
    aql = serializers.ChoiceField(choices=[(v, v) for v in sampling.AQL_VALUES])
    lot_size = serializers.IntegerField(min_value=2, max_value=10**9, required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ResultCreateSerializer(serializers.Serializer):
    # "photo" is set by sending a photo, never claimed without one. "not_found" (a finding,
    # counted as defective) and "skipped" (the unit stays to be read) carry no label.
    method = serializers.ChoiceField(
        choices=[
            ("scanned", "Scanned"),
            ("typed", "Typed"),
            ("not_found", "Unit not found"),
            ("skipped", "Skipped for now"),
        ],
        default="scanned",
    )
    carton_confirmed = serializers.BooleanField(
        default=False,
        help_text="The unit is in the carton the list names: records that carton, as the "
        "page's “Carton matches” button does.",
    )
    label_text = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    photo = serializers.ImageField(required=False)
    carton_found = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    defects = serializers.CharField(required=False, allow_blank=True, default="")


class SampledUnitSerializer(serializers.ModelSerializer):
    results = UnitResultSerializer(many=True, read_only=True)

    class Meta:
        model = SampledUnit
        fields = ["id", "plan", "position", "serial", "carton", "results"]
        read_only_fields = fields
