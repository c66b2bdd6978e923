"""The store's database functions, one file each: `<function>.sql` holds the current definition of
the function it is named after, as the migrated database has it.

Each file is a `CREATE OR REPLACE FUNCTION` with every property of the function (language,
volatility, SECURITY DEFINER, the pinned search_path) and, for the functions that write history,
the REVOKE that keeps PUBLIC from executing them, so applying it again changes nothing. Grants to
the application role are not here: its name is a setting, and eventstore/privileges.py grants them
after every migrate.

The rule: a function's current definition lives in its file and nowhere else. A change to a file
comes with a new migration that applies it, `operations = [sql.apply_functions("eventstore_append",
reverse_sql=...)]`, its reverse holding the definition it replaces; earlier migrations keep only the
history of what they did. A new function gets a file and a migration that applies it.
tests/eventstore/test_sql_files.py fails when a function of the store has no file, a file names no
function, or a function differs from its file.
"""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent


def function_names() -> list[str]:
    """The functions that have a file, by name."""
    return sorted(path.stem for path in SQL_DIR.glob("*.sql"))


def definition(name: str) -> str:
    """The SQL that (re)defines function `name`, as its file holds it."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def apply_functions(*names: str, reverse_sql=migrations.RunSQL.noop) -> migrations.RunSQL:
    """A migration operation applying the files of the functions `names`, in that order."""
    return migrations.RunSQL([definition(name) for name in names], reverse_sql)
