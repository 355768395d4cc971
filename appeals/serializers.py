"""API serializers. Read serializers expose no writable tenant/status fields; write serializers
accept only what the manufacturer (or regulator) may set — company, status and round of an
existing appeal are never taken from the request."""

from django.urls import reverse
from rest_framework import serializers

from pricing.models import Flag
from pricing.review.serializers import IdField

from .explain import explanation
from .models import Appeal, Evidence, Grounds


class StepSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class NoticeFlagSerializer(serializers.ModelSerializer):
    round_title = serializers.CharField(source="round.title", read_only=True)
    appeal_deadline = serializers.DateTimeField(source="round.appeal_deadline", read_only=True)
    listing_code = serializers.CharField(source="listing.listing_code", read_only=True)
    dosage_form = serializers.CharField(source="listing.dosage_form", read_only=True)
    strength = serializers.CharField(source="listing.strength", read_only=True)
    pack_quantity = serializers.IntegerField(source="listing.pack_quantity", read_only=True)
    manufacturer_name = serializers.CharField(source="manufacturer.name", read_only=True)
    benchmark_listing_code = serializers.CharField(
        source="benchmark_listing.listing_code", read_only=True, default=None
    )
    effective_limit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    binding_limit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="执行限价: the listing's binding limit (final list once published, else its confirmed flags)",
    )
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = [
            "id", "round", "round_title", "appeal_deadline", "rule_code", "listing_code", "generic_name",
            "dosage_form", "strength", "pack_quantity", "manufacturer_name", "benchmark_listing_code",
            "benchmark_province", "target_price", "limit_price", "adjusted_limit_price", "effective_limit_price",
            "binding_limit_price", "ratio", "severity", "status",
        ] + ["explanation"]  # fmt: skip
        read_only_fields = fields

    def get_explanation(self, flag: Flag) -> list[dict[str, str]]:
        return explanation(flag)


class EvidenceSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, item: Evidence) -> str:
        return reverse("appeals:evidence_download", args=[item.pk])


class AppealSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)
    flags = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id", "round", "company", "company_name", "flags", "status", "grounds", "statement", "proposed_price",
            "created_at", "submitted_at", "decided_at", "decision_reason", "new_limit_price", "lock_version",
            "evidence",
        ]  # fmt: skip
        read_only_fields = fields


class AppealCreateSerializer(serializers.Serializer):
    round = IdField()
    flags = serializers.ListField(child=IdField(), min_length=1, max_length=500)
    grounds = serializers.ChoiceField(choices=Grounds.choices)
    statement = serializers.CharField(max_length=20000)
    proposed_price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    proposed_prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2), required=False, allow_empty=True
    )


class AppealUpdateSerializer(serializers.Serializer):
    grounds = serializers.ChoiceField(choices=Grounds.choices)
    statement = serializers.CharField(max_length=20000)
    proposed_price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    lock_version = serializers.IntegerField()


class VersionSerializer(serializers.Serializer):
    lock_version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class DecisionSerializer(serializers.Serializer):
    """`reason` is required by the service for every outcome; `revise` true = 改判 of a decided appeal;
    `new_limits` (flag id → price) sets 部分采纳 limits per flag."""

    outcome = serializers.ChoiceField(choices=["upheld", "partial", "accepted"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    new_limit_price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    new_limits = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2), required=False, allow_empty=True
    )
    revise = serializers.BooleanField(required=False, default=False)
    lock_version = serializers.IntegerField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField(required=False)
