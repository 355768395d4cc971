"""CorrectionRound.flags_version and the triggers that bump it on every change to a round's flags.

The round overview caches its aggregates under this version (pricing.review.round_stats), so a
count can never be stale after a decision, whatever code made the change. PostgreSQL: one
statement-level trigger per event over the transition table (one UPDATE per statement, however
many flags it touched). SQLite: row-level triggers (it has no statement-level ones).
"""

from django.db import migrations, models

EVENTS = ("INSERT", "UPDATE", "DELETE")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION pricing_flag_bump_round_version() RETURNS trigger LANGUAGE plpgsql AS $$
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
$$;
"""


def _postgres_trigger(event: str) -> str:
    table = "OLD TABLE AS changed_old" if event == "DELETE" else "NEW TABLE AS changed_new"
    return (
        f"CREATE TRIGGER pricing_flag_version_{event.lower()} AFTER {event} ON pricing_flag "
        f"REFERENCING {table} FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_bump_round_version();"
    )


def _sqlite_trigger(event: str) -> str:
    row = "OLD" if event == "DELETE" else "NEW"
    return (
        f"CREATE TRIGGER pricing_flag_version_{event.lower()} AFTER {event} ON pricing_flag FOR EACH ROW BEGIN "
        f"UPDATE pricing_correctionround SET flags_version = flags_version + 1 WHERE id = {row}.round_id; END;"
    )


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        for event in EVENTS:
            schema_editor.execute(_postgres_trigger(event))
    elif vendor == "sqlite":
        for event in EVENTS:
            schema_editor.execute(_sqlite_trigger(event))
    else:  # pragma: no cover - the app supports these two databases
        raise NotImplementedError(f"flags_version triggers for {vendor}")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for event in EVENTS:
        suffix = " ON pricing_flag" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS pricing_flag_version_{event.lower()}{suffix}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS pricing_flag_bump_round_version()")


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0002_default_rule_set"),
    ]

    operations = [
        migrations.AddField(
            model_name="correctionround",
            name="flags_version",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
