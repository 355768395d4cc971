"""Reads for the compliance pages: summaries of a check (by status, company, rule), the series
across rounds, the escalation candidates, and a manufacturer's own rows (the one tenant filter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from catalogue.models import CatalogueVersion, ImportStatus
from compliance.models import (
    NON_COMPLIANT,
    AdjustmentDeadline,
    ComplianceCheck,
    ComplianceResult,
    ComplianceStatus,
    EscalationList,
)
from pricing.models import CorrectionRound, FlagStatus, JobStatus, RoundStatus, RuleCode

STATUSES = [s.value for s in ComplianceStatus]
RULE_NAMES = dict(RuleCode.choices)


def _rate(part: int, total: int) -> Decimal:
    return (Decimal(100) * part / total).quantize(Decimal("0.1")) if total else Decimal(0)


@dataclass
class Breakdown:
    """Counts per status of one slice (a company, a rule, a round) and the compliance rate."""

    label: str
    counts: dict[str, int] = field(default_factory=dict)
    code: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        return [self.counts.get(s, 0) for s in STATUSES]

    @property
    def rate(self) -> Decimal:
        """已调价 share of the listings of the round (new specs are not listings of the round)."""
        listings = self.total - self.counts.get(ComplianceStatus.NEW_SPEC_ABOVE, 0)
        return _rate(self.counts.get(ComplianceStatus.COMPLIED, 0), listings)


def checks_of(round_id: int) -> QuerySet[ComplianceCheck]:
    return ComplianceCheck.objects.filter(round_id=round_id).select_related("catalogue_version", "requested_by")


def latest_check(round_id: int, scope: str | None = None) -> ComplianceCheck | None:
    """The newest finished check of a round (of one scope when given)."""
    qs = checks_of(round_id).filter(state=JobStatus.DONE)
    return (qs.filter(scope=scope) if scope else qs).order_by("-id").first()


def deadline_of(round_id: int) -> AdjustmentDeadline | None:
    return AdjustmentDeadline.objects.filter(round_id=round_id).select_related("set_by").first()


def later_versions(rnd: CorrectionRound) -> QuerySet[CatalogueVersion]:
    """Active catalogue versions of the round's province imported after its own."""
    return CatalogueVersion.objects.filter(
        province=rnd.province, status=ImportStatus.ACTIVE, pk__gt=rnd.catalogue_version_id
    ).order_by("-pk")


def by_status(check: ComplianceCheck) -> list[tuple[str, str, int, Decimal]]:
    """(code, name, count, share %) per status."""
    total = sum(check.counts.values())
    return [
        (s.value, str(s.label), check.counts.get(s.value, 0), _rate(check.counts.get(s.value, 0), total))
        for s in ComplianceStatus
    ]


def by_company(check: ComplianceCheck) -> list[Breakdown]:
    rows: dict[str, Breakdown] = {}
    qs = check.results.order_by().values("manufacturer_name", "status").annotate(n=Count("id"))
    for row in qs:
        rows.setdefault(row["manufacturer_name"], Breakdown(row["manufacturer_name"])).counts[row["status"]] = row["n"]
    return sorted(rows.values(), key=lambda b: (b.rate, -b.total, b.label))


def by_rule(check: ComplianceCheck) -> list[Breakdown]:
    """A listing with flags of several rules counts under each of them."""
    rows: dict[str, Breakdown] = {}
    for rules, status in check.results.values_list("rule_codes", "status").iterator(chunk_size=5000):
        for rule in rules:
            counts = rows.setdefault(rule, Breakdown(str(RULE_NAMES.get(rule, rule)), code=rule)).counts
            counts[status] = counts.get(status, 0) + 1
    return sorted(rows.values(), key=lambda b: b.code)


def across_rounds(limit: int = 20) -> list[Breakdown]:
    """The latest done check of each round (most recent rounds), oldest first, for the chart."""
    latest: dict[int, ComplianceCheck] = {}
    for check in ComplianceCheck.objects.filter(state=JobStatus.DONE).select_related("round").order_by("-id"):
        latest.setdefault(check.round_id, check)
        if len(latest) >= limit:
            break
    return [Breakdown(c.round.title, dict(c.counts)) for c in sorted(latest.values(), key=lambda c: c.round_id)]


def results(check: ComplianceCheck, status: str = "") -> QuerySet[ComplianceResult]:
    qs = check.results.order_by("status", "manufacturer_name", "listing_code", "id")
    return qs.filter(status=status) if status in STATUSES else qs


def escalation_candidates(check: ComplianceCheck) -> QuerySet[ComplianceResult]:
    return check.results.filter(status__in=NON_COMPLIANT).order_by("manufacturer_name", "listing_code", "id")


def escalations_of(round_id: int) -> QuerySet[EscalationList]:
    return EscalationList.objects.filter(round_id=round_id).select_related("confirmed_by")


def visible_escalations(user: Any) -> QuerySet[EscalationList]:
    return EscalationList.objects.all() if getattr(user, "is_admin_role", False) else EscalationList.objects.none()


def visible_checks(user: Any) -> QuerySet[ComplianceCheck]:
    staff = getattr(user, "is_authenticated", False) and getattr(user, "is_regulator", False)
    return ComplianceCheck.objects.all() if staff else ComplianceCheck.objects.none()


@dataclass
class CompanyRound:
    """One round as a manufacturer sees it: its deadline and its own listings' latest statuses."""

    round: CorrectionRound
    deadline: AdjustmentDeadline | None
    check: ComplianceCheck | None
    rows: list[ComplianceResult]


def company_compliance(user: Any) -> list[CompanyRound]:
    """Rounds whose final list is published and concerns the user's company, with the adjustment
    deadline and only that company's rows of the latest check of the final list (checks of other
    scopes may hold flags never published). Nothing for a user without a company."""
    company_id = getattr(user, "company_id", None)
    if not company_id or not getattr(user, "is_manufacturer", False):
        return []
    out = []
    rounds = CorrectionRound.objects.filter(
        status=RoundStatus.FINAL, flags__manufacturer_id=company_id, flags__status=FlagStatus.CONFIRMED
    ).distinct()
    for rnd in rounds.order_by("-finalized_at", "-id"):
        check = latest_check(rnd.pk, scope="final")
        rows = list(check.results.filter(manufacturer_id=company_id).order_by("listing_code", "id")) if check else []
        out.append(CompanyRound(rnd, deadline_of(rnd.pk), check, rows))
    return out
