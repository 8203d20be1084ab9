"""Name prefix search on PostgreSQL: an index on the name in the "C" collation, so LIKE 'prefix%' is an index range
and ORDER BY name walks the same index whatever the database's default collation (gonghui.members.search).
SQLite compares by code point already and needs nothing."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('CREATE INDEX person_name_c_idx ON members_person (name COLLATE "C")')


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS person_name_c_idx")


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
