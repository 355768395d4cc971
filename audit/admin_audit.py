"""Changes made in the Django admin are audited like any other (issue 11): who, which fields, before/after."""

from typing import Any

from django.db import models

from .services import record

SECRET_FIELDS = {"password"}


def _value(obj: models.Model, name: str) -> Any:
    if name in SECRET_FIELDS:
        return "***"
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(str(v) for v in getattr(obj, name).all()) if obj.pk else []
    value = getattr(obj, field.attname, None)
    return value if isinstance(value, int | float | bool | type(None)) else str(value)


class AuditedAdminMixin:
    """For a ModelAdmin: every add, change and delete writes an audit row with the changed fields."""

    def save_model(self, request, obj, form, change) -> None:
        changed = [n for n in form.changed_data if n in {f.name for f in obj._meta.get_fields()}]
        before = None
        if change and obj.pk:
            old = type(obj).objects.filter(pk=obj.pk).first()
            before = {n: _value(old, n) for n in changed if old is not None}
        super().save_model(request, obj, form, change)
        label = obj._meta.label_lower.replace(".", "_")
        record(
            actor=request.user,
            action=f"admin.{label}.{'change' if change else 'add'}",
            obj=obj,
            before=before,
            after={n: _value(obj, n) for n in changed},
        )

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        m2m = [n for n in form.changed_data if n in {f.name for f in form.instance._meta.many_to_many}]
        if m2m:
            record(actor=request.user, action=f"admin.{form.instance._meta.label_lower.replace('.', '_')}.m2m",
                   obj=form.instance, after={n: _value(form.instance, n) for n in m2m})  # fmt: skip

    def delete_model(self, request, obj) -> None:
        snapshot = {f.name: _value(obj, f.name) for f in obj._meta.concrete_fields}
        label, pk = obj._meta.label_lower.replace(".", "_"), obj.pk
        super().delete_model(request, obj)
        record(actor=request.user, action=f"admin.{label}.delete", object_type=obj._meta.label, object_id=pk,
               before=snapshot)  # fmt: skip

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
