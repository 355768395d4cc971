"""Mapping instead of rejection (FORMATS.md §5.5): map a rejected upload's unknown headers and values,
save them as the province's import profile and import the same file again. Staff only."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import staff_required

from . import selectors, services
from .ingest.errors import IngestRejected
from .models import ImportProfile, ImportStatus
from .profiles import VALUE_COLUMNS, ProfileRefused, column_choices, file_problems, latest_profile, save_profile
from .vocabulary import current_vocabulary


def _posted_maps(request: HttpRequest) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """header_map {header: key} and value_map {key: {value: canonical}} from the form's paired fields."""
    post = request.POST
    headers = {post[f"hn:{i}"]: post.get(f"h:{i}", "") for i in range(200) if f"hn:{i}" in post}
    values: dict[str, dict[str, str]] = {}
    for key in VALUE_COLUMNS:
        for i in range(200):
            if f"vn:{key}:{i}" in post and post.get(f"v:{key}:{i}"):
                values.setdefault(key, {})[post[f"vn:{key}:{i}"]] = post[f"v:{key}:{i}"]
    return {h: k for h, k in headers.items() if k}, values


@staff_required
def version_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(selectors.versions_for_staff(), pk=pk)
    if version.status != ImportStatus.REJECTED:
        return redirect("catalogue:version_detail", pk=version.pk)
    path = services._source_file(version)
    profile = latest_profile(version.province)
    error = ""
    if request.method == "POST":
        header_map, value_map = _posted_maps(request)
        try:
            save_profile(
                version.province,
                header_map=header_map,
                value_map=value_map,
                user=request.user,
                note=_("由目录版本 #%(id)d 的上传页面映射") % {"id": version.pk},
                check_file=path,
                vocabulary=current_vocabulary(),
            )
            again = services.reimport_version(version, user=request.user)
        except (ProfileRefused, IngestRejected) as exc:
            error = str(getattr(exc, "message", exc))
        else:
            messages.success(
                request, _("已保存%(province)s的导入配置，并重新导入该文件") % {"province": version.province}
            )
            return redirect("catalogue:version_detail", pk=again.pk)
    try:
        problems = file_problems(path, current_vocabulary(), profile)
    except IngestRejected as exc:
        return render(request, "catalogue/version_mapping.html", {"version": version, "unreadable": exc.message})
    value_rows = [
        (key, VALUE_COLUMNS[key][0], VALUE_COLUMNS[key][1], rows) for key, rows in problems.unknown_values.items()
    ]
    context = {
        "version": version,
        "profile": profile,
        "problems": problems,
        "columns": column_choices(),
        "value_rows": value_rows,
        "error": error,
    }
    return render(request, "catalogue/version_mapping.html", context)


@staff_required
def profile_list(request: HttpRequest) -> HttpResponse:
    """Every profile name with its newest version."""
    names = ImportProfile.objects.values_list("name", flat=True).distinct().order_by("name")
    return render(request, "catalogue/profile_list.html", {"profiles": [latest_profile(n) for n in names]})


@staff_required
def profile_edit(request: HttpRequest, name: str) -> HttpResponse:
    """Edit the newest version of a profile: remove entries or add a header mapping (saved as a new version)."""
    profile = latest_profile(name)
    if profile is None:
        raise Http404
    error = ""
    if request.method == "POST":
        post = request.POST
        headers = {h: k for h, k in profile.header_map.items() if f"drop-h:{h}" not in post}
        values = {
            key: {v: c for v, c in mapping.items() if f"drop-v:{key}:{v}" not in post}
            for key, mapping in profile.value_map.items()
        }
        if post.get("new_header") and post.get("new_key"):
            headers[post["new_header"].strip()] = post["new_key"]
        try:
            save_profile(
                name, header_map=headers, value_map={k: v for k, v in values.items() if v}, user=request.user,
                note=post.get("note", "")[:500], replace=True,
            )  # fmt: skip
        except ProfileRefused as exc:
            error = str(exc)
        else:
            messages.success(request, _("已保存导入配置的新版本"))
            return redirect("catalogue:profile_edit", name=name)
    versions = ImportProfile.objects.filter(name=name).select_related("created_by").order_by("-version")[:20]
    value_labels = {key: label for key, (label, _allowed) in VALUE_COLUMNS.items()}
    column_labels = dict(column_choices())
    context = {
        "profile": profile,
        "headers": [(h, k, column_labels.get(k, k)) for h, k in profile.header_map.items()],
        "values": [
            (key, value_labels.get(key, key), v, c) for key, m in profile.value_map.items() for v, c in m.items()
        ],
        "columns": column_choices(),
        "versions": versions,
        "error": error,
    }
    return render(request, "catalogue/profile_edit.html", context)
