"""`strip_values` skips the per-cell trim when a column holds no whitespace: it must equal the plain trim."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.ingest.validate import strip_values

# ASCII and Unicode whitespace `str.strip` removes (ideographic space, NBSP, NEL, the \x1c–\x1f separators)
_CHARS = st.sampled_from(list("ab药片 \t\n\u3000\xa0\x85\x1c\x1f\x00,"))
_CELL = st.text(_CHARS, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_CELL, _CELL.map(lambda s: s.replace(" ", "")), st.integers()), max_size=8))
def test_equals_the_per_cell_trim(cells):
    series = pd.Series(cells, index=range(10, 10 + len(cells)), dtype=object)
    out = strip_values(series)
    assert out.tolist() == [str(v).strip() for v in cells]
    assert all(type(v) is str for v in out)
    assert out.index.equals(series.index)
    assert out.dtype == object


def test_a_padded_catalogue_cell_is_trimmed_and_clean_columns_are_kept():
    assert strip_values(pd.Series(["阿莫西林", "\u3000头孢 ", "x"])).tolist() == ["阿莫西林", "头孢", "x"]
    assert strip_values(pd.Series(["A001", "A002"])).tolist() == ["A001", "A002"]
