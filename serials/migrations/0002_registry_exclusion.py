"""On PostgreSQL, no two accepted runs of one scope may share a serial — enforced by the
database, so concurrent acceptances cannot both win. SQLite has no exclusion constraints."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE serials_serialrun ADD CONSTRAINT accepted_runs_never_overlap
    EXCLUDE USING gist (scope WITH =, int8range(lo, hi, '[]') WITH &&) WHERE (accepted);
"""
DROP = "ALTER TABLE serials_serialrun DROP CONSTRAINT IF EXISTS accepted_runs_never_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("serials", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
