"""TRUNCATE of the audit table is refused as well (PostgreSQL; a statement-level trigger).

The only way past it is a session that sets `jiupian.allow_audit_truncate = on` — which the test
suite's database does (tests/conftest.py) so that pytest-django can flush tables between tests; a
production database never has it."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('jiupian.allow_audit_truncate', true), '') <> 'on' THEN
    RAISE EXCEPTION 'audit_auditevent is append-only (TRUNCATE refused)';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward)]
