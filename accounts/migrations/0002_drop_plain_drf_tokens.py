"""DRF's own tokens (rest_framework.authtoken) were stored in plain text; the app is gone, so its
table would keep working keys in the database for nobody. Drop it, and its migration records."""

from django.db import migrations


def drop_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" in connection.introspection.table_names():
        schema_editor.execute(
            "DROP TABLE authtoken_token" + (" CASCADE" if connection.vendor == "postgresql" else "")
        )
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(drop_plain_tokens, migrations.RunPython.noop)]
