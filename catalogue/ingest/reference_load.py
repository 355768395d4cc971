"""Storing reference prices (省际挂网价): one COPY on PostgreSQL, one multi-row INSERT executemany elsewhere.

Called inside the caller's transaction (the price set and its rows appear together). No model
instances: 120,000 rows through `bulk_create` cost ≈ 15 s; the same rows as one COPY text block
≈ 1 s. The stored values are the ones `bulk_create` wrote (prices as 4-decimal numbers, NULL
pack sizes, "" for blank text).
"""

from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection

from catalogue.models import ReferencePrice

from .load import csv_field_column
from .multirow import insert_columns
from .normalise import map_unique

# the frame's columns (catalogue.ingest.pipeline.prepare_reference), in the order they are written
REFERENCE_FIELDS = (
    "row_number",
    "province",
    "nhsa_code",
    "generic_name",
    "generic_name_norm",
    "dosage_form",
    "form_group",
    "strength",
    "strength_norm",
    "pack_quantity",
    "manufacturer_name",
    "manufacturer_norm",
    "listed_price",
)
_PRICE = ReferencePrice._meta.get_field("listed_price")


def store_reference_prices(price_set_id: int, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` for `price_set_id`; returns the count. Needs the caller's transaction."""
    if frame.empty:
        return 0
    table = ReferencePrice._meta.db_table
    fields = (*REFERENCE_FIELDS, "price_set_id")
    if connection.vendor == "postgresql":
        cells = [csv_field_column(_column(frame, f, text=True)) for f in REFERENCE_FIELDS]
        cells.append(np.full(len(frame), str(price_set_id), dtype=object))
        text = "\n".join(map(",".join, zip(*cells, strict=True)))
        names = ", ".join(fields)
        with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(text)
        return len(frame)
    columns = [_column(frame, f, text=False) for f in REFERENCE_FIELDS]
    columns[-1] = map_unique(frame["listed_price"], _db_price)
    columns.append(np.full(len(frame), price_set_id, dtype=object))
    with connection.cursor() as cur:
        insert_columns(cur, table, fields, columns)
    return len(frame)


def _column(frame: pd.DataFrame, field: str, *, text: bool) -> np.ndarray:
    """A column as Python values; the integer columns as ints (or their text for COPY), None as NULL."""
    values = frame[field].to_numpy(dtype=object)
    if field not in ("row_number", "pack_quantity"):
        return values
    convert = str if text else int
    return np.array([None if v is None or v != v else convert(int(v)) for v in values], dtype=object)


def _db_price(text: str) -> object:
    """What `bulk_create` sends the driver for this price (DecimalField's own conversion).

    On SQLite that conversion returns the Decimal itself (`adapt_decimalfield_value` is the identity) and
    the driver's Decimal adapter binds `str(value)`; binding that text directly skips the field's
    conversion chain per distinct price and the adapter call per row (the same bound text)."""
    if connection.vendor == "sqlite":
        return str(Decimal(text))
    return _PRICE.get_db_prep_save(Decimal(text), connection)
