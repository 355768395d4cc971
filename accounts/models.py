"""Users and roles (用户与角色)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REGULATOR = "regulator", _("监管人员")
    ADMIN = "admin", _("管理员")
    MANUFACTURER = "manufacturer", _("生产企业")


class User(AbstractUser):
    """A person using the system. Manufacturer users belong to exactly one company."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.REGULATOR)
    company = models.ForeignKey(
        "catalogue.Manufacturer",
        verbose_name=_("所属企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="manufacturer") | models.Q(company__isnull=False),
                name="manufacturer_user_has_company",
            )
        ]

    @property
    def is_regulator(self) -> bool:
        return self.role in (Role.REGULATOR, Role.ADMIN)

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manufacturer(self) -> bool:
        return self.role == Role.MANUFACTURER
