"""Upload forms for catalogue files and reference-price files."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import DEFAULT_PROVINCE


class CatalogueUploadForm(forms.Form):
    file = forms.FileField(label=_("目录文件（CSV 或 XLSX）"))
    province = forms.CharField(label=_("省份"), max_length=50, initial=DEFAULT_PROVINCE)
    label = forms.CharField(label=_("标签"), max_length=200, required=False)


class ReferenceUploadForm(forms.Form):
    file = forms.FileField(label=_("省际挂网价文件（CSV 或 XLSX）"))
    label = forms.CharField(label=_("标签"), max_length=200, required=False)
