"""The cyclic garbage collector paused while a bulk data command runs (import_catalogue,
import_reference_prices, detect).

These commands allocate millions of small objects (fetched rows, Decimals, flag dicts) that mostly
live until the command ends, and each of CPython's full collections re-traverses all of them: ≈ 8 % of
their CPU (detect on 200,000 listings: ≈ 0.4 s of 5.5 s). They make almost no cyclic garbage — the peak
RSS is the same with the collector off — and reference counting frees everything else as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
