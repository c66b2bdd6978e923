"""A migration's operation, found by the migration's name rather than its number (numbers change when
branches meet; a module path to a migration is what the SQL-files test forbids outside migrations)."""

from django.db import connection
from django.db.migrations.loader import MigrationLoader


def migration_operation(app_label: str, name_suffix: str, operation_type):
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    [migration] = [migration for (label, name), migration in loader.disk_migrations.items()
                   if label == app_label and name.endswith(f"_{name_suffix}")]
    [operation] = [operation for operation in migration.operations if isinstance(operation, operation_type)]
    return operation
