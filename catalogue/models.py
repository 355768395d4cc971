"""Catalogue versions (挂网药品目录), listings (挂网药品), manufacturers and reference prices."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Manufacturer(models.Model):
    """A company (生产企业), keyed by its normalised name."""

    name = models.CharField(_("企业名称"), max_length=200)
    name_norm = models.CharField(_("规范化名称"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("生产企业")

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    IMPORTING = "importing", _("导入中")
    ACTIVE = "active", _("已生效")
    REJECTED = "rejected", _("校验未通过")
    FAILED = "failed", _("导入失败")


class CatalogueVersion(models.Model):
    """One uploaded catalogue file. Its listings are visible only once status is ACTIVE."""

    province = models.CharField(_("省份"), max_length=50)
    label = models.CharField(_("标签"), max_length=200, blank=True)
    source_name = models.CharField(_("文件名"), max_length=255)
    source_path = models.CharField(max_length=500, help_text="path under PRIVATE_ROOT")
    source_hash = models.CharField(_("文件SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    active_count = models.PositiveIntegerField(_("挂网行数"), default=0)
    warning_count = models.PositiveIntegerField(_("警告数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warnings = models.JSONField(_("警告"), default=list, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    message = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    import_profile = models.ForeignKey(
        "ImportProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("导入配置")
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("目录版本")

    def __str__(self) -> str:
        return f"{self.province} {self.label or self.source_name} (#{self.pk})"


class TierClass(models.TextChoices):
    """Quality-tier class (质量层次类别) used by the rules."""

    REFERENCE = "参比", _("参比")
    EVALUATED = "过评", _("过评")
    NEW = "新药", _("新药")
    UNEVALUATED = "未过评", _("未过评")


class Listing(models.Model):
    """One row of a catalogue upload: one product, one pack, one price (挂网药品)."""

    # No database FK constraints on `version` and `manufacturer`: PostgreSQL checks a foreign key
    # with one query per inserted row (≈ 1.6 s per 200,000 rows and key, at commit), which was a
    # third of a 1M-row import. Integrity is kept by the only writer, catalogue.ingest.load (the
    # version row exists and is locked by the import; manufacturer ids come from the upsert just
    # before), verified once per import by `load.check_references` before activation, and Django's
    # CASCADE / PROTECT still apply to ORM deletes. The cost: a raw-SQL DELETE of a version or
    # manufacturer would no longer be refused or cascaded by the database.
    # `version` has no index of its own: it is the first column of the unique (version, listing_code).
    version = models.ForeignKey(
        CatalogueVersion, on_delete=models.CASCADE, related_name="listings", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField(_("行号"))
    listing_code = models.CharField(_("挂网编号"), max_length=64)
    nhsa_code = models.CharField(_("医保药品编码"), max_length=64, blank=True)
    generic_name = models.CharField(_("通用名"), max_length=200)
    generic_name_norm = models.CharField(max_length=200)
    trade_name = models.CharField(_("商品名"), max_length=200, blank=True)
    dosage_form = models.CharField(_("剂型"), max_length=100)
    form_group = models.CharField(_("剂型组"), max_length=100)
    strength = models.CharField(_("规格"), max_length=200)
    strength_norm = models.CharField(max_length=200)
    content_value = models.DecimalField(max_digits=24, decimal_places=8, null=True, blank=True)
    content_unit = models.CharField(max_length=8, blank=True, help_text="mg or IU")
    volume_ml = models.DecimalField(max_digits=24, decimal_places=8, null=True, blank=True)
    spec_parsed = models.BooleanField(default=False)
    pack_quantity = models.PositiveIntegerField(_("转换比"))
    min_unit = models.CharField(_("最小制剂单位"), max_length=20, blank=True)
    pack_unit = models.CharField(_("包装单位"), max_length=20, blank=True)
    manufacturer = models.ForeignKey(
        Manufacturer, on_delete=models.PROTECT, related_name="listings", db_constraint=False
    )
    manufacturer_name = models.CharField(_("生产企业"), max_length=200)
    mah = models.CharField(_("上市许可持有人"), max_length=200, blank=True)
    quality_tier = models.CharField(_("质量层次"), max_length=20)
    tier_class = models.CharField(max_length=10, choices=TierClass.choices)
    vbp_selected = models.BooleanField(_("是否集采中选"), default=False)
    listed_price = models.DecimalField(_("挂网价格"), max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(_("最小制剂单价"), max_digits=24, decimal_places=10)
    listing_status = models.CharField(_("挂网状态"), max_length=20, default="挂网")
    is_active = models.BooleanField(default=True)
    extra = models.JSONField(_("其他列"), default=dict, blank=True)

    class Meta:
        ordering = ["version_id", "listing_code"]
        verbose_name = _("挂网药品")
        constraints = [
            models.UniqueConstraint(fields=["version", "listing_code"], name="listing_code_unique_in_version")
        ]
        # Each index costs import time. Kept: the review page's comparison group (version, name,
        # form); the catalogue detail page's order (version, row_number); manufacturer_id for
        # PROTECT. (version, manufacturer) was dropped: no query filters listings that way.
        indexes = [
            models.Index(fields=["version", "generic_name_norm", "form_group"]),
            models.Index(fields=["version", "row_number"]),
        ]

    def __str__(self) -> str:
        return f"{self.listing_code} {self.generic_name} {self.strength}×{self.pack_quantity}"


class ReferencePriceSet(models.Model):
    """An upload of other provinces' listing prices (省际挂网价), used by 四同."""

    label = models.CharField(_("标签"), max_length=200, blank=True)
    source_name = models.CharField(_("文件名"), max_length=255)
    source_hash = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    row_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # issue 11: uploads are parsed by the worker, from this file (under PRIVATE_ROOT)
    source_path = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("省际挂网价")

    def __str__(self) -> str:
        return f"{self.label or self.source_name} (#{self.pk})"


class ReferencePrice(models.Model):
    """One other province's listed price (省际挂网价) of a reference price set."""

    # No database FK constraint on `price_set` (≈ 0.45 s of checks per 120,000 rows at commit): its only
    # writer, catalogue.ingest.reference_load, runs in the transaction that creates the set or holds it
    # FOR UPDATE, and Django's CASCADE still applies to ORM deletes. No index of its own either: it leads
    # the (price_set, nhsa_code) index.
    price_set = models.ForeignKey(
        ReferencePriceSet, on_delete=models.CASCADE, related_name="prices", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField()
    province = models.CharField(_("省份"), max_length=50)
    nhsa_code = models.CharField(_("医保药品编码"), max_length=64, blank=True)
    generic_name = models.CharField(max_length=200, blank=True)
    generic_name_norm = models.CharField(max_length=200, blank=True)
    dosage_form = models.CharField(max_length=100, blank=True)
    form_group = models.CharField(max_length=100, blank=True)
    strength = models.CharField(max_length=200, blank=True)
    strength_norm = models.CharField(max_length=200, blank=True)
    pack_quantity = models.PositiveIntegerField(null=True, blank=True)
    manufacturer_name = models.CharField(max_length=200, blank=True)
    manufacturer_norm = models.CharField(max_length=200, blank=True)
    listed_price = models.DecimalField(_("挂网价格"), max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["price_set_id", "row_number"]
        indexes = [models.Index(fields=["price_set", "nhsa_code"])]


class ListingCorrection(models.Model):
    """人工修正: a regulator's correction of a listing's 规格 / 转换比 / 剂型组 / 质量层次.

    Keyed by 挂网编号 (one listing of the province) or by the normalised product (通用名 + 生产企业 +
    规格, across catalogue versions). Rows are never edited: a change is a new version of the same key,
    and `active=False` in the newest version withdraws it. Applied at detection (pricing reads
    listings through the corrections); the stored upload itself is never changed.
    """

    province = models.CharField(_("省份"), max_length=50)
    listing_code = models.CharField(_("挂网编号"), max_length=64, blank=True)
    product_key = models.CharField(_("产品（通用名|生产企业|规格）"), max_length=700, blank=True)
    version = models.PositiveIntegerField(_("版本"))
    strength = models.CharField(_("修正后规格"), max_length=200, blank=True)
    pack_quantity = models.PositiveIntegerField(_("修正后转换比"), null=True, blank=True)
    form_group = models.CharField(_("修正后剂型组"), max_length=100, blank=True)
    quality_tier = models.CharField(_("修正后质量层次"), max_length=20, blank=True)
    active = models.BooleanField(_("生效"), default=True)
    reason = models.TextField(_("修正原因"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["province", "listing_code", "product_key", "-version"]
        verbose_name = _("人工修正")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "listing_code", "product_key", "version"], name="listing_correction_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.listing_code or self.product_key} v{self.version}"


class ImportProfile(models.Model):
    """导入配置: a province's mapping of unknown headers and values to canonical ones (FORMATS.md §5.5).

    Versioned like rule sets: saving creates version N+1, the newest version of a name is applied to
    the next upload of that province (`import_catalogue --profile NAME` on the command line).
    """

    name = models.CharField(_("名称"), max_length=50)
    version = models.PositiveIntegerField(_("版本"))
    header_map = models.JSONField(_("表头映射"), default=dict, blank=True)  # header as written → column key
    value_map = models.JSONField(_("取值映射"), default=dict, blank=True)  # column key → {value → canonical}
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = _("导入配置")
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="import_profile_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
