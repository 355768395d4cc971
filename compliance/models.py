"""Compliance follow-through (调价落实): did the listings of a round come down to their binding limit
in a later catalogue version? Checks, their per-listing results, the adjustment deadline (调价期限),
reminders and the confirmed escalation list (暂停挂网建议名单)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pricing.models import JobStatus


class ComplianceStatus(models.TextChoices):
    """合规状态 of one listing in a check (the codes are part of the CSV contract)."""

    COMPLIED = "COMPLIED", _("已调价")
    PARTIAL = "PARTIAL", _("部分调价")
    NOT_ADJUSTED = "NOT_ADJUSTED", _("未调价")
    WITHDRAWN = "WITHDRAWN", _("已撤网/暂停")
    NEW_SPEC_ABOVE = "NEW_SPEC_ABOVE", _("新增规格高于差比价")


NON_COMPLIANT = (ComplianceStatus.PARTIAL, ComplianceStatus.NOT_ADJUSTED, ComplianceStatus.NEW_SPEC_ABOVE)


class MatchedBy(models.TextChoices):
    CODE = "code", _("挂网编号")
    NHSA = "nhsa", _("医保药品编码")
    PRODUCT = "product", _("通用名+剂型组+规格+转换比+生产企业")
    NONE = "", _("未找到")


class ComplianceCheck(models.Model):
    """One run: a round's listings (in a scope) looked up in a later catalogue version."""

    round = models.ForeignKey("pricing.CorrectionRound", on_delete=models.CASCADE, related_name="compliance_checks")
    catalogue_version = models.ForeignKey("catalogue.CatalogueVersion", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("范围"), max_length=20)
    state = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    savings = models.DecimalField(_("已调价单包装降价合计"), max_digits=18, decimal_places=4, default=0)
    row_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("调价核查")


class ComplianceResult(models.Model):
    """One row of a check. For NEW_SPEC_ABOVE, `listing` is the round's listing of the same maker,
    generic and 剂型组 whose binding limit (converted to the new spec) the new listing exceeds."""

    check_run = models.ForeignKey(ComplianceCheck, on_delete=models.CASCADE, related_name="results")
    listing = models.ForeignKey("catalogue.Listing", on_delete=models.PROTECT, related_name="+")
    new_listing = models.ForeignKey(
        "catalogue.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    manufacturer = models.ForeignKey("catalogue.Manufacturer", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("合规状态"), max_length=20, choices=ComplianceStatus.choices)
    matched_by = models.CharField(max_length=10, choices=MatchedBy.choices, blank=True)
    listing_code = models.CharField(_("挂网编号"), max_length=64)
    generic_name = models.CharField(_("通用名"), max_length=200)
    manufacturer_name = models.CharField(_("生产企业"), max_length=200)
    listed_price = models.DecimalField(_("原挂网价格"), max_digits=14, decimal_places=4, null=True, blank=True)
    binding_limit = models.DecimalField(_("执行限价"), max_digits=14, decimal_places=2)
    compared_limit = models.DecimalField(_("比较限价"), max_digits=14, decimal_places=2)
    new_listing_code = models.CharField(_("新挂网编号"), max_length=64, blank=True)
    new_price = models.DecimalField(_("新挂网价格"), max_digits=14, decimal_places=4, null=True, blank=True)
    rule_codes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["check_run", "status"]),
            models.Index(fields=["check_run", "manufacturer"]),
        ]


class AdjustmentDeadline(models.Model):
    """调价期限 of a round's final list, counted in working days from `starts_on`."""

    round = models.OneToOneField(
        "pricing.CorrectionRound", on_delete=models.CASCADE, related_name="adjustment_deadline"
    )
    final_list = models.ForeignKey("pricing.FinalList", on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(_("调价期限（工作日）"))
    starts_on = models.DateField(_("起算日"))
    due_date = models.DateField(_("调价截止日"))
    deadline = models.DateTimeField(_("调价截止时间"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)


class AdjustmentReminder(models.Model):
    """A reminder before the adjustment deadline, sent to a company once per kind."""

    round = models.ForeignKey("pricing.CorrectionRound", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("catalogue.Manufacturer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "company", "kind"], name="adjustment_reminder_once")]


class EscalationList(models.Model):
    """暂停挂网建议名单: the non-compliant rows of a check after the deadline, confirmed by an admin."""

    round = models.ForeignKey("pricing.CorrectionRound", on_delete=models.PROTECT, related_name="escalations")
    check_run = models.ForeignKey(ComplianceCheck, on_delete=models.PROTECT, related_name="escalations")
    version = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)
    entry_count = models.PositiveIntegerField(default=0)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["round", "version"], name="escalation_version_unique")]


class EscalationEntry(models.Model):
    escalation = models.ForeignKey(EscalationList, on_delete=models.CASCADE, related_name="entries")
    result = models.ForeignKey(ComplianceResult, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
