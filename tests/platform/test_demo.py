"""`seed_demo` gives a newcomer something to do in every role."""

import pytest
from django.core.management import call_command

from accounts.models import User
from pricing.models import CorrectionRound, Flag, RoundStatus


@pytest.mark.django_db
def test_seed_demo_publishes_one_round_and_leaves_one_to_review(capsys, samples_dir):
    call_command("seed_demo", size=1500, seed=7)
    out = capsys.readouterr().out
    assert "Jiupian-Demo-2026" in out and "maker1" in out

    published = CorrectionRound.objects.get(status=RoundStatus.PUBLISHED)
    draft = CorrectionRound.objects.get(status=RoundStatus.DRAFT)
    assert published.appeal_deadline is not None and published.flag_count > 0
    assert draft.flag_count == published.flag_count

    maker1 = User.objects.get(username="maker1")
    assert Flag.objects.filter(round=published, manufacturer=maker1.company, status="confirmed").exists()
    sample_flag = Flag.objects.get(round=draft, listing__listing_code="HN0001", rule_code="TIER_UNEVALUATED")
    assert str(sample_flag.limit_price) == "30.96"

    call_command("seed_demo", size=1500, seed=7)  # idempotent
    assert CorrectionRound.objects.count() == 2
