"""API representations of rounds, flags and decisions for the review workspace."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pricing.models import CorrectionRound, Flag, FlagDecision

# Largest primary key (BigAutoField); bigger ids are refused with 400 before they reach the database.
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """An object id in a request body: 1 … ID_MAX."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class RoundSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    catalogue_version = serializers.PrimaryKeyRelatedField(read_only=True)
    rule_set_version = serializers.IntegerField(source="rule_set.version", read_only=True)

    class Meta:
        model = CorrectionRound
        fields = [
            "id",
            "title",
            "province",
            "status",
            "status_display",
            "detection_status",
            "progress",
            "flag_count",
            "catalogue_version",
            "rule_set_version",
            "created_at",
            "published_at",
            "appeal_deadline",
            "notice_text",
            "lock_version",
        ]
        read_only_fields = fields


class RoundDetailSerializer(RoundSerializer):
    counts = serializers.SerializerMethodField()

    class Meta(RoundSerializer.Meta):
        fields = [*RoundSerializer.Meta.fields, "counts"]
        read_only_fields = fields

    def get_counts(self, obj: CorrectionRound) -> dict:
        c = self.context["counts"]
        return {"total": c.total, "by_status": c.by_status, "by_rule": c.by_rule, "by_severity": c.by_severity}


class FlagSerializer(serializers.ModelSerializer):
    listing_code = serializers.CharField(source="listing.listing_code", read_only=True)
    strength = serializers.CharField(source="listing.strength", read_only=True)
    pack_quantity = serializers.IntegerField(source="listing.pack_quantity", read_only=True)
    manufacturer_name = serializers.CharField(source="manufacturer.name", read_only=True)
    benchmark_code = serializers.SerializerMethodField()
    effective_limit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "round",
            "rule_code",
            "listing_code",
            "generic_name",
            "form_group",
            "strength",
            "pack_quantity",
            "manufacturer",
            "manufacturer_name",
            "benchmark_code",
            "target_price",
            "limit_price",
            "adjusted_limit_price",
            "effective_limit_price",
            "ratio",
            "severity",
            "overcharge",
            "status",
            "status_display",
            "lock_version",
        ]
        read_only_fields = fields

    def get_benchmark_code(self, obj: Flag) -> str:
        return obj.benchmark_listing.listing_code if obj.benchmark_listing_id else obj.benchmark_province


class FlagDecisionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username", read_only=True)

    class Meta:
        model = FlagDecision
        fields = ["action", "actor", "at", "status_before", "status_after", "limit_before", "limit_after", "reason"]
        read_only_fields = fields


class ExplanationStepSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class FlagDetailSerializer(FlagSerializer):
    target_unit_price = serializers.DecimalField(max_digits=24, decimal_places=10, read_only=True)
    benchmark_price = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True)
    benchmark_unit_price = serializers.DecimalField(max_digits=24, decimal_places=10, read_only=True)
    benchmark_converted = serializers.DecimalField(max_digits=24, decimal_places=10, read_only=True)
    explanation = serializers.SerializerMethodField()
    decisions = FlagDecisionSerializer(many=True, read_only=True)

    class Meta(FlagSerializer.Meta):
        fields = [
            *FlagSerializer.Meta.fields,
            "target_unit_price",
            "benchmark_price",
            "benchmark_unit_price",
            "benchmark_converted",
            "factors",
            "rule_set_version",
            "explanation",
            "decisions",
        ]
        read_only_fields = fields

    def get_explanation(self, obj: Flag) -> list[dict]:
        try:
            from pricing.review.explain import explain_flag
        except ImportError:
            return []
        return explain_flag(obj)


class DecisionRequestSerializer(serializers.Serializer):
    """Only these fields are read; anything else in the body (status, manufacturer, round…) is ignored."""

    action = serializers.ChoiceField(choices=["confirm", "dismiss", "adjust", "revise"])
    to_action = serializers.ChoiceField(
        choices=["confirm", "dismiss", "adjust"], required=False, help_text=_("改判（action=revise）的结果")
    )
    expected_version = serializers.IntegerField(min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    new_limit = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["action"] == "revise" and not attrs.get("to_action"):
            raise serializers.ValidationError({"to_action": _("改判必须指明改判结果。")})
        adjusting = attrs["action"] == "adjust" or attrs.get("to_action") == "adjust"
        if adjusting and attrs.get("new_limit") is None:
            raise serializers.ValidationError({"new_limit": _("调整限价必须填写调整后限价。")})
        return attrs


class BulkDecisionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["confirm", "dismiss"])
    flag_ids = serializers.ListField(child=IdField(), min_length=1, max_length=500)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    # issue 11: required — a bulk decision names the version of every flag it was made on, so it can
    # never silently override a decision someone else made in the meantime
    expected_versions = serializers.DictField(child=serializers.IntegerField(min_value=0))

    def validate(self, attrs: dict) -> dict:
        missing = [i for i in attrs["flag_ids"] if str(i) not in attrs["expected_versions"]]
        if missing:
            raise serializers.ValidationError(
                {
                    "expected_versions": _("缺少以下纠偏记录的版本号：%(ids)s")
                    % {"ids": ", ".join(map(str, missing[:20]))}
                }
            )
        return attrs


class BulkDecisionResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.DictField(child=serializers.CharField())


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField()


class PublishRequestSerializer(serializers.Serializer):
    """`deadline`: an ISO date (ends 23:59:59.999999 Asia/Shanghai) or datetime (naive = Asia/Shanghai)."""

    deadline = serializers.CharField(required=False)
    deadline_working_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("或：自今日起的工作日数（节假日与调休按 chinesecalendar），与 deadline 二选一"),
    )
    notice_text = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    defer_pending = serializers.BooleanField(
        required=False, default=False, help_text=_("将待审核记录转入下一批次（须与 expected_pending 一起提交）")
    )
    expected_pending = serializers.IntegerField(required=False, min_value=0, allow_null=True, default=None)
    evidence_required = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("defer_pending") and attrs.get("expected_pending") is None:
            raise serializers.ValidationError(
                {"expected_pending": _("转入下一批次须确认待审核记录数 expected_pending。")}
            )
        days = attrs.pop("deadline_working_days", None)
        if ("deadline" in attrs) == (days is not None):
            raise serializers.ValidationError(
                {"deadline": _("请填写申诉截止时间 deadline，或工作日数 deadline_working_days（二选一）。")}
            )
        if days is not None:
            from compliance.workdays import CalendarRangeError, add_working_days

            try:
                attrs["deadline"] = add_working_days(timezone.localdate(), days)
            except CalendarRangeError as exc:
                raise serializers.ValidationError({"deadline_working_days": str(exc)}) from None
        return attrs

    def validate_deadline(self, value: str) -> dt.date | dt.datetime:
        value = value.strip()
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError(_("截止时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM。")) from None
