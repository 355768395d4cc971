"""API representations of catalogue versions, listings and uploads (read-only except the upload)."""

from rest_framework import serializers

from .models import CatalogueVersion, Listing
from .services import DEFAULT_PROVINCE


class CatalogueVersionSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    uploaded_by = serializers.StringRelatedField(allow_null=True)  # null: seeded/system versions

    class Meta:
        model = CatalogueVersion
        fields = [
            "id", "province", "label", "source_name", "source_hash", "uploaded_by", "uploaded_at", "status",
            "status_display", "progress", "attempts", "row_count", "active_count", "warning_count", "error_count",
            "message", "activated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CatalogueVersionDetailSerializer(CatalogueVersionSerializer):
    class Meta(CatalogueVersionSerializer.Meta):
        fields = [*CatalogueVersionSerializer.Meta.fields, "warnings", "errors"]
        read_only_fields = fields


class ListingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Listing
        fields = [
            "id", "version", "row_number", "listing_code", "nhsa_code", "generic_name", "generic_name_norm",
            "trade_name", "dosage_form", "form_group", "strength", "strength_norm", "content_value", "content_unit",
            "volume_ml", "spec_parsed", "pack_quantity", "min_unit", "pack_unit", "manufacturer", "manufacturer_name",
            "mah", "quality_tier", "tier_class", "vbp_selected", "listed_price", "unit_price", "listing_status",
            "is_active", "extra",
        ]  # fmt: skip
        read_only_fields = fields


class CatalogueUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    province = serializers.CharField(max_length=50, default=DEFAULT_PROVINCE)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
