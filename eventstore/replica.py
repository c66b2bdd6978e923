"""Reads on a streaming replica: which database a read goes to, and the wait that lets a client read
its own writes.

DATABASE_REPLICA_URL adds the `replica` alias (settings). Reads go to it only inside `replica_reads()`,
which the web layer opens around a request that reads (eventstore/web/replica_reads.py): everything
else, the append path, Temporal activities, commands, management commands and migrations, reads and
writes the primary. Inside a request, a read still goes to the primary when the request has written,
when it runs inside a transaction on the primary (a read that decides a write sees what it decides
on), and when the replica cannot serve: it is down, or has not replayed the client's last write
(`wait_for`, a WAL position of the primary) within DATABASE_REPLICA_MAX_WAIT_MS.

Raw SQL reads ask `read_connection()` for their connection; the ORM asks the router.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
POLL_SECONDS = 0.002

logger = logging.getLogger(__name__)


@dataclass
class ReadScope:
    wait_for: str | None  # the primary's WAL position (pg_lsn text) the client's reads must see
    alias: str | None = None  # decided at the first read
    wrote: bool = False


_scope: ContextVar[ReadScope | None] = ContextVar("replica_read_scope", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads(wait_for: str | None = None) -> Iterator[ReadScope]:
    """Reads inside may go to the replica once it has replayed `wait_for`."""
    token = _scope.set(ReadScope(wait_for))
    try:
        yield _scope.get()
    finally:
        _scope.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside go to the primary even in a request that reads: credentials, say, so that a token
    revoked or issued a moment ago is refused or accepted at once."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def read_alias() -> str:
    scope = _scope.get()
    if (scope is None or scope.wrote or not replica_configured()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block):
        return DEFAULT_DB_ALIAS
    if scope.alias is None:
        scope.alias = REPLICA if replica_has_replayed(scope.wait_for) else DEFAULT_DB_ALIAS
    return scope.alias


def read_connection():
    """The connection a raw SQL read uses (the ORM's reads are routed by ReplicaRouter)."""
    return connections[read_alias()]


def replica_has_replayed(wait_for: str | None) -> bool:
    """True once the replica answers and has replayed the primary's WAL up to `wait_for`, polled for at
    most DATABASE_REPLICA_MAX_WAIT_MS; False, and the primary serves, otherwise."""
    deadline = time.monotonic() + settings.DATABASE_REPLICA_MAX_WAIT_MS / 1000
    try:
        with connections[REPLICA].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [wait_for or "0/0"])
                recovering, replayed = cursor.fetchone()
                if replayed:
                    return True
                if not recovering or time.monotonic() >= deadline:  # promoted: no replica of this primary
                    return False
                time.sleep(POLL_SECONDS)
    except DatabaseError as error:
        logger.warning("The read replica cannot serve, reading the primary: %s", error)
        connections[REPLICA].close()
        return False


def primary_position() -> str:
    """The primary's current WAL position: what a client's next reads must see after a write."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class ReplicaLag:
    seconds: float  # since the last transaction it replayed, 0 when it has replayed all the primary wrote
    bytes: int  # of WAL the primary wrote and the replica has not replayed


def replica_lag() -> ReplicaLag | None:
    """How far the replica is behind the primary; None when it does not answer or is no replica."""
    primary = primary_position()
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint,"
                " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8",
                [primary],
            )
            recovering, behind, seconds = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("The read replica does not answer: %s", error)
        connections[REPLICA].close()
        return None
    if not recovering:
        return None
    behind = max(behind or 0, 0)
    return ReplicaLag(seconds=round(seconds or 0.0, 3) if behind else 0.0, bytes=behind)


class ReplicaRouter:
    """The ORM's side of the rules above: reads by read_alias(), writes and migrations to the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True  # from here on, this request reads what it wrote
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
