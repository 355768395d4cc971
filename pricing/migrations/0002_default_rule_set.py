"""Ship the RULES.md default rule set as version 1."""

from django.db import migrations

from pricing.engine.defaults import DEFAULT_PARAMS


def forward(apps, schema_editor):
    RuleSet = apps.get_model("pricing", "RuleSet")
    RuleSet.objects.get_or_create(
        version=1,
        defaults={"name": "默认规则集 (RULES.md)", "params": DEFAULT_PARAMS, "note": "系统内置默认规则"},
    )


def backward(apps, schema_editor):
    apps.get_model("pricing", "RuleSet").objects.filter(version=1, rounds__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
