"""Stored overview aggregates (批次概览统计) and the triggers that keep them exact.

CorrectionRound.flags_version is bumped by triggers on every INSERT, UPDATE or DELETE of pricing_flag,
whatever code makes the change. An UPDATE (a decision, a bulk decision, an appeal, publication, the
admin, raw SQL) also applies its exact delta to RoundMakerStat / RoundShapeStat and keeps
stats_version equal to flags_version; an INSERT or DELETE (detection) only bumps flags_version, and
pricing.review.round_stats rebuilds the aggregates from the flags when the versions differ.
PostgreSQL: statement-level triggers over the transition tables (one pass per statement however many
flags it touched). SQLite: row-level triggers (it has no statement-level ones).
"""

import django.db.models.deletion
from django.db import migrations, models


# frozen copy of pricing.review.selectors.RATIO_EDGES (tests/review/test_round_stats.py checks they agree)
RATIO_EDGES = [
    "1", "1.3335", "1.7783", "2.3714", "3.1623", "4.217", "5.6234", "7.4989", "10", "13.3352", "17.7828",
    "23.7137", "31.6228", "42.1697", "56.2341", "74.9894", "100", "133.3521", "177.8279", "237.1374",
    "316.2278", "421.6965", "562.3413", "749.8942", "1000",
]  # fmt: skip


def ratio_bin_sql(row: str, edges: list[str]) -> str:
    cases = " ".join(f"WHEN {row}.ratio >= {edges[i]} THEN {i}" for i in range(len(edges) - 1, 0, -1))
    return f"CASE {cases} ELSE 0 END"


def amount_sql(row: str, vendor: str) -> str:
    diff = f"({row}.target_price - COALESCE({row}.adjusted_limit_price, {row}.limit_price)) * 10000"
    return f"round({diff})::bigint" if vendor == "postgresql" else f"CAST(ROUND({diff}) AS INTEGER)"


BUMP_KEEPING_STATS = (
    "UPDATE pricing_correctionround SET flags_version = flags_version + 1, stats_version = "
    "CASE WHEN stats_version = flags_version THEN stats_version + 1 ELSE stats_version END"
)
MAKER_UPSERT = (
    "ON CONFLICT (round_id, manufacturer_id, status) DO UPDATE SET "
    "n = pricing_roundmakerstat.n + excluded.n, amount_e4 = pricing_roundmakerstat.amount_e4 + excluded.amount_e4"
)
SHAPE_UPSERT = (
    "ON CONFLICT (round_id, rule_code, severity, ratio_bin) DO UPDATE SET n = pricing_roundshapestat.n + excluded.n"
)


def postgres_sql() -> list[str]:
    amount_o, amount_n = amount_sql("o", "postgresql"), amount_sql("n", "postgresql")
    bin_o, bin_n = ratio_bin_sql("o", RATIO_EDGES), ratio_bin_sql("n", RATIO_EDGES)
    valid = "JOIN pricing_correctionround r ON r.id = d.round_id AND r.stats_version = r.flags_version"
    return [
        """
CREATE OR REPLACE FUNCTION pricing_flag_invalidate_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE pricing_correctionround SET flags_version = flags_version + 1
         WHERE id IN (SELECT DISTINCT round_id FROM changed_old);
    ELSE
        UPDATE pricing_correctionround SET flags_version = flags_version + 1
         WHERE id IN (SELECT DISTINCT round_id FROM changed_new);
    END IF;
    RETURN NULL;
END
$$;""",
        f"""
CREATE OR REPLACE FUNCTION pricing_flag_apply_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {BUMP_KEEPING_STATS}
     WHERE id IN (SELECT round_id FROM changed_old UNION SELECT round_id FROM changed_new);
    INSERT INTO pricing_roundmakerstat (round_id, manufacturer_id, status, n, amount_e4)
    SELECT d.round_id, d.manufacturer_id, d.status, sum(d.dn), sum(d.da) FROM (
        SELECT o.round_id, o.manufacturer_id, o.status, -1 AS dn, -{amount_o} AS da FROM changed_old o
        UNION ALL
        SELECT n.round_id, n.manufacturer_id, n.status, 1, {amount_n} FROM changed_new n
    ) d {valid}
    GROUP BY d.round_id, d.manufacturer_id, d.status
    {MAKER_UPSERT};
    INSERT INTO pricing_roundshapestat (round_id, rule_code, severity, ratio_bin, n)
    SELECT d.round_id, d.rule_code, d.severity, d.ratio_bin, sum(d.dn) FROM (
        SELECT o.round_id, o.rule_code, o.severity, {bin_o} AS ratio_bin, -1 AS dn FROM changed_old o
        UNION ALL
        SELECT n.round_id, n.rule_code, n.severity, {bin_n}, 1 FROM changed_new n
    ) d {valid}
    GROUP BY d.round_id, d.rule_code, d.severity, d.ratio_bin
    {SHAPE_UPSERT};
    RETURN NULL;
END
$$;""",
        "CREATE TRIGGER pricing_flag_stats_insert AFTER INSERT ON pricing_flag REFERENCING NEW TABLE AS changed_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_invalidate_stats();",
        "CREATE TRIGGER pricing_flag_stats_delete AFTER DELETE ON pricing_flag REFERENCING OLD TABLE AS changed_old "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_invalidate_stats();",
        "CREATE TRIGGER pricing_flag_stats_update AFTER UPDATE ON pricing_flag "
        "REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_apply_stats();",
    ]


def sqlite_sql() -> list[str]:
    def deltas(row: str, sign: str) -> str:
        valid = f"FROM pricing_correctionround r WHERE r.id = {row}.round_id AND r.stats_version = r.flags_version"
        return (
            f"INSERT INTO pricing_roundmakerstat (round_id, manufacturer_id, status, n, amount_e4) "
            f"SELECT {row}.round_id, {row}.manufacturer_id, {row}.status, {sign}1, {sign}{amount_sql(row, 'sqlite')} "
            f"{valid} {MAKER_UPSERT}; "
            f"INSERT INTO pricing_roundshapestat (round_id, rule_code, severity, ratio_bin, n) "
            f"SELECT {row}.round_id, {row}.rule_code, {row}.severity, {ratio_bin_sql(row, RATIO_EDGES)}, {sign}1 "
            f"{valid} {SHAPE_UPSERT}; "
        )

    return [
        "CREATE TRIGGER pricing_flag_stats_insert AFTER INSERT ON pricing_flag FOR EACH ROW BEGIN "
        "UPDATE pricing_correctionround SET flags_version = flags_version + 1 WHERE id = NEW.round_id; END;",
        "CREATE TRIGGER pricing_flag_stats_delete AFTER DELETE ON pricing_flag FOR EACH ROW BEGIN "
        "UPDATE pricing_correctionround SET flags_version = flags_version + 1 WHERE id = OLD.round_id; END;",
        "CREATE TRIGGER pricing_flag_stats_update AFTER UPDATE ON pricing_flag FOR EACH ROW BEGIN "
        f"{BUMP_KEEPING_STATS} WHERE id = OLD.round_id OR id = NEW.round_id; "
        + deltas("OLD", "-")
        + deltas("NEW", "")
        + "END;",
    ]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = postgres_sql()
    elif vendor == "sqlite":
        statements = sqlite_sql()
    else:  # pragma: no cover - the app supports these two databases
        raise NotImplementedError(f"overview statistics triggers for {vendor}")
    for statement in statements:
        schema_editor.execute(statement)
    # rounds detected before this migration: no stored aggregates yet → built on first view
    schema_editor.execute(
        "UPDATE pricing_correctionround SET flags_version = flags_version + 1 "
        "WHERE id IN (SELECT DISTINCT round_id FROM pricing_flag)"
    )


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for event in ("insert", "delete", "update"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS pricing_flag_stats_{event}{' ON pricing_flag' if postgres else ''}")
    if postgres:
        schema_editor.execute("DROP FUNCTION IF EXISTS pricing_flag_invalidate_stats()")
        schema_editor.execute("DROP FUNCTION IF EXISTS pricing_flag_apply_stats()")


class Migration(migrations.Migration):

    dependencies = [
        ('pricing', '0002_default_rule_set'),
    ]

    operations = [
        migrations.AddField(
            model_name='correctionround',
            name='flags_version',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='correctionround',
            name='stats_version',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.CreateModel(
            name='RoundMakerStat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('manufacturer_id', models.BigIntegerField()),
                ('status', models.CharField(max_length=20)),
                ('n', models.BigIntegerField(default=0)),
                ('amount_e4', models.BigIntegerField(default=0)),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='pricing.correctionround')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('round', 'manufacturer_id', 'status'), name='round_maker_stat_unique')],
            },
        ),
        migrations.CreateModel(
            name='RoundShapeStat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rule_code', models.CharField(max_length=40)),
                ('severity', models.CharField(max_length=20)),
                ('ratio_bin', models.SmallIntegerField()),
                ('n', models.BigIntegerField(default=0)),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='pricing.correctionround')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('round', 'rule_code', 'severity', 'ratio_bin'), name='round_shape_stat_unique')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
