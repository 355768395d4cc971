"""Appeals (申诉) by manufacturers against published flags, with evidence and events."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppealStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    WITHDRAWN = "withdrawn", _("已撤回")
    UPHELD = "upheld", _("维持")
    PARTIAL = "partial", _("部分采纳")
    ACCEPTED = "accepted", _("采纳")


class Grounds(models.TextChoices):
    COST = "cost", _("成本")
    COMPETITION = "competition", _("市场竞争")
    QUALITY = "quality", _("质量差异")
    DATA_ERROR = "data_error", _("数据错误")
    OTHER = "other", _("其他")


class Appeal(models.Model):
    """An appeal covering one or more flags of one round, filed by one company."""

    round = models.ForeignKey("pricing.CorrectionRound", on_delete=models.PROTECT, related_name="appeals")
    company = models.ForeignKey("catalogue.Manufacturer", on_delete=models.PROTECT, related_name="appeals")
    flags = models.ManyToManyField("pricing.Flag", through="AppealFlag", related_name="appeals")
    status = models.CharField(_("状态"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.DRAFT)
    grounds = models.CharField(_("申诉理由"), max_length=20, choices=Grounds.choices)
    statement = models.TextField(_("申诉说明"))
    proposed_price = models.DecimalField(_("建议价格"), max_digits=14, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    new_limit_price = models.DecimalField(_("新限价"), max_digits=14, decimal_places=2, null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("申诉")
        constraints = [
            # 维持, 部分采纳 and 采纳 are never recorded without a reason
            models.CheckConstraint(
                condition=~models.Q(status__in=["upheld", "partial", "accepted"]) | ~models.Q(decision_reason=""),
                name="appeal_decision_reason_required",
            ),
            models.CheckConstraint(
                condition=models.Q(new_limit_price__isnull=True) | models.Q(new_limit_price__gt=0),
                name="appeal_new_limit_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(proposed_price__isnull=True) | models.Q(proposed_price__gt=0),
                name="appeal_proposed_price_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"申诉#{self.pk} {self.company} {self.get_status_display()}"


class AppealFlag(models.Model):
    """Link of an appeal to a flag. `active` is true while the appeal is draft/submitted/decided
    (not withdrawn); the partial unique constraint allows one active appeal per flag."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="links")
    flag = models.ForeignKey("pricing.Flag", on_delete=models.PROTECT, related_name="appeal_links")
    active = models.BooleanField(default=True)
    proposed_price = models.DecimalField(_("建议价格"), max_digits=14, decimal_places=2, null=True, blank=True)
    new_limit_price = models.DecimalField(_("新限价"), max_digits=14, decimal_places=2, null=True, blank=True)
    # the flag as it was before the appeal was decided, so that a 改判 starts from it
    prior_status = models.CharField(max_length=20, blank=True)
    prior_adjusted_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flag"], condition=models.Q(active=True), name="one_active_appeal_per_flag"
            ),
            models.UniqueConstraint(fields=["appeal", "flag"], name="appeal_flag_unique"),
            models.CheckConstraint(
                condition=models.Q(proposed_price__isnull=True) | models.Q(proposed_price__gt=0),
                name="appeal_flag_proposed_positive",
            ),
        ]


class Evidence(models.Model):
    """An evidence file, stored under a generated name outside any served directory."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="evidence")
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_path = models.CharField(max_length=500)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]


class AppealEvent(models.Model):
    """Every transition of an appeal: who, from what, to what, when and why."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    kind = models.CharField(max_length=20, blank=True)  # "revise" for a 改判; blank for a workflow step

    class Meta:
        ordering = ["at", "id"]


class ReminderSent(models.Model):
    """Deadline reminder sent to a company for a round (3 days / 1 day before), once each."""

    round = models.ForeignKey("pricing.CorrectionRound", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("catalogue.Manufacturer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "company", "kind"], name="reminder_once")]
