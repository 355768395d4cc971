"""四同's pair finding merges on one integer product key (four_same._product_keys) instead of the five
text columns: the pairs must be exactly those of the plain multi-column merge."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine.rules.four_same import TUPLE, matches

_ROW = st.fixed_dictionaries(
    {
        "generic": st.sampled_from(["阿莫西林", "头孢", ""]),
        "form_group": st.sampled_from(["片剂", "注射剂"]),
        "spec": st.sampled_from(["0.25g", "0.5g", "5ml:1g"]),
        "n": st.integers(1, 3),
        "maker": st.sampled_from(["甲药业", "乙制药"]),
        "nhsa": st.sampled_from(["", "", "X01", "X02"]),
    }
)


def _frame(rows: list[dict], start: int, price: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*TUPLE, "nhsa"], index=range(start, start + len(rows)))
    frame["n"] = frame["n"].astype("int64")
    if price:
        frame["price_f"] = 1.0
    return frame


def _merged(targets: pd.DataFrame, refs: pd.DataFrame) -> set[tuple[int, int]]:
    """The pairs as the five-column merge found them before."""
    t = targets[TUPLE + ["nhsa"]].reset_index(names="target")
    r = refs[TUPLE + ["nhsa"]].reset_index(names="ref")
    by_code = t[t["nhsa"] != ""].merge(r[r["nhsa"] != ""], on="nhsa", suffixes=("", "_r"))
    by_tuple = t.merge(r, on=TUPLE, suffixes=("", "_r"))
    by_tuple = by_tuple[(by_tuple["nhsa"] == "") | (by_tuple["nhsa_r"] == "")]
    return {(int(a), int(b)) for a, b in zip([*by_code["target"], *by_tuple["target"]],
                                                 [*by_code["ref"], *by_tuple["ref"]], strict=True)}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_ROW, max_size=12), st.lists(_ROW, max_size=12))
def test_product_key_merge_finds_the_same_pairs(target_rows, ref_rows):
    targets, refs = _frame(target_rows, 100, False), _frame(ref_rows, 7, True)
    pairs = matches(targets, refs)
    found = [(int(a), int(b)) for a, b in zip(pairs["target"], pairs["ref"], strict=True)]
    assert len(found) == len(set(found))  # no duplicates
    assert set(found) == _merged(targets, refs)
