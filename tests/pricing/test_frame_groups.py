"""The fast group numbering and code ranks of pricing.engine.frame equal the pandas/numpy originals."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine.frame import code_rank, group_ids

TEXT = st.sampled_from(["阿莫西林", "头孢", "片剂", "注射剂", "", "A", "a", "B\u00e9"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, st.integers(0, 3)), min_size=0, max_size=40))
def test_group_ids_number_groups_as_ngroup_does(rows):
    df = pd.DataFrame(rows, columns=["generic", "form_group", "kind"])
    expected = df.groupby(["generic", "form_group"], sort=False).ngroup().to_numpy()
    assert group_ids(df["generic"], df["form_group"]).tolist() == expected.tolist()
    three = df.groupby(["generic", "form_group", "kind"], sort=False).ngroup().to_numpy()
    assert group_ids(df["generic"], df["form_group"], df["kind"]).tolist() == three.tolist()


def test_group_ids_leave_rows_with_a_missing_key_out_as_groupby_does():
    df = pd.DataFrame({"a": ["x", None, "y", "x"], "b": ["1", "1", None, "1"]})
    expected = df.groupby(["a", "b"], sort=False).ngroup()
    got = group_ids(df["a"], df["b"])
    assert pd.Series(got).equals(expected.reset_index(drop=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="AB90é挂\u0000", max_size=4), max_size=30), st.booleans())
def test_code_rank_is_the_rank_numpy_gives(codes, sort_first):
    if sort_first:
        codes = sorted(set(codes))  # how listings arrive: ascending, each code once
    series = pd.Series(codes, dtype=object)
    expected = np.unique(series.to_numpy(dtype=str), return_inverse=True)[1].astype(np.int64)
    assert code_rank(series).tolist() == expected.tolist()
