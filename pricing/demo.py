"""Demo rounds for `seed_demo`: one published round (so manufacturers have a notice to appeal) and
one draft round for regulators to review. Idempotent: existing demo rounds are reused."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from catalogue.models import CatalogueVersion, ReferencePriceSet
from pricing.engine.rounds import create_round, run_detection
from pricing.models import CorrectionRound, Flag, FlagStatus, RoundStatus, Severity
from pricing.review.decisions import BULK_LIMIT, bulk_decide
from pricing.review.publication import publish_notice

PUBLISHED_TITLE = "湖南2026年第一批价格纠偏（演示·已公示）"
DRAFT_TITLE = "湖南2026年第二批价格纠偏（演示·待审核）"
APPEAL_DAYS = 14


def _detected_round(version: CatalogueVersion, price_set: ReferencePriceSet | None, title: str, admin: User):
    round_ = CorrectionRound.objects.filter(catalogue_version=version, title=title).first()
    if round_ is None:
        round_ = create_round(
            catalogue_version=version, title=title, user=admin, reference_set=price_set, enqueue=False
        )
    if round_.status == RoundStatus.DRAFT and round_.detection_status != "done":
        run_detection(round_.pk)
        round_.refresh_from_db()
    return round_


def seed_demo_rounds(
    version: CatalogueVersion, price_set: ReferencePriceSet | None, *, demo_companies: list[int]
) -> tuple[CorrectionRound, CorrectionRound]:
    """Detect the demo catalogue twice; confirm the red flags and the demo companies' flags of the
    first round, defer its other (yellow) flags to the next round explicitly and publish it with a
    14-day appeal window; leave the second round for review."""
    admin = User.objects.get(username="admin")
    published = _detected_round(version, price_set, PUBLISHED_TITLE, admin)
    if published.status == RoundStatus.DRAFT:
        wanted = Flag.objects.filter(round=published, status=FlagStatus.PENDING).filter(
            ~Q(severity=Severity.YELLOW) | Q(manufacturer_id__in=demo_companies)
        )
        ids = list(wanted.values_list("id", flat=True))
        for start in range(0, len(ids), BULK_LIMIT):
            bulk_decide(ids[start : start + BULK_LIMIT], "confirm", user=admin, reason="演示：红色风险及演示企业")
        deadline = timezone.localdate() + dt.timedelta(days=APPEAL_DAYS)
        # the yellow flags of other companies are not reviewed in the demo: the admin defers them
        # explicitly to the next round (publication refuses while flags are still 待审核)
        publish_notice(
            published.pk,
            user=admin,
            deadline=deadline,
            notice_text="请相关企业在申诉截止前按纠偏限价调整挂网价格，或提交申诉及证明材料。",
            defer_pending=True,
        )
        published.refresh_from_db()
    draft = _detected_round(version, price_set, DRAFT_TITLE, admin)
    return published, draft
