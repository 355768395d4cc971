"""The stored limit, the explained limit and the comparison page agree for every flag.

Detection stores L_t and u_b→t (pricing.engine.limits.evaluate_pair); the explanation shows the
inputs of that arithmetic (the flag's `factors`) and the flag page converts every listing of the
group to the target's spec (pricing.review.selectors.comparison_group). All three go through the
one formula (pricing.engine.conversion.conversion_factor + limit_parts); this test recomputes each
flag of the sample and of a generated province from what the reviewer is shown and demands the
stored numbers exactly.
"""

from decimal import Decimal
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import call_command

from catalogue import services
from catalogue.demo_data import generate_catalogue, write_frame
from pricing.engine.conversion import conversion_factor, limit_parts, round_half_up
from pricing.models import Flag
from pricing.review.explain import explain_flag
from pricing.review.selectors import comparison_group


def _detect(catalogue_path, reference_path) -> int:
    version = services.import_catalogue(catalogue_path, province="湖南", label="agreement")
    services.import_reference_prices(reference_path, label="agreement")
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    return int(out.getvalue().strip().splitlines()[-1])


def _fraction(text: str) -> Fraction | None:
    return Fraction(text) if text not in ("", None) else None


def _explained(flag: Flag) -> tuple[Decimal, Decimal]:
    """(u_b→t at 10 decimals, L_t) recomputed from the explanation's inputs (the factors JSON)."""
    f = flag.factors
    if f["kind"] == "reference":
        return round_half_up(Fraction(flag.benchmark_price) / f["n_target"], 10), round_half_up(
            Fraction(flag.benchmark_price), 2
        )
    factor = conversion_factor(
        k=_fraction(f["k"]),
        q_target=_fraction(f["q_target"]),
        q_bench=_fraction(f["q_bench"]),
        k_pack=Fraction(f["k_pack"]),
        n_target=f["n_target"],
        n_bench=f["n_bench"],
    )
    converted, _exact, cents = limit_parts(flag.benchmark_price, f["n_bench"], f["n_target"], factor)
    return converted, Decimal(cents).scaleb(-2)


def _assert_all_agree(round_id: int) -> int:
    flags = list(
        Flag.objects.filter(round_id=round_id).select_related("listing", "round__rule_set", "benchmark_listing")
    )
    checked_pages = 0
    for flag in flags:
        converted, limit = _explained(flag)
        assert (converted, limit) == (flag.benchmark_converted, flag.limit_price), flag.listing.listing_code
        steps = {s["label"]: s["value"] for s in explain_flag(flag)}
        shown = [v.split(" = ")[-1] for k, v in steps.items() if k.startswith("纠偏限价")]
        assert shown == [str(flag.limit_price)], steps
        if flag.benchmark_listing_id is None:
            continue
        assert flag.factors["n_bench"] == flag.benchmark_listing.pack_quantity
        assert flag.factors["n_target"] == flag.listing.pack_quantity
        bench_rows = [r for r in comparison_group(flag) if r["is_benchmark"]]
        if bench_rows:  # the page lists the first 500 listings of a group, cheapest first
            assert bench_rows[0]["converted"] == round_half_up(flag.benchmark_converted, 4), flag.listing.listing_code
            checked_pages += 1
    return checked_pages


@pytest.mark.django_db
def test_every_sample_flag_agrees_with_its_explanation_and_page(samples_dir):
    round_id = _detect(samples_dir / "catalogue_sample.csv", samples_dir / "reference_prices_sample.csv")
    assert Flag.objects.filter(round_id=round_id).count() == 13
    assert _assert_all_agree(round_id) >= 10


@pytest.mark.django_db
def test_every_flag_of_a_generated_province_agrees(tmp_path):
    files = generate_catalogue(3000, seed=15)
    round_id = _detect(
        write_frame(files.catalogue, tmp_path / "catalogue.csv"), write_frame(files.reference, tmp_path / "ref.csv")
    )
    kinds = set(Flag.objects.filter(round_id=round_id).values_list("factors__kind", flat=True))
    assert {"content", "identical", "reference"} <= kinds, kinds
    flags = Flag.objects.filter(round_id=round_id).count()
    assert flags >= 100
    assert _assert_all_agree(round_id) >= flags // 2
