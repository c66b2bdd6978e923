"""Reads on a real streaming replica of the test database: admin and API reads go to it, writes and
reads in a writing transaction to the primary, a client reads its own writes, lag shows in /status
and /metrics, and a replica that is down sends reads to the primary instead of failing them."""

import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from eventstore import selectors
from eventstore.events import ANY
from eventstore.models import Event
from eventstore.replica import REPLICA, primary_position, read_alias, read_connection, replica_reads
from eventstore.store import append_events
from eventstore.web import replica_reads as web_replica_reads
from eventstore.web.connection_budget import check_replica_budget
from eventstore.web.status import Check
from eventstore.web.status import read_replica as replica_check
from tests.eventstore.helpers import payment_events
from tests.read_replica import ReadReplica

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

UNCHECKED = "Ledger"  # an aggregate type that declares no event schemas
READ_YOUR_WRITES_ROUNDS = 100  # the benchmark runs 1,000
METRICS_TOKEN = "scrape-" + uuid.uuid4().hex


@pytest.fixture(scope="module", autouse=True)  # every test here names the alias among its databases
def replica_server(django_db_setup, django_db_blocker):
    """A replica made after the test database exists (so that the base backup holds it), as the
    `replica` alias DATABASE_REPLICA_URL configures, for this module's tests (set up before theirs,
    so that they may name it among their databases)."""
    server = ReadReplica(dict(connections[DEFAULT_DB_ALIAS].settings_dict)).start()
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS],
                                                 REPLICA: server.settings()})
    connections.settings[REPLICA] = configured[REPLICA]
    yield server
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    server.remove()


@pytest.fixture
def replica(replica_server, settings):
    settings.DATABASE_REPLICA_MAX_WAIT_MS = 1000  # a shared machine: the bound is not what is tested here
    if not replica_server.running:  # a test stopped it
        replica_server.start_again()
    return replica_server


def in_recovery(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def append(stream_id: str):
    return append_events(stream_id=stream_id, aggregate_type=UNCHECKED, events=payment_events(1), expected_version=ANY)


def test_reads_of_a_request_go_to_the_replica_and_writes_and_writing_transactions_to_the_primary(replica):
    assert read_alias() == DEFAULT_DB_ALIAS and not in_recovery(read_connection())  # outside a request: the primary
    with replica_reads():
        assert router.db_for_read(Event) == REPLICA and in_recovery(read_connection())
        with transaction.atomic():
            assert router.db_for_read(Event) == DEFAULT_DB_ALIAS and not in_recovery(read_connection())
        assert router.db_for_write(Event) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Event) == DEFAULT_DB_ALIAS, "a request that wrote reads the primary from then on"
    assert not router.allow_migrate(REPLICA, "eventstore") and router.allow_migrate(DEFAULT_DB_ALIAS, "eventstore")


def test_api_reads_are_the_replicas_until_the_client_writes_then_they_see_the_write(replica, api_client_for, settings):
    """Replay paused, the replica misses what the primary wrote: a client that wrote nothing reads the
    replica and misses it; a client whose command came after it waits, then reads the primary."""
    settings.DATABASE_REPLICA_MAX_WAIT_MS = 100
    reader, writer = api_client_for("reader", operator=True), api_client_for("writer", operator=True)

    def ledger_streams(client) -> set[str]:
        answer = client.get("/api/events/", {"aggregate_type": UNCHECKED})
        assert answer.status_code == 200, answer.content
        return {event["stream_id"] for event in answer.json()["results"]}

    replica.caught_up()  # the clients were made outside a request: no client waits for them
    with replica.replay_paused():
        append("api-1")
        refused = writer.post("/api/payments/commands/", {"type": "CREATE"}, format="json")  # a write request
        assert refused.status_code == 400
        assert ledger_streams(reader) == set(), "the reader's search ran on the paused replica"
        assert ledger_streams(writer) == {"api-1"}, "the writer waited, then read the primary"
    replica.caught_up()
    assert ledger_streams(reader) == {"api-1"}


def test_a_client_reads_its_own_writes_right_after_each_one(replica):
    served_by_replica = 0
    for round_ in range(READ_YOUR_WRITES_ROUNDS):
        stream_id = f"ryw-{round_}-{uuid.uuid4().hex[:6]}"
        append(stream_id)
        with replica_reads(wait_for=primary_position()) as scope:  # what the middleware does for the next request
            assert [event.version for event in selectors.read_stream(stream_id)] == [1], f"round {round_}"
            served_by_replica += scope.alias == REPLICA
    assert served_by_replica >= READ_YOUR_WRITES_ROUNDS // 2, f"only {served_by_replica} reads were the replica's"


def test_positions_compare_as_wal_positions():
    assert web_replica_reads.max_position(["0/FF", "1/0", "0/1000"]) == "1/0"
    assert web_replica_reads.max_position([]) is None


def test_lag_shows_in_status_and_metrics(replica, settings, temporal, client):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.2
    settings.METRICS_TOKEN = METRICS_TOKEN
    append("lag-1")
    replica.caught_up()
    assert replica_check() == Check("read_replica", None, {"lag_seconds": 0.0, "lag_bytes": 0})
    with replica.replay_paused():
        append("lag-2")
        time.sleep(0.5)
        behind = replica_check()
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).content.decode()
    assert not behind.ok and "behind the primary (limit 0.2s)" in behind.problem
    assert behind.figures["lag_seconds"] >= 0.5 and behind.figures["lag_bytes"] > 0
    lag = float(re.search(r"^eventstore_replica_lag_seconds ([0-9.e+-]+)$", scraped, re.M).group(1))
    assert lag >= 0.5 and 'eventstore_status_ok{check="read_replica"} 0.0' in scraped


def test_the_connection_budget_counts_the_replicas_pools_against_the_replica(replica, settings):
    settings.WEB_PROCESSES, settings.DATABASE_POOL_SIZE, settings.WEB_THREADS = 2, 4, 4
    settings.DATABASE_SPARE_CONNECTIONS = 5
    assert check_replica_budget() == 2 * 4 + 5
    settings.WEB_PROCESSES = 10_000
    with pytest.raises(ImproperlyConfigured, match="read replica's connection budget is 40005"):
        check_replica_budget()


def test_a_replica_that_is_down_sends_reads_to_the_primary_without_an_error(replica, tenants):
    append("down-1")
    replica.stop()
    with replica_reads():
        assert read_alias() == DEFAULT_DB_ALIAS
        assert [event.version for event in selectors.read_stream("down-1")] == [1]
    assert tenants.acme.get("/api/events/").status_code == 200
    check = replica_check()
    assert not check.ok and "does not answer" in check.problem


def test_database_replica_url_adds_the_alias_and_unset_adds_none():
    """As the settings read the environment (a fresh interpreter: settings are read once)."""
    def databases(**environment) -> dict:
        program = ("import json; from config.settings import base; "
                   "print(json.dumps({alias: {k: v for k, v in db.items() if k in ('HOST', 'OPTIONS', 'TEST')} "
                   "for alias, db in base.DATABASES.items()}))")
        env = {name: value for name, value in os.environ.items() if name != "DATABASE_REPLICA_URL"}
        env.update(DATABASE_POOL_SIZE="4", **environment)
        return json.loads(subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                                         check=True, timeout=60).stdout)

    assert set(databases()) == {DEFAULT_DB_ALIAS}
    replica = databases(DATABASE_REPLICA_URL="postgres://payments_app:pw@replica.example:5432/payments")[REPLICA]
    assert replica["HOST"] == "replica.example" and replica["TEST"] == {"MIRROR": DEFAULT_DB_ALIAS}
    assert replica["OPTIONS"]["connect_timeout"] == 2 and replica["OPTIONS"]["pool"]["timeout"] == 2.0
