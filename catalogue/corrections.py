"""Corrections (人工修正) of listing data: written here, read by detection. Never touch the upload."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit.services import record
from catalogue.specs import normalise_text, parse_strength, spec_text
from catalogue.vocabulary import current_vocabulary, lookup_key

from .models import ListingCorrection


class CorrectionRefused(ValueError):
    """A correction that cannot be saved (message in Chinese)."""


def product_key(generic_name: str, manufacturer: str, strength: str) -> str:
    """The normalised product a correction may be keyed by: 通用名|生产企业|规格 (as detection sees them)."""
    return "|".join((normalise_text(generic_name), normalise_text(manufacturer), spec_text(strength)))


def save_correction(
    *,
    province: str,
    reason: str,
    user: Any,
    listing_code: str = "",
    product: tuple[str, str, str] | None = None,
    strength: str = "",
    pack_quantity: int | None = None,
    form_group: str = "",
    quality_tier: str = "",
    active: bool = True,
) -> ListingCorrection:
    """Save a new version of the correction for this key (挂网编号, or product = (通用名, 生产企业, 规格))."""
    listing_code = normalise_text(listing_code)
    key = product_key(*product) if product else ""
    if bool(listing_code) == bool(key):
        raise CorrectionRefused(_("请填写挂网编号或产品（通用名、生产企业、规格）其中之一"))
    if not normalise_text(reason):
        raise CorrectionRefused(_("请填写修正原因"))
    strength, form_group, quality_tier = (
        normalise_text(strength),
        normalise_text(form_group),
        normalise_text(quality_tier),
    )
    if active and not (strength or pack_quantity or form_group or quality_tier):
        raise CorrectionRefused(_("至少修正规格、转换比、剂型组、质量层次中的一项"))
    if strength and not parse_strength(strength).parsed:
        raise CorrectionRefused(_("修正后的规格「%(spec)s」无法解析") % {"spec": strength})
    if pack_quantity is not None and pack_quantity < 1:
        raise CorrectionRefused(_("转换比必须是不小于1的整数"))
    if quality_tier:
        tier = current_vocabulary().tier_aliases.get(lookup_key(quality_tier))
        if tier is None:
            raise CorrectionRefused(_("未知的质量层次：%(tier)s") % {"tier": quality_tier})
        quality_tier = tier
    with transaction.atomic():
        same_key = ListingCorrection.objects.select_for_update().filter(
            province=province, listing_code=listing_code, product_key=key
        )
        last = same_key.aggregate(v=Max("version"))["v"] or 0
        correction = ListingCorrection.objects.create(
            province=province,
            listing_code=listing_code,
            product_key=key,
            version=last + 1,
            strength=strength,
            pack_quantity=pack_quantity,
            form_group=form_group,
            quality_tier=quality_tier,
            active=active,
            reason=normalise_text(reason),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            actor=user,
            action="catalogue.correction" if active else "catalogue.correction_withdrawn",
            obj=correction,
            after={
                "key": listing_code or key,
                "version": correction.version,
                "strength": strength,
                "pack_quantity": pack_quantity,
                "form_group": form_group,
                "quality_tier": quality_tier,
                "active": active,
            },
            reason=correction.reason,
        )
    return correction


def current_corrections(province: str) -> list[ListingCorrection]:
    """The newest version of every key of the province that is still in force."""
    newest: dict[tuple[str, str], ListingCorrection] = {}
    for c in ListingCorrection.objects.filter(province=province).select_related("created_by").order_by("version"):
        newest[(c.listing_code, c.product_key)] = c
    return [c for c in newest.values() if c.active]
