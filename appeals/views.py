"""Manufacturer pages (企业端): notices with countdown, flag detail, filing and following appeals.
Thin: every read goes through `selectors`, every write through `services`."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manufacturer_required
from audit.services import record
from pricing.models import RoundStatus

from . import evidence as evidence_files
from . import selectors, services
from .errors import AppealError
from .final_exports import company_export
from .forms import AppealForm, EvidenceForm, NewAppealForm
from .models import AppealStatus
from .notices import appeal_rows, listing_rows
from .workflow import deadline_passed


def window_open(round_) -> bool:
    return round_.status == RoundStatus.PUBLISHED and not deadline_passed(round_.appeal_deadline, timezone.now())


def early_closed(round_) -> bool:
    """提前截止: the window was closed before its deadline (shown to manufacturers with its time)."""
    return bool(round_.closed_at and round_.appeal_deadline and round_.closed_at < round_.appeal_deadline)


def notice_for(round_, flags, *, actions: bool = True) -> dict:
    """One round's notice: its listings (one card each, 执行限价 + every flag) and the window state."""
    flags = list(flags)
    appeals = selectors.active_appeal_by_flag([f.pk for f in flags])
    return {
        "round": round_,
        "listings": listing_rows(flags, round_, appeals=appeals),
        "open": window_open(round_),
        "early_closed": early_closed(round_),
        "actions": actions,
    }


@manufacturer_required
def home(request: HttpRequest) -> HttpResponse:
    """我的纠偏通知: open notices with the deadline countdown, one card per listing."""
    notices = [
        notice_for(round_, selectors.visible_flags(request.user).filter(round=round_).order_by("-ratio", "id"))
        for round_ in selectors.notice_rounds(request.user)
    ]
    return render(request, "appeals/home.html", {"notices": notices})


@manufacturer_required
def my_export(request: HttpRequest, round_id: int) -> HttpResponse:
    """Excel of the company's own list in a round: one row per flag with the listing's 执行限价."""
    round_ = get_object_or_404(selectors.notice_rounds(request.user), pk=round_id)
    export = company_export(round_, user=request.user)
    response = FileResponse(
        open(export.path, "rb"), as_attachment=True, filename=export.filename, content_type=export.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@manufacturer_required
def flag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A flag of the company; one that already has an active appeal leads to that appeal."""
    flag = get_object_or_404(selectors.visible_flags(request.user), pk=pk)
    active = selectors.active_appeal_by_flag([flag.pk]).get(flag.pk)
    if active is not None:
        return redirect("appeals:appeal_detail", pk=active.pk)
    appeals = selectors.visible_appeals(request.user).filter(links__flag=flag).distinct()
    can_appeal = window_open(flag.round) and flag.status == "confirmed"
    siblings = selectors.visible_flags(request.user).filter(round=flag.round, listing_id=flag.listing_id)
    return render(
        request,
        "appeals/flag_detail.html",
        {
            "flag": flag,
            "listings": listing_rows(siblings, flag.round),
            "appeals": appeals,
            "can_appeal": can_appeal,
            "open": window_open(flag.round),
        },
    )


def _prices(post) -> dict[str, str]:
    """price_<flag id> fields of the appeal forms → {flag id: price} (blank ones left out)."""
    return {k[len("price_") :]: v.strip() for k, v in post.items() if k.startswith("price_") and v.strip()}


@manufacturer_required
def appeal_new(request: HttpRequest) -> HttpResponse:
    """New appeal for one listing (?flag=ID, any of its flags) or several listings of one round
    (?round=ID): one card per listing with its 执行限价 and every flag, a proposed price per flag."""
    source = request.POST if request.method == "POST" else request.GET
    round_id = source.get("round")
    preselected = [int(x) for x in source.getlist("flag") if x.isdigit()]
    if not round_id and preselected:
        first = selectors.visible_flags(request.user).filter(pk=preselected[0]).first()
        round_id = first.round_id if first else None
    if not str(round_id or "").isdigit():
        raise Http404
    round_ = get_object_or_404(selectors.notice_rounds(request.user), pk=round_id)
    candidates = list(selectors.appealable_flags(request.user, round_.pk).order_by("listing_id", "id"))
    listings = listing_rows(candidates, round_)
    # any flag of a listing stands for the listing (the service takes all of its flags)
    choices = [(r.flag.pk, row.listing.listing_code) for row in listings for r in row.flags]
    chosen_listings = {f.listing_id for f in candidates if f.pk in preselected}
    initial = [row.first_flag.pk for row in listings if row.listing.pk in chosen_listings]
    is_open = window_open(round_)
    context = {"round": round_, "open": is_open, "listings": listings}
    if request.method == "POST" and is_open:
        form = NewAppealForm(request.POST, flag_choices=choices)
        if form.is_valid():
            try:
                appeal = services.create_draft(
                    user=request.user,
                    round_id=round_.pk,
                    flag_ids=form.cleaned_data["flags"],
                    grounds=form.cleaned_data["grounds"],
                    statement=form.cleaned_data["statement"],
                    proposed_price=form.cleaned_data["proposed_price"],
                    proposed_prices=_prices(request.POST),
                )
            except AppealError as exc:
                messages.error(request, exc.message)
                return render(request, "appeals/appeal_new.html", {**context, "form": form}, status=exc.status_code)
            messages.success(request, _("申诉草稿已保存，上传证据后请提交。"))
            return redirect("appeals:appeal_detail", pk=appeal.pk)
    elif request.method == "POST":
        messages.error(request, _("申诉期已截止，不能再提出申诉。"))
        return render(request, "appeals/appeal_new.html", {**context, "open": False}, status=400)
    else:
        form = NewAppealForm(initial={"flags": initial}, flag_choices=choices)
    return render(request, "appeals/appeal_new.html", {**context, "form": form})


def _appeal_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.visible_appeals(request.user), pk=pk)


@manufacturer_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = _appeal_or_404(request, pk)
    is_open = window_open(appeal.round)
    editable = is_open and appeal.status == AppealStatus.DRAFT
    context = {
        "appeal": appeal,
        "listings": appeal_rows(appeal),
        "open": is_open,
        "editable": editable,
        "can_withdraw": is_open and appeal.status in (AppealStatus.DRAFT, AppealStatus.SUBMITTED),
        "form": AppealForm(
            initial={"grounds": appeal.grounds, "statement": appeal.statement, "proposed_price": appeal.proposed_price}
        )
        if editable
        else None,
        "evidence_form": EvidenceForm() if editable else None,
        "evidence_missing": appeal.round.evidence_required and not appeal.evidence.exists(),
        "events": appeal.events.select_related("actor"),
    }
    return render(request, "appeals/appeal_detail.html", context)


def _run(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    _appeal_or_404(request, pk)  # another company's appeal → 404 before anything else
    try:
        action()
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("appeals:appeal_detail", pk=pk)


@require_POST
@manufacturer_required
def appeal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    form = AppealForm(request.POST)
    if not form.is_valid():
        _appeal_or_404(request, pk)
        messages.error(request, _("请检查申诉理由、说明和建议价格。"))
        return redirect("appeals:appeal_detail", pk=pk)
    data = form.cleaned_data
    return _run(
        request,
        pk,
        lambda: services.update_draft(
            pk,
            user=request.user,
            grounds=data["grounds"],
            statement=data["statement"],
            proposed_price=data["proposed_price"],
            expected_version=request.POST.get("version") or None,
            proposed_prices=_prices(request.POST),
        ),
        _("草稿已保存。"),
    )


@require_POST
@manufacturer_required
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    _appeal_or_404(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的文件。"))
        return redirect("appeals:appeal_detail", pk=pk)
    return _run(
        request, pk, lambda: services.add_evidence(pk, user=request.user, uploaded_file=upload), _("证据已上传。")
    )


@require_POST
@manufacturer_required
def evidence_delete(request: HttpRequest, pk: int, evidence_id) -> HttpResponse:
    """删除证据 from a draft."""
    return _run(
        request,
        pk,
        lambda: services.remove_evidence(pk, evidence_id, user=request.user),
        _("证据已删除。"),
    )


@require_POST
@manufacturer_required
def appeal_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: services.submit(pk, user=request.user, expected_version=request.POST.get("version")),
        _("申诉已提交，监管部门处理后将通知贵企业。"),
    )


@require_POST
@manufacturer_required
def appeal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: services.withdraw(
            pk, user=request.user, expected_version=request.POST.get("version"), reason=request.POST.get("reason", "")
        ),
        _("申诉已撤回。"),
    )


def evidence_download(request: HttpRequest, pk) -> HttpResponse:
    """Evidence download for the owning company and staff only: attachment, fixed type, nosniff."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    item = get_object_or_404(selectors.visible_evidence(request.user), pk=pk)
    kind = next((t for t in evidence_files.TYPES_BY_KIND.values() if t.content_type == item.content_type), None)
    if kind is None:
        raise Http404
    try:
        handle = open(evidence_files.absolute_path(item.stored_path), "rb")
    except FileNotFoundError:
        raise Http404 from None
    record(actor=request.user, action="evidence.download", obj=item.appeal, after={"evidence": str(item.pk)})
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence_files.download_name(item.original_name, kind),
        content_type=kind.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
