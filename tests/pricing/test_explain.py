"""explain_flag writes out the same numbers as the export, step by step."""

from decimal import Decimal
from types import SimpleNamespace

from pricing.engine.limits import Side, evaluate_pair, evaluate_reference
from pricing.review.explain import explain_flag
from tests.pricing.test_conversion import BANDS


def _flag(target: Side, bench_price: Decimal, bench_n: int, ev, **extra):
    return SimpleNamespace(
        target_price=target.price,
        target_unit_price=target.price / target.n,
        benchmark_price=bench_price,
        benchmark_unit_price=bench_price / bench_n,
        benchmark_converted=ev.converted,
        limit_price=ev.limit,
        ratio=ev.ratio,
        severity=ev.severity,
        factors=ev.factors,
        **extra,
    )


def test_explain_content_conversion():
    target = Side(Decimal("98.00"), 28, Decimal("10"))
    ev = evaluate_pair(
        kind="content",
        target=target,
        bench=Side(Decimal("35.00"), 7, Decimal("20")),
        unit="mg",
        k=Decimal("1.7"),
        k_pack=Decimal("2"),
        tolerance_abs=Decimal(0),
        tolerance_rel=Decimal(0),
        bands=BANDS,
    )
    steps = explain_flag(_flag(target, Decimal("35.00"), 7, ev))
    text = {s["label"]: s["value"] for s in steps}
    values = "\n".join(s["value"] for s in steps)
    assert "98.00 / 28 = 3.5000" in values
    assert "35.00 / 7 = 5.0000" in values
    assert "10mg / 20mg = 0.5" in values
    assert "log₂(0.5) = -1" in values
    assert "5.0000 × 0.58823529411764705882 = 2.9412" in values
    assert "35.00 × 1.7^-1 × 28 / 7 = 82.35" in values
    assert "98.00 / 82.35 = 1.1900" in values
    assert text["风险等级"].startswith("黄")


def test_explain_reference_flag_names_the_province():
    target = Side(Decimal("24.00"), 30)
    ev = evaluate_reference(
        target=target,
        min_price=Decimal("21.30"),
        province="广东",
        n_reference=None,
        tolerance_abs=Decimal(0),
        tolerance_rel=Decimal(0),
        bands=BANDS,
    )
    steps = explain_flag(_flag(target, Decimal("21.30"), 30, ev, benchmark_province="广东"))
    values = "\n".join(s["value"] for s in steps)
    assert "广东" in values
    assert "21.30 / 30 = 0.7100" in values
    assert "24.00 / 21.30 = 1.1268" in values
