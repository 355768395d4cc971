from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit rows are never added, changed or deleted here (the table is append-only;
    a database trigger refuses UPDATE/DELETE). Regulators read them at 审计日志 (pricing:audit)."""

    list_display = ("at", "actor_name", "role", "action", "object_type", "object_id")
    list_filter = ("action", "role")
    search_fields = ("object_id", "actor_name", "reason")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
