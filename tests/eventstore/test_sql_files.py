"""SQL in one place (eventstore/sql/): every database function of the store has one file, every file
defines a function of the store, and the migrated database holds exactly what each file defines;
nothing outside the migrations imports a migration."""

import ast
import contextlib
import os
from pathlib import Path

import pytest
from django.db import connection, transaction

from eventstore import sql

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]

# The functions named for the store and those its tables' triggers run; none of an extension's.
STORE_FUNCTIONS = r"""
SELECT p.proname, p.oid FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  AND (p.proname LIKE 'eventstore\_%'
       OR p.oid IN (SELECT t.tgfoid FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
                    WHERE c.relname LIKE 'eventstore\_%' AND NOT t.tgisinternal))
"""
# What applying a file must leave as it found it.
FUNCTION_STATE = """
SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition,
       pg_get_userbyid(p.proowner) AS owner, p.prosecdef AS security_definer, p.proconfig AS config,
       p.proacl::text AS privileges
FROM pg_proc AS p WHERE p.oid = %s
"""
# CREATE OR REPLACE writes a new version of the function's catalog row (another ctid) even when
# nothing changes: that shows which functions a file defines.
ROW_VERSION = "SELECT ctid::text FROM pg_proc WHERE oid = %s"


def store_functions() -> dict[str, list[int]]:
    """The store's functions in the database: name -> oids (one per overload)."""
    functions: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(STORE_FUNCTIONS)
        for name, oid in cursor.fetchall():
            functions.setdefault(name, []).append(oid)
    return functions


def function_state(oid: int) -> dict:
    """Its definition as PostgreSQL prints it, owner, security, settings and privileges."""
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_STATE, [oid])
        columns = [column.name for column in cursor.description]
        return dict(zip(columns, cursor.fetchone()))


def row_versions(oids) -> dict[int, str]:
    with connection.cursor() as cursor:
        versions = {}
        for oid in oids:
            cursor.execute(ROW_VERSION, [oid])
            versions[oid] = cursor.fetchone()[0]
        return versions


@contextlib.contextmanager
def rolled_back():
    """A savepoint undone at the end, whatever happens inside."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def open_to_public(oids) -> None:
    """Let PUBLIC execute the functions, so that a file that should revoke it and does not shows."""
    with connection.cursor() as cursor:
        for oid in oids:
            cursor.execute("SELECT oid::regprocedure::text, has_function_privilege('public', oid, 'EXECUTE') "
                           "FROM pg_proc WHERE oid = %s", [oid])
            signature, public_may_execute = cursor.fetchone()
            if not public_may_execute:
                cursor.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO PUBLIC")


def test_every_function_of_the_store_has_a_file_and_every_file_a_function():
    in_database = set(store_functions())
    with_file = set(sql.function_names())

    assert sorted(in_database - with_file) == [], "functions of the store without a file in eventstore/sql/"
    assert sorted(with_file - in_database) == [], "files in eventstore/sql/ of no function in the database"


@pytest.mark.parametrize("name", sql.function_names())
def test_applying_a_file_changes_nothing_in_the_migrated_database(name):
    functions = store_functions()
    oids = functions.get(name)
    assert oids, f"{name} is not in the database"
    others = [oid for other, overloads in functions.items() if other != name for oid in overloads]
    before = [function_state(oid) for oid in oids]
    untouched = row_versions(others)

    with rolled_back():
        open_to_public(oids)
        replaced = row_versions(oids)
        with connection.cursor() as cursor:
            cursor.execute(sql.definition(name))
        after = [function_state(oid) for oid in oids]
        assert all(version != replaced[oid] for oid, version in row_versions(oids).items()), (
            f"{name}.sql does not define {name}")
        assert row_versions(others) == untouched, f"{name}.sql defines other functions than {name}"

    differences = sorted({key for old, new in zip(before, after, strict=True) for key in old if old[key] != new[key]})
    assert differences == [], f"{name} in the database differs from eventstore/sql/{name}.sql"


def project_migration_packages() -> set[str]:
    return {".".join(path.relative_to(BASE_DIR).parts) for path in BASE_DIR.glob("*/migrations")
            if (path / "__init__.py").exists()}


def imported_names(tree: ast.AST):
    """Every module name a file imports, and every text it might hand to import_module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def modules_outside_migrations():
    """The checkout's Python files, but for migrations and hidden directories (.venv, .data)."""
    for directory, subdirectories, files in os.walk(BASE_DIR):
        subdirectories[:] = [name for name in subdirectories if name != "migrations" and not name.startswith(".")]
        yield from (Path(directory, name) for name in files if name.endswith(".py"))


def test_no_module_outside_the_migrations_imports_a_migration():
    packages = project_migration_packages()
    assert {"eventstore.migrations", "payments.migrations"} <= packages
    offenders = []
    for path in sorted(modules_outside_migrations()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(BASE_DIR)}: {name}" for name in imported_names(tree)
                      if any(name.startswith(f"{package}.") for package in packages)]

    assert offenders == []
