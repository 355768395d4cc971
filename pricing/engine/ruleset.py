"""Rule sets (规则集) as versioned data: typed parameters and creating a new version.

`RuleParams.from_dict` parses `RuleSet.params` (strings for exact decimals) into typed values the
rules use. `create_rule_set_version` writes a NEW version; existing versions are never edited.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from pricing.engine.defaults import DEFAULT_FORM_ALIASES, DEFAULT_PARAMS, DEFAULT_TIER_ALIASES

RULE_CODES = ("TIER_UNEVALUATED", "TIER_EVALUATED", "SAME_MAKER_SPEC", "FOUR_SAME_NATIONAL")
DECIMAL_KEYS = ("k_content", "k_volume", "k_pack", "tolerance_abs", "tolerance_rel")


class RuleParamsError(ValueError):
    """A parameter that cannot be used (message in Chinese)."""


def _decimal(params: dict, key: str) -> Decimal:
    try:
        value = Decimal(str(params[key]))
    except (KeyError, InvalidOperation) as exc:
        raise RuleParamsError(
            _("规则参数 %(key)s 不是有效数字：%(value)r") % {"key": key, "value": params.get(key)}
        ) from exc
    if not value.is_finite():
        raise RuleParamsError(_("规则参数 %(key)s 不是有效数字：%(value)r") % {"key": key, "value": params.get(key)})
    return value


@dataclass(frozen=True)
class RuleParams:
    """Typed view of a rule set's parameters (RULES.md: every number is a parameter)."""

    k_content: Decimal = Decimal("1.7")
    k_volume: Decimal = Decimal("1.9")
    k_pack: Decimal = Decimal("2")
    tolerance_abs: Decimal = Decimal("0.00")
    tolerance_rel: Decimal = Decimal("0")
    tier_classes: dict[str, str] = field(default_factory=dict)
    tier_aliases: dict[str, str] = field(default_factory=dict)
    form_aliases: dict[str, str] = field(default_factory=dict)
    severity_bands: tuple[tuple[Decimal, str], ...] = ()
    rules_enabled: tuple[str, ...] = RULE_CODES
    vbp_winners_are_targets: bool = False
    version: int = 0

    @classmethod
    def from_dict(cls, params: dict[str, Any], version: int = 0) -> RuleParams:
        merged = {**DEFAULT_PARAMS, **(params or {})}
        values = {key: _decimal(merged, key) for key in DECIMAL_KEYS}
        for key in ("k_content", "k_volume", "k_pack"):
            if values[key] <= 0:
                raise RuleParamsError(_("规则参数 %(key)s 必须大于 0") % {"key": key})
        for key in ("tolerance_abs", "tolerance_rel"):
            if values[key] < 0:
                raise RuleParamsError(_("规则参数 %(key)s 不能为负数") % {"key": key})
        bands = tuple(sorted((Decimal(str(lo)), str(name)) for lo, name in merged["severity_bands"]))
        if not bands:
            raise RuleParamsError(_("风险等级区间不能为空"))
        enabled = tuple(code for code in RULE_CODES if code in set(merged["rules_enabled"]))
        unknown = set(merged["rules_enabled"]) - set(RULE_CODES)
        if unknown:
            raise RuleParamsError(_("未知的纠偏类型：%(codes)s") % {"codes": ", ".join(sorted(unknown))})
        return cls(
            **values,
            tier_classes=dict(merged["tier_classes"]),
            # a rule set's alias tables extend the shipped vocabulary (catalogue.vocabulary)
            tier_aliases={**DEFAULT_TIER_ALIASES, **merged["tier_aliases"]},
            form_aliases={**DEFAULT_FORM_ALIASES, **merged["form_aliases"]},
            severity_bands=bands,
            rules_enabled=enabled,
            vbp_winners_are_targets=bool(merged["vbp_winners_are_targets"]),
            version=version,
        )

    @classmethod
    def from_rule_set(cls, rule_set: Any) -> RuleParams:
        return cls.from_dict(rule_set.params, version=rule_set.version)

    @property
    def bands(self) -> list[tuple[Decimal, str]]:
        return list(self.severity_bands)


def merged_params(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """base params with `changes` applied (decimals kept as strings); validated."""
    params = copy.deepcopy({**DEFAULT_PARAMS, **(base or {})})
    for key, value in changes.items():
        if key not in DEFAULT_PARAMS:
            raise RuleParamsError(_("未知的规则参数：%(key)s") % {"key": key})
        params[key] = str(value) if isinstance(value, Decimal | int | float) and key in DECIMAL_KEYS else value
    RuleParams.from_dict(params)
    return params


def default_rule_set() -> Any:
    """Version 1, the RULES.md defaults; re-created if the table was emptied (e.g. a test flush)."""
    from pricing.models import RuleSet

    rule_set, _created = RuleSet.objects.get_or_create(
        version=1,
        defaults={"name": "默认规则集 (RULES.md)", "params": DEFAULT_PARAMS, "note": "系统内置默认规则"},
    )
    return rule_set


def latest_rule_set() -> Any:
    """The newest rule-set version; the built-in default when none exists."""
    from pricing.models import RuleSet

    return RuleSet.objects.order_by("-version").first() or default_rule_set()


def create_rule_set_version(base: Any, changes: dict[str, Any], user: Any, note: str = "", name: str = "") -> Any:
    """Create rule set version N+1 from `base` with `changes`; `base` itself is never modified."""
    from django.db import transaction

    from audit.services import record
    from pricing.models import RuleSet

    params = merged_params(base.params if base is not None else DEFAULT_PARAMS, changes)
    with transaction.atomic():
        last = RuleSet.objects.select_for_update().order_by("-version").first()
        version = (last.version if last else 0) + 1
        rule_set = RuleSet.objects.create(
            version=version,
            name=name or (base.name if base is not None else "默认规则"),
            params=params,
            note=note,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            actor=user,
            action="ruleset.create_version",
            obj=rule_set,
            before={"version": base.version if base is not None else None},
            after={"version": version, "changes": {k: str(v) for k, v in changes.items()}},
            reason=note,
        )
    return rule_set
