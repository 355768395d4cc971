"""Rule sets (纠偏规则), correction rounds (纠偏批次), flags (纠偏记录) and decisions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleSet(models.Model):
    """A versioned, immutable set of rule parameters. Editing creates a new version.

    `params` holds everything RULES.md calls a parameter: K for content/volume/pack, absolute and
    relative tolerance, tier classes, severity bands, the dosage-form alias table, which rules are
    on and whether VBP winners can be targets. See pricing.ruleset.DEFAULT_PARAMS.
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    name = models.CharField(_("名称"), max_length=200)
    params = models.JSONField(_("参数"))
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("规则集")

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已公示(申诉期)")
    CLOSED = "closed", _("申诉截止")
    FINAL = "final", _("已发布")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("计算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class CorrectionRound(models.Model):
    """纠偏批次: a catalogue version checked with one rule-set version (and reference prices)."""

    title = models.CharField(_("批次名称"), max_length=200)
    province = models.CharField(_("省份"), max_length=50)
    catalogue_version = models.ForeignKey("catalogue.CatalogueVersion", on_delete=models.PROTECT, related_name="rounds")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="rounds")
    reference_set = models.ForeignKey(
        "catalogue.ReferencePriceSet", null=True, blank=True, on_delete=models.PROTECT, related_name="rounds"
    )
    status = models.CharField(_("状态"), max_length=20, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    detection_status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    flag_count = models.PositiveIntegerField(_("纠偏数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    detected_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    appeal_deadline = models.DateTimeField(_("申诉截止时间"), null=True, blank=True)
    notice_text = models.TextField(_("公示说明"), blank=True)
    evidence_required = models.BooleanField(_("申诉须附证明材料"), default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("纠偏批次")

    def __str__(self) -> str:
        return f"{self.title} (#{self.pk})"


class RoundStatsVersion(models.Model):
    """Per round: `flags_version` is bumped by database triggers on every change to the round's flags;
    the stored overview aggregates (RoundMakerStat, RoundShapeStat) are exact while
    `stats_version == flags_version` (pricing.review.round_stats, pricing.stats_triggers). A table of
    its own, so that the triggers never name pricing_correctionround (SQLite migrations rebuild it)."""

    round = models.OneToOneField(CorrectionRound, on_delete=models.CASCADE, primary_key=True, related_name="+")
    flags_version = models.BigIntegerField(default=0)
    stats_version = models.BigIntegerField(default=0)


class RoundMakerStat(models.Model):
    """Overview aggregate (批次概览统计): flags of one round × manufacturer × status, with
    Σ(P_t − effective L_t) in 1/10000 yuan. Kept by database triggers (pricing.review.round_stats)."""

    round = models.ForeignKey(CorrectionRound, on_delete=models.CASCADE, related_name="+")
    manufacturer_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    n = models.BigIntegerField(default=0)
    amount_e4 = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "manufacturer_id", "status"], name="round_maker_stat_unique")
        ]


class RoundShapeStat(models.Model):
    """Overview aggregate: flags of one round × rule × severity × 价差倍数 band (RATIO_EDGES index)."""

    round = models.ForeignKey(CorrectionRound, on_delete=models.CASCADE, related_name="+")
    rule_code = models.CharField(max_length=40)
    severity = models.CharField(max_length=20)
    ratio_bin = models.SmallIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "rule_code", "severity", "ratio_bin"], name="round_shape_stat_unique"
            )
        ]


class RuleCode(models.TextChoices):
    TIER_UNEVALUATED = "TIER_UNEVALUATED", _("未过评高于新药/过评/参比")
    TIER_EVALUATED = "TIER_EVALUATED", _("过评高于参比")
    SAME_MAKER_SPEC = "SAME_MAKER_SPEC", _("同厂同通用名同剂型同质量层次不同规格")
    FOUR_SAME_NATIONAL = "FOUR_SAME_NATIONAL", _("四同药品高于省际最低价")


class Severity(models.TextChoices):
    YELLOW = "黄", _("黄")
    RED1 = "红★", _("红★")
    RED2 = "红★★", _("红★★")
    RED3 = "红★★★", _("红★★★")


class FlagStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    CONFIRMED = "confirmed", _("确认纠偏")
    DISMISSED = "dismissed", _("不予纠偏")
    WITHDRAWN = "withdrawn", _("申诉采纳撤销")
    DEFERRED = "deferred", _("转下一批次")


class Flag(models.Model):
    """One rule broken by one listing in one round, with everything needed to redo the arithmetic."""

    # `round` and `manufacturer` have no database FK constraint: PostgreSQL checks one with a query per
    # inserted flag at commit (≈ 0.2 s per 44,000 flags and key). Detection, the only bulk writer, holds
    # the round row FOR UPDATE while it inserts the round's flags, and stores each listing's own
    # manufacturer (a reference the listing itself keeps without a constraint, see catalogue.Listing);
    # `flag_store.check_manufacturers` verifies those once per detection. Django's CASCADE/PROTECT still
    # apply to ORM deletes; a raw-SQL DELETE of a round or manufacturer would no longer be refused.
    # The listing and benchmark references keep their constraints: they are the flag's evidence.
    # `round` has no index of its own: it leads the unique constraint and every index below.
    round = models.ForeignKey(
        CorrectionRound, on_delete=models.CASCADE, related_name="flags", db_index=False, db_constraint=False
    )
    listing = models.ForeignKey("catalogue.Listing", on_delete=models.PROTECT, related_name="flags")
    rule_code = models.CharField(_("纠偏类型"), max_length=32, choices=RuleCode.choices)
    # denormalised for fast filtering / tenant isolation
    manufacturer = models.ForeignKey(
        "catalogue.Manufacturer", on_delete=models.PROTECT, related_name="flags", db_constraint=False
    )
    generic_name = models.CharField(_("通用名"), max_length=200)
    form_group = models.CharField(_("剂型组"), max_length=100)
    # benchmark: a listing (tier / same-maker rules) or a reference-price row (四同)
    benchmark_listing = models.ForeignKey(
        "catalogue.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="benchmark_for"
    )
    benchmark_reference = models.ForeignKey(
        "catalogue.ReferencePrice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    benchmark_province = models.CharField(_("比价省份"), max_length=50, blank=True)
    target_price = models.DecimalField(_("挂网价格"), max_digits=14, decimal_places=4)
    target_unit_price = models.DecimalField(_("最小制剂单价"), max_digits=24, decimal_places=10)
    benchmark_price = models.DecimalField(_("比价药品挂网价格"), max_digits=14, decimal_places=4)
    benchmark_unit_price = models.DecimalField(_("比价药品最小制剂单价"), max_digits=24, decimal_places=10)
    benchmark_converted = models.DecimalField(_("换算后比价单价"), max_digits=24, decimal_places=10)
    factors = models.JSONField(_("换算因子"), default=dict)
    ratio = models.DecimalField(_("价差倍数"), max_digits=14, decimal_places=4)
    severity = models.CharField(_("风险等级"), max_length=8, choices=Severity.choices)
    limit_price = models.DecimalField(_("纠偏限价"), max_digits=14, decimal_places=2)
    overcharge = models.DecimalField(_("超限金额"), max_digits=14, decimal_places=2)
    rule_set_version = models.PositiveIntegerField(_("规则集版本"))
    status = models.CharField(_("状态"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.PENDING)
    adjusted_limit_price = models.DecimalField(_("调整后限价"), max_digits=14, decimal_places=2, null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round_id", "-ratio", "id"]
        verbose_name = _("纠偏记录")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "listing", "rule_code"], name="flag_unique_per_round_listing_rule"
            ),
            models.CheckConstraint(condition=models.Q(limit_price__gt=0), name="flag_limit_positive"),
            # any limit fixed by a decision or an appeal: 0 < L < P (pricing.review.repricing.clean_new_limit)
            models.CheckConstraint(
                condition=models.Q(adjusted_limit_price__isnull=True)
                | models.Q(adjusted_limit_price__gt=0, adjusted_limit_price__lt=models.F("target_price")),
                name="flag_adjusted_limit_below_price",
            ),
        ]
        indexes = [
            models.Index(fields=["round", "rule_code", "severity"]),
            models.Index(fields=["round", "status"]),
            models.Index(fields=["round", "manufacturer"]),
            models.Index(fields=["round", "-ratio"]),
            models.Index(fields=["round", "-overcharge"]),
            models.Index(fields=["round", "generic_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code} {self.listing_id} r={self.ratio}"

    @property
    def effective_limit_price(self):
        return self.adjusted_limit_price if self.adjusted_limit_price is not None else self.limit_price


class FlagDecision(models.Model):
    """A regulator's decision on a flag (确认纠偏 / 不予纠偏 / 调整限价), append-only."""

    class Action(models.TextChoices):
        CONFIRM = "confirm", _("确认纠偏")
        DISMISS = "dismiss", _("不予纠偏")
        ADJUST = "adjust", _("调整限价")
        REOPEN = "reopen", _("重新审核")
        REVISE = "revise", _("改判")
        DEFER = "defer", _("转下一批次")

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    status_before = models.CharField(max_length=20)
    status_after = models.CharField(max_length=20)
    limit_before = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    limit_after = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # 不予纠偏, 调整限价 and 改判 are never recorded without a reason
            models.CheckConstraint(
                condition=~models.Q(action__in=["dismiss", "adjust", "revise"]) | ~models.Q(reason=""),
                name="flag_decision_reason_required",
            )
        ]


class RoundEvent(models.Model):
    """Lifecycle events of a round (created, detected, published, closed, finalised, exported)."""

    round = models.ForeignKey(CorrectionRound, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class ExportJob(models.Model):
    """A large export run as a task; the file is downloaded through a permission-checked view."""

    round = models.ForeignKey(CorrectionRound, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=8)
    status_filter = models.CharField(max_length=20, default="all")
    filters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]


class FinalList(models.Model):
    """最终纠偏清单: a frozen, versioned snapshot of a round's corrections after appeals."""

    round = models.ForeignKey(CorrectionRound, on_delete=models.PROTECT, related_name="final_lists")
    version = models.PositiveIntegerField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)
    entry_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["round", "version"], name="final_list_version_unique")]


class FinalEntry(models.Model):
    """One listing of a final list with its 执行限价 (binding limit) and every flag behind it.

    `flag` is the flag whose limit binds; `reasons` lists every flag of the listing in the list
    (pricing.review.binding.BindingReason as JSON). Lists published before entries were per
    listing have one row per flag and no `listing` (read through binding.binding_limits)."""

    final_list = models.ForeignKey(FinalList, on_delete=models.CASCADE, related_name="entries")
    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="+")
    listing = models.ForeignKey(
        "catalogue.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="final_entries"
    )
    status = models.CharField(max_length=20)
    limit_price = models.DecimalField(_("执行限价"), max_digits=14, decimal_places=2)
    listed_price = models.DecimalField(_("挂网价格"), max_digits=14, decimal_places=4, null=True, blank=True)
    ratio = models.DecimalField(_("价差倍数"), max_digits=14, decimal_places=4, null=True, blank=True)
    severity = models.CharField(_("风险等级"), max_length=8, blank=True)
    overcharge = models.DecimalField(_("超限金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    basis = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["final_list", "listing"], name="final_entry_one_per_listing"),
            models.CheckConstraint(condition=models.Q(limit_price__gt=0), name="final_entry_limit_positive"),
        ]
