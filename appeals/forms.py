"""Forms of the appeal pages (validation of shape only; the services decide what is allowed)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AppealStatus, Grounds


class AppealForm(forms.Form):
    grounds = forms.ChoiceField(label=_("申诉理由"), choices=Grounds.choices)
    statement = forms.CharField(
        label=_("申诉说明"), widget=forms.Textarea(attrs={"rows": 6, "cols": 80}), max_length=20000
    )
    proposed_price = forms.DecimalField(
        label=_("统一建议价格（元/包装，可选；也可在各条纠偏依据下分别填写）"),
        required=False,
        min_value=0.01,
        max_digits=14,
        decimal_places=2,
    )


class NewAppealForm(AppealForm):
    """`flags`: one value per listing (any of its flags; the service takes all of the listing's)."""

    flags = forms.TypedMultipleChoiceField(label=_("申诉的挂网药品"), coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, flag_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flags"].choices = list(flag_choices)
        self.order_fields(["flags"])


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("证据文件（PDF、JPG、PNG、XLSX、DOCX）"))


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=2000)


class DecisionForm(forms.Form):
    OUTCOMES = [
        ("upheld", _("维持（限价不变）")),
        ("partial", _("部分采纳（调整限价）")),
        ("accepted", _("采纳（撤销纠偏）")),
    ]
    outcome = forms.ChoiceField(label=_("处理结果"), choices=OUTCOMES, widget=forms.RadioSelect)
    new_limit_price = forms.DecimalField(
        label=_("新限价（元/包装）"), required=False, min_value=0.01, max_digits=14, decimal_places=2
    )
    reason = forms.CharField(
        label=_("理由（必填）"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class QueueFilterForm(forms.Form):
    round = forms.ModelChoiceField(label=_("批次"), required=False, queryset=None, empty_label=_("全部批次"))
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部（草稿除外）"))] + AppealStatus.choices
    )
    grounds = forms.ChoiceField(label=_("申诉理由"), required=False, choices=[("", _("全部"))] + Grounds.choices)
    company = forms.ModelChoiceField(label=_("企业"), required=False, queryset=None, empty_label=_("全部企业"))

    def __init__(self, *args, **kwargs):
        from catalogue.models import Manufacturer
        from pricing.models import CorrectionRound

        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = CorrectionRound.objects.filter(appeals__isnull=False).distinct()
        self.fields["company"].queryset = Manufacturer.objects.filter(appeals__isnull=False).distinct()
