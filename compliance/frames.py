"""Database → the pure frames of compliance.matching / compliance.classify (reads only)."""

from __future__ import annotations

import pandas as pd

from catalogue.models import Listing
from compliance.matching import LISTING_COLUMNS
from pricing.review.binding import BindingLimit

_FIELDS = [
    "id",
    "listing_code",
    "nhsa_code",
    "generic_name_norm",
    "form_group",
    "strength_norm",
    "pack_quantity",
    "manufacturer_id",
    "listed_price",
    "is_active",
    "content_value",
    "content_unit",
    "volume_ml",
]


def listing_frame(version_id: int) -> pd.DataFrame:
    """Every listing of a catalogue version, one row each, with the matching frame's columns."""
    rows = Listing.objects.filter(version_id=version_id).order_by().values_list(*_FIELDS)
    df = pd.DataFrame(list(rows.iterator(chunk_size=20_000)), columns=LISTING_COLUMNS)
    for col in ("code", "nhsa"):
        df[col] = df[col].fillna("").astype(str).str.strip()
    df["n"] = df["n"].astype("int64")
    df["active"] = df["active"].astype(bool)
    df["unit"] = df["unit"].fillna("")
    return df


def binding_frame(limits: dict[int, BindingLimit]) -> pd.DataFrame:
    """listing_id, limit (Decimal) and the distinct rule codes behind it."""
    return pd.DataFrame(
        [(b.listing_id, b.limit, sorted({r.rule_code for r in b.reasons})) for b in limits.values()],
        columns=["listing_id", "limit", "rules"],
    )
