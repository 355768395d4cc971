from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from audit.admin_audit import AuditedAdminMixin

from .models import User


@admin.register(User)
class AppUserAdmin(AuditedAdminMixin, UserAdmin):
    """Every change (role, company = tenant, active, staff, password) is audited (issue 11)."""

    fieldsets = UserAdmin.fieldsets + (("角色", {"fields": ("role", "company")}),)
    list_display = ("username", "role", "company", "is_active")
    list_filter = ("role", "is_active")
