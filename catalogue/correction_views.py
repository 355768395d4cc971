"""Corrections page (人工修正): list the province's corrections in force and add/withdraw one. Staff only."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import staff_required

from .corrections import CorrectionRefused, current_corrections, save_correction
from .services import DEFAULT_PROVINCE


class CorrectionForm(forms.Form):
    province = forms.CharField(label=gettext_lazy("省份"), max_length=50, initial=DEFAULT_PROVINCE)
    listing_code = forms.CharField(label=gettext_lazy("挂网编号"), max_length=64, required=False)
    generic_name = forms.CharField(label=gettext_lazy("或：通用名"), max_length=200, required=False)
    manufacturer = forms.CharField(label=gettext_lazy("生产企业"), max_length=200, required=False)
    product_strength = forms.CharField(label=gettext_lazy("原规格"), max_length=200, required=False)
    strength = forms.CharField(label=gettext_lazy("修正后规格"), max_length=200, required=False)
    pack_quantity = forms.IntegerField(label=gettext_lazy("修正后转换比"), min_value=1, required=False)
    form_group = forms.CharField(label=gettext_lazy("修正后剂型组"), max_length=100, required=False)
    quality_tier = forms.CharField(label=gettext_lazy("修正后质量层次"), max_length=20, required=False)
    withdraw = forms.BooleanField(label=gettext_lazy("撤销该修正"), required=False)
    reason = forms.CharField(label=gettext_lazy("修正原因"), widget=forms.Textarea(attrs={"rows": 2}))


@staff_required
def corrections(request: HttpRequest) -> HttpResponse:
    province = request.GET.get("province") or request.POST.get("province") or DEFAULT_PROVINCE
    form = CorrectionForm(request.POST or None, initial={"province": province})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        product = None
        if d["generic_name"] or d["manufacturer"] or d["product_strength"]:
            product = (d["generic_name"], d["manufacturer"], d["product_strength"])
        try:
            save_correction(
                province=d["province"],
                listing_code=d["listing_code"],
                product=product,
                strength=d["strength"],
                pack_quantity=d["pack_quantity"],
                form_group=d["form_group"],
                quality_tier=d["quality_tier"],
                active=not d["withdraw"],
                reason=d["reason"],
                user=request.user,
            )
        except CorrectionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存人工修正；下次计算纠偏时生效"))
            return redirect(f"{request.path}?province={d['province']}")
    context = {"form": form, "province": province, "corrections": current_corrections(province)}
    return render(request, "catalogue/corrections.html", context)
