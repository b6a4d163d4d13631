"""A GiST index over each run's counters as a range, per scope, on PostgreSQL: a lookup of one
serial then reads the runs that hold it, not every run of the scope below it (the btree on
(scope, lo, hi) can bound only ``lo``). Measured by benchmarks/scale_bench.py."""

from django.db import migrations

INDEX = "serials_serialrun_scope_counters"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON serials_serialrun "
            "USING gist (scope, int8range(lo, hi, '[]'))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("serials", "0003_keys_checked_per_statement")]
    operations = [migrations.RunPython(create, drop)]
