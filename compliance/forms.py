"""Forms of the compliance page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.services import MAX_WORKING_DAYS

SCOPE_CHOICES = [
    ("", _("默认（已发布最终清单时为最终清单，否则为确认纠偏记录）")),
    ("final", _("最终纠偏清单")),
    ("confirmed", _("确认纠偏记录")),
    ("all", _("全部纠偏记录（含待审核）")),
]


class CheckForm(forms.Form):
    catalogue_version = forms.ModelChoiceField(queryset=None, label=_("新版挂网目录"), empty_label=None)
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, required=False, label=_("核查范围"))

    def __init__(self, *args, versions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalogue_version"].queryset = versions


class DeadlineForm(forms.Form):
    working_days = forms.IntegerField(
        label=_("调价期限（工作日）"), min_value=1, max_value=MAX_WORKING_DAYS, initial=20
    )
    starts_on = forms.DateField(
        label=_("起算日（留空为最终清单发布日）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class EscalationForm(forms.Form):
    check_id = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
