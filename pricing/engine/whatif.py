"""What-if preview (规则试算): flag counts per rule under changed parameters, nothing saved."""

from __future__ import annotations

from typing import Any

from catalogue.models import CatalogueVersion, ReferencePriceSet
from pricing.engine import detection
from pricing.engine.frame import prepare
from pricing.engine.ruleset import RULE_CODES, RuleParams, latest_rule_set, merged_params


def _counts(flags) -> dict[str, int]:
    counts = dict.fromkeys(RULE_CODES, 0)
    if len(flags):
        for code, n in flags["rule_code"].value_counts().items():
            counts[code] = int(n)
    return counts


def preview(
    catalogue_version: CatalogueVersion,
    params_changes: dict[str, Any],
    *,
    base: Any = None,
    reference_set: ReferencePriceSet | None = None,
) -> dict[str, int]:
    """Counts per rule code under `base` (latest rule set) with `params_changes` applied."""
    base = base or latest_rule_set()
    params = RuleParams.from_dict(merged_params(base.params if base else {}, params_changes))
    return _count_with(catalogue_version, params, reference_set)


def preview_against_base(
    catalogue_version: CatalogueVersion,
    params_changes: dict[str, Any],
    *,
    base: Any = None,
    reference_set: ReferencePriceSet | None = None,
) -> dict[str, dict[str, int]]:
    """{"base": counts, "changed": counts} for the page; the listings are loaded once per rule set."""
    base = base or latest_rule_set()
    base_params = RuleParams.from_dict(base.params if base else {})
    changed = RuleParams.from_dict(merged_params(base.params if base else {}, params_changes))
    return {
        "base": _count_with(catalogue_version, base_params, reference_set),
        "changed": _count_with(catalogue_version, changed, reference_set),
    }


def _count_with(version: CatalogueVersion, params: RuleParams, reference_set: ReferencePriceSet | None) -> dict:
    listings = detection.load_listings(version.pk, params)
    if listings.empty:
        return dict.fromkeys(RULE_CODES, 0)
    refs = detection.load_references(reference_set.pk if reference_set else None, params)
    return _counts(detection.compute_flags(prepare(listings, params), refs, params))
