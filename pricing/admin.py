"""Django admin for rule sets: saving a rule set creates a NEW version (old ones stay immutable)."""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from pricing.engine.ruleset import RuleParamsError, create_rule_set_version, merged_params
from pricing.models import RuleSet


class RuleSetForm(forms.ModelForm):
    class Meta:
        model = RuleSet
        fields = ["name", "params", "note"]

    def clean_params(self):
        params = self.cleaned_data["params"]
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError as exc:
                raise forms.ValidationError(_("参数不是有效的 JSON")) from exc
        try:
            merged_params(params, {})
        except (RuleParamsError, KeyError, TypeError, ValueError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return params


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """Editing and saving a version writes version N+1 with the edited parameters."""

    form = RuleSetForm
    list_display = ("version", "name", "created_by", "created_at")
    readonly_fields = ("version", "created_by", "created_at")
    ordering = ("-version",)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        base = RuleSet.objects.filter(pk=obj.pk).first() if change else RuleSet.objects.order_by("-version").first()
        changes = {k: v for k, v in form.cleaned_data["params"].items()}
        new = create_rule_set_version(
            base, changes, request.user, note=form.cleaned_data.get("note", ""), name=form.cleaned_data["name"]
        )
        obj.pk, obj.version = new.pk, new.version
        obj._state.adding = False
        obj._state.db = new._state.db
        messages.info(request, _("已保存为新版本 v%(v)s，原版本未修改。") % {"v": new.version})
