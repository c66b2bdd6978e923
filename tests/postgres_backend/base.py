"""PostgreSQL backend for tests only: lets Django's flush empty the append-only tables."""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements:
            return statements
        return ["SET session_replication_role = replica", *statements, "SET session_replication_role = origin"]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
