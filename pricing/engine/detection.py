"""Detection (纠偏计算): load a catalogue version as a DataFrame, run the rules, store the flags.

Reads listings with `values_list` (no model instances), re-derives 剂型组/tier class through the
round's rule set, runs the enabled rules (pricing.engine.rules) and bulk-inserts the flags through
pricing.engine.flag_store (COPY on PostgreSQL, multi-row INSERTs elsewhere). The caller
(pricing.engine.rounds.run_detection) owns transactions.
"""

from __future__ import annotations

import functools
import heapq
import io
import logging
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from operator import itemgetter

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Sum

from catalogue.ingest.normalise import map_unique
from catalogue.models import CatalogueVersion, Listing, Manufacturer, ReferencePrice
from catalogue.specs import normalise_text
from pricing.engine import parallel
from pricing.engine.corrections import annotate, apply_corrections, corrections_for
from pricing.engine.flag_store import RULE_CODE, EncodedFlag, check_manufacturers, insert_encoded, row_encoder
from pricing.engine.frame import LISTING_COLUMNS, REFERENCE_COLUMNS, prepare, prepare_references
from pricing.engine.rules import concat_flags, four_same, run_rules, run_split
from pricing.engine.ruleset import RuleParams

log = logging.getLogger(__name__)

_LISTING_FIELDS = [
    ("id", "id"),
    ("code", "listing_code"),
    ("nhsa", "nhsa_code"),
    ("generic", "generic_name_norm"),
    ("dosage_form", "dosage_form"),
    ("spec", "strength_norm"),
    ("content", "content_value"),
    ("unit", "content_unit"),
    ("volume", "volume_ml"),
    ("n", "pack_quantity"),
    ("maker", "manufacturer__name_norm"),
    ("tier", "quality_tier"),
    ("tier_class", "tier_class"),
    ("vbp", "vbp_selected"),
    ("price", "listed_price"),
    ("active", "is_active"),
    ("maker_id", "manufacturer_id"),
    ("generic_name", "generic_name"),
]


def load_listings(catalogue_version_id: int, params: RuleParams) -> pd.DataFrame:
    """The version's listings as the rules' input frame (pricing.frame.LISTING_COLUMNS + ids)."""
    if connection.vendor == "postgresql":
        df = _copy_frame(catalogue_version_id)
    else:
        # no JOIN: the manufacturers' normalised names are mapped from their ids (a few thousand), as
        # for COPY, instead of being looked up and decoded once per listing
        names = [c for c in _LISTING_NAMES if c != "maker"]
        fields = [f for c, f in _LISTING_FIELDS if c != "maker"]
        df = _raw_frame(Listing.objects.filter(version_id=catalogue_version_id).values_list(*fields), names)
        df["maker"] = _maker_names(df["maker_id"])
        df = df[_LISTING_NAMES]
    if df.empty:
        return pd.DataFrame(columns=_LISTING_NAMES)
    # tier class through the round's rule set (aliases → canonical tier → class); stored one as fallback
    tiers = {t: params.tier_aliases.get(normalise_text(t), normalise_text(t)) for t in df["tier"].unique()}
    canonical = df["tier"].map(tiers)
    df["tier_class"] = canonical.map(params.tier_classes).fillna(df["tier_class"])
    df["content"] = map_unique(df["content"], _clean_decimal)
    df["volume"] = map_unique(df["volume"], _clean_decimal)
    df["unit"] = df["unit"].fillna("")
    df["nhsa"] = df["nhsa"].fillna("")
    assert set(LISTING_COLUMNS) <= set(df.columns)
    return df


_LISTING_NAMES = [c for c, _ in _LISTING_FIELDS]
_INT_COLUMNS = ("id", "n", "maker_id")
_BOOL_COLUMNS = ("vbp", "active")
_DECIMAL_COLUMNS = ("content", "volume", "price")  # `content`/`volume` are the only nullable columns


def _copy_frame(catalogue_version_id: int) -> pd.DataFrame:
    """The version's listings read with COPY … TO STDOUT (CSV) and parsed by pandas' C reader.

    Several times faster than fetching 10⁶ rows through a cursor. Same frame as `from_records`
    over the ORM query: int/bool columns typed, text columns as text (none is nullable), the
    numeric columns as exact Decimals parsed from PostgreSQL's own text output (once per distinct
    value), NULL → None, rows in 挂网编号 order. No ORDER BY (PostgreSQL would sort the wide rows
    on disk; numpy sorts the codes by code point, as the C collation does) and no JOIN (the
    manufacturers' unique normalised names are mapped from their ids).
    """
    names = [c for c in _LISTING_NAMES if c != "maker"]
    fields = [f for c, f in _LISTING_FIELDS if c != "maker"]
    qs = Listing.objects.filter(version_id=catalogue_version_id).values_list(*fields).order_by()
    sql, sql_params = qs.query.sql_with_params()
    buf = io.BytesIO()
    with connection.cursor() as cur, cur.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", sql_params) as copy:
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():
        return pd.DataFrame(columns=_LISTING_NAMES)
    buf.seek(0)
    df = pd.read_csv(
        buf,
        header=None,
        names=names,
        dtype={c: (np.int64 if c in _INT_COLUMNS else str) for c in names},
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8",
    )
    df["maker"] = _maker_names(df["maker_id"])
    df = df[_LISTING_NAMES]
    order = np.argsort(df["code"].to_numpy(dtype=str), kind="stable")
    df = df.take(order).reset_index(drop=True)
    for col in _BOOL_COLUMNS:
        df[col] = (df[col] == "t").to_numpy()
    for col in _DECIMAL_COLUMNS:
        df[col] = map_unique(df[col], lambda text: Decimal(text) if text != "" else None)
    return df


def _maker_names(maker_ids: pd.Series) -> pd.Series:
    """Each listing's manufacturer `name_norm` (text, as the JOIN reads it), from the distinct ids."""
    ids = pd.unique(maker_ids).tolist()
    makers = dict(Manufacturer.objects.filter(pk__in=ids).values_list("id", "name_norm"))
    return maker_ids.map(makers).astype(str)


def _clean_decimal(value: Decimal | None) -> Decimal | None:
    if value is None or value != value:  # None / NaN
        return None
    d = Decimal(value).normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


_REFERENCE_FIELDS = [
    ("id", "id"),
    ("province", "province"),
    ("nhsa", "nhsa_code"),
    ("generic", "generic_name_norm"),
    ("dosage_form", "dosage_form"),
    ("spec", "strength_norm"),
    ("n", "pack_quantity"),
    ("maker", "manufacturer_norm"),
    ("price", "listed_price"),
    ("maker_name", "manufacturer_name"),
    ("strength", "strength"),
]


def load_references(reference_set_id: int | None, params: RuleParams) -> pd.DataFrame | None:
    """The reference set's rows (pricing.frame.REFERENCE_COLUMNS + names), in row order: COPY on PostgreSQL."""
    if reference_set_id is None:
        return None
    names = [c for c, _ in _REFERENCE_FIELDS]
    qs = ReferencePrice.objects.filter(price_set_id=reference_set_id).values_list(*(f for _, f in _REFERENCE_FIELDS))
    if connection.vendor == "postgresql":
        df = _copy_query(qs, names, int_columns=("id",))
        # pack size: NULL → None (0 below); price: exact Decimal per distinct text
        df["n"] = map_unique(df["n"], lambda text: int(text) if text != "" else None)
        df["price"] = map_unique(df["price"], Decimal)
    else:
        df = _raw_frame(qs, names)
    for col in ("nhsa", "generic", "spec", "maker", "province", "dosage_form"):
        df[col] = map_unique(df[col].fillna(""), normalise_text)
    assert set(REFERENCE_COLUMNS) <= set(df.columns)
    return prepare_references(df, params)


def _start_reference_load(
    catalogue_version_id: int, reference_set_id: int | None, params: RuleParams
) -> parallel.Pending[pd.DataFrame] | None:
    """The reference prices the 四同 rule needs, loaded beside the listings: for a large catalogue in a
    forked child with its own database connection (pricing.engine.parallel), otherwise on demand here."""
    if reference_set_id is None or four_same.CODE not in params.rules_enabled:
        return None
    job = functools.partial(load_references, reference_set_id, params)
    size = CatalogueVersion.objects.filter(pk=catalogue_version_id).values_list("row_count", flat=True).first()
    if parallel.worthwhile(size or 0):
        return parallel.start(job, fresh_database=True)
    return parallel.Pending(job, None, None)


def _loaded_references(
    pending: parallel.Pending[pd.DataFrame], reference_set_id: int, params: RuleParams
) -> pd.DataFrame:
    """The references from `pending`, checked against this connection's own view when a child read them:
    the child sees only committed rows; if this transaction sees other ones (another count or id sum),
    they are read again here."""
    refs = pending.result()
    if not pending.from_child:
        return refs
    seen = ReferencePrice.objects.filter(price_set_id=reference_set_id).aggregate(n=Count("id"), ids=Sum("id"))
    if len(refs) == seen["n"] and int(refs["id"].sum()) == (seen["ids"] or 0):
        return refs
    log.warning("reference set %s: the child saw other rows than this transaction; read again here", reference_set_id)
    return load_references(reference_set_id, params)


def _raw_frame(qs, names: list[str]) -> pd.DataFrame:
    """A values_list query as a frame, equal to `from_records(qs)`: the same SQL run on the raw cursor,
    then the ORM's converters (Decimal quantizing, booleans, …) applied once per DISTINCT value of
    each column instead of once per cell (the per-cell converters were most of the load on SQLite)."""
    compiler = qs.query.get_compiler(using=qs.db)
    sql, sql_params = compiler.as_sql()
    converters = compiler.get_converters([expr for expr, _sql, _alias in compiler.select])
    with connection.cursor() as cur:
        cur.execute(sql, sql_params)
        df = pd.DataFrame.from_records(_fetch_rows(cur), columns=names)
    for position, (functions, expr) in converters.items():

        def convert(value: object, functions: list = functions, expr: object = expr) -> object:
            for function in functions:
                value = function(value, expr, connection)
            return value

        df[names[position]] = pd.Series(map_unique(df[names[position]], convert), index=df.index).infer_objects()
    return df


def _fetch_rows(cur, size: int = 20_000) -> Iterator[tuple]:
    while rows := cur.fetchmany(size):
        yield from rows


def _copy_query(qs, names: list[str], *, int_columns: tuple[str, ...]) -> pd.DataFrame:
    """A values_list query read with COPY … TO STDOUT (CSV) by pandas' C reader, all text except
    `int_columns` (NULL and "" both read as "")."""
    sql, sql_params = qs.query.sql_with_params()
    buf = io.BytesIO()
    with connection.cursor() as cur, cur.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", sql_params) as copy:
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in int_columns else object) for c in names})
    buf.seek(0)
    return pd.read_csv(
        buf,
        header=None,
        names=names,
        dtype={c: (np.int64 if c in int_columns else str) for c in names},
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8",
    )


def compute_flags(listings: pd.DataFrame, refs: pd.DataFrame | None, params: RuleParams) -> pd.DataFrame:
    """Prepared listings + references → candidate flags (pricing.benchmark.FLAG_COLUMNS)."""
    if listings.empty:
        return pd.DataFrame()
    return run_rules(listings, refs, params)


def flag_rows(
    round_id: int,
    listings: pd.DataFrame,
    refs: pd.DataFrame | None,
    flags: pd.DataFrame,
    rule_set_version: int,
) -> Iterator[dict]:
    """One dict per Flag, ordered deterministically (rule, target code)."""
    if flags.empty:
        return
    col = {c: listings[c].tolist() for c in ("id", "code", "price", "n", "maker_id", "generic_name", "form_group")}
    if refs is not None:
        ref_pos = {label: i for i, label in enumerate(refs.index.tolist())}
        ref_col = {c: refs[c].tolist() for c in ("id", "price", "n")}
    codes = [col["code"][t] for t in flags["target"].tolist()]
    rules = flags["rule_code"].tolist()
    order = sorted(range(len(flags)), key=lambda i: (rules[i], codes[i]))
    targets, benches, references = flags["target"].tolist(), flags["bench"].tolist(), flags["reference"].tolist()
    provinces, evaluations = flags["province"].tolist(), flags["evaluation"].tolist()
    for i in order:
        t, ev = targets[i], evaluations[i]
        price, n = col["price"][t], int(col["n"][t])
        if benches[i] is None or benches[i] != benches[i]:  # 四同: a reference row
            r = ref_pos[references[i]]
            bench_price = ref_col["price"][r]
            bench_unit = _unit10(bench_price, int(ref_col["n"][r]) or n)
            bench_listing_id, bench_ref_id, province = None, int(ref_col["id"][r]), provinces[i]
        else:
            b = int(benches[i])
            bench_price = col["price"][b]
            bench_unit = _unit10(bench_price, int(col["n"][b]))
            bench_listing_id, bench_ref_id, province = int(col["id"][b]), None, ""
        yield {
            "round_id": round_id,
            "listing_id": int(col["id"][t]),
            "rule_code": rules[i],
            "manufacturer_id": int(col["maker_id"][t]),
            "generic_name": col["generic_name"][t],
            "form_group": col["form_group"][t],
            "benchmark_listing_id": bench_listing_id,
            "benchmark_reference_id": bench_ref_id,
            "benchmark_province": province,
            "target_price": price,
            "target_unit_price": _unit10(price, n),
            "benchmark_price": bench_price,
            "benchmark_unit_price": bench_unit,
            "benchmark_converted": ev.converted,
            "factors": ev.factors,
            "ratio": ev.ratio,
            "severity": ev.severity,
            "limit_price": ev.limit,
            "overcharge": (price - ev.limit).quantize(CENT, rounding=ROUND_HALF_UP),
            "rule_set_version": rule_set_version,
        }


_TEN = Decimal("1E-10")
CENT = Decimal("0.01")


@lru_cache(maxsize=200_000)  # prices and pack sizes repeat across flags
def _unit10(price: Decimal, n: int) -> Decimal:
    """P / n half-up to 10 decimals (50 significant digits first: no double rounding in practice)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return (price / n).quantize(_TEN, rounding=ROUND_HALF_UP)


def flag_values(
    round_id: int, listings: pd.DataFrame, refs: pd.DataFrame | None, notes: dict[int, list[str]], params: RuleParams
) -> Iterator[EncodedFlag]:
    """Every flag of the round, encoded for this database (pricing.engine.flag_store), in (rule, listing
    code) order — the order flag_rows gives all flags at once.

    On a large catalogue the 四同 rule AND the encoding of its flags (three flags in four at province
    scale) run in a forked child beside the listing rules (pricing.engine.parallel). The child sends back
    encoded rows — ints, text and None, which load about ten times faster than the rule's own frame of
    Decimals and Fractions. Same values in the same order either way; each rule's flags are already in
    listing-code order, so the two streams are merged on the rule code alone."""
    encode = row_encoder(connection.vendor)

    def encoded(flags: pd.DataFrame, refs: pd.DataFrame | None) -> list[EncodedFlag]:
        return [encode(row) for row in annotate(flag_rows(round_id, listings, refs, flags, params.version), notes)]

    rows, national = run_split(  # the listing rules' flags (no references needed) encoded while 四同 runs
        listings,
        refs,
        params,
        then=lambda flags: encoded(flags, refs),
        here=lambda found: encoded(concat_flags(found, params), None),
    )
    if national is None:
        return iter(rows)
    return heapq.merge(national, rows, key=itemgetter(RULE_CODE))


def detect(
    *,
    round_id: int,
    catalogue_version_id: int,
    reference_set_id: int | None,
    params: RuleParams,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Compute and insert the round's flags (caller deleted old ones in the same transaction)."""
    step = progress or (lambda _p: None)
    references = _start_reference_load(catalogue_version_id, reference_set_id, params)
    try:
        listings = load_listings(catalogue_version_id, params)
        step(20)
        if listings.empty:
            return 0
        listings, notes = apply_corrections(listings, corrections_for(catalogue_version_id), params)  # 人工修正
        listings = prepare(listings, params)
        refs = _loaded_references(references, reference_set_id, params) if references is not None else None
    finally:
        if references is not None:
            references.cancel()  # the child of an early return or a failure; a no-op once its result was read
    step(35)
    values = flag_values(round_id, listings, refs, notes, params)
    step(70)
    count = insert_encoded(values)
    check_manufacturers(round_id)
    return count
