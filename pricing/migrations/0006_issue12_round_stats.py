"""Stored overview aggregates (批次概览统计) and the triggers that keep them exact (pricing.stats_triggers)."""

import django.db.models.deletion
from django.db import migrations, models


def create_triggers(apps, schema_editor):
    from pricing.stats_triggers import ensure_triggers

    ensure_triggers(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    from pricing.stats_triggers import drop_triggers

    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('pricing', '0005_issue9_defer_pending'),
    ]

    operations = [
        migrations.CreateModel(
            name='RoundStatsVersion',
            fields=[
                ('round', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='pricing.correctionround')),
                ('flags_version', models.BigIntegerField(default=0)),
                ('stats_version', models.BigIntegerField(default=0)),
            ],
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
