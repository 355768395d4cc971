"""Catalogue reads. Listings are visible only through ACTIVE versions (staged rows never leak)."""

from django.db.models import Q, QuerySet

from .models import CatalogueVersion, ImportStatus, Listing, ReferencePriceSet


def versions_for_staff() -> QuerySet[CatalogueVersion]:
    """Every version with its import status (the staff import log: pending, rejected, active…)."""
    return CatalogueVersion.objects.select_related("uploaded_by")


def active_versions(province: str | None = None) -> QuerySet[CatalogueVersion]:
    qs = CatalogueVersion.objects.filter(status=ImportStatus.ACTIVE)
    return qs.filter(province=province) if province else qs


def latest_active_version(province: str | None = None) -> CatalogueVersion | None:
    return active_versions(province).order_by("-activated_at", "-id").first()


def active_listings(
    version_id: int | None = None,
    *,
    q: str = "",
    generic_name: str = "",
    manufacturer: str = "",
    form_group: str = "",
    tier_class: str = "",
    is_active: bool | None = None,
) -> QuerySet[Listing]:
    """Listings of ACTIVE versions, optionally searched (通用名 / 挂网编号 / 企业) and filtered."""
    qs = Listing.objects.filter(version__status=ImportStatus.ACTIVE).select_related("manufacturer")
    if version_id is not None:
        qs = qs.filter(version_id=version_id)
    if q:
        q = q.strip()
        qs = qs.filter(Q(generic_name__icontains=q) | Q(listing_code__icontains=q) | Q(manufacturer_name__icontains=q))
    if generic_name:
        qs = qs.filter(generic_name_norm=generic_name)
    if manufacturer:
        qs = qs.filter(manufacturer_name__icontains=manufacturer)
    if form_group:
        qs = qs.filter(form_group=form_group)
    if tier_class:
        qs = qs.filter(tier_class=tier_class)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.order_by("row_number")


def reference_sets() -> QuerySet[ReferencePriceSet]:
    return ReferencePriceSet.objects.filter(status=ImportStatus.ACTIVE)


def recent_reference_uploads() -> QuerySet[ReferencePriceSet]:
    """Every upload, whatever its state: the list page shows 排队中 / 导入中 / 校验未通过 honestly."""
    return ReferencePriceSet.objects.order_by("-uploaded_at", "-id")


def latest_reference_set() -> ReferencePriceSet | None:
    return reference_sets().order_by("-uploaded_at", "-id").first()
