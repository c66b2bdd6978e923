"""Read-your-writes through a real streaming replica (made with the embedded server's pg_basebackup):
1,000 payment commands through the API, each followed at once by the same client reading the payment's
history, which must hold the command's event; beside the same rounds with no replica (every read on the
primary). How many of those reads the replica served, rather than the primary after the bounded wait,
is reported beside the rounds."""

import statistics
import time
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from eventstore import replica as replica_module
from eventstore.replica import REPLICA
from tests.benchmarks.measure import Comparison
from tests.read_replica import ReadReplica

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600),
              pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])]

FULL = dict(commands=1000)
QUICK = dict(commands=100)


@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker):
    server = ReadReplica(dict(connections[DEFAULT_DB_ALIAS].settings_dict)).start()
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS],
                                                 REPLICA: server.settings()})
    connections.settings[REPLICA] = configured[REPLICA]
    yield server
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    server.remove()


def test_read_your_writes_after_each_command(bench, size, temporal, replica_server, api_client_for, monkeypatch):
    bench.describe_data(f"{size.commands:,} CREATE commands through the API (in-process client, the suite's worker), "
                        f"each followed at once by the same client's GET of the payment's history; "
                        f"DATABASE_REPLICA_MAX_WAIT_MS 200")
    client = api_client_for(f"ryw-{uuid.uuid4().hex[:6]}", "org-acme")
    client.defaults["SERVER_NAME"] = "localhost"  # outside the test environment: ALLOWED_HOSTS as developed
    served = {"replica": 0, "primary": 0}
    checked = replica_module.replica_has_replayed

    def counted(wait_for):
        answer = checked(wait_for)
        served["replica" if answer else "primary"] += 1
        return answer

    monkeypatch.setattr(replica_module, "replica_has_replayed", counted)
    replica_server.caught_up()
    with_replica = rounds(client, size.commands)
    settings_of_replica = connections.settings.pop(REPLICA)  # no replica: every read on the primary
    try:
        without = rounds(client, size.commands)
    finally:
        connections.settings[REPLICA] = settings_of_replica
    bench.report(Comparison("a command and the read right after it, through the replica", "ms/round",
                            statistics.median(with_replica) * 1000, statistics.median(without) * 1000,
                            "the same rounds, every read on the primary", higher_is_better=False))
    bench.report(Comparison("reads the replica served (the rest waited 200 ms, then read the primary)", "reads",
                            served["replica"], size.commands, "reads after a command"))


def rounds(client, commands: int) -> list[float]:
    """Seconds per round; fails on the first read that misses its own command's event."""
    taken = []
    for index in range(commands):
        payment_id = f"payment-ryw-{uuid.uuid4().hex[:10]}"
        started = time.perf_counter()
        created = client.post("/api/payments/commands/", {
            "type": "CREATE", "payment_id": payment_id, "organization_id": "org-acme", "amount": "10.00",
            "currency": "EUR", "description": "read your writes"}, format="json")
        assert created.status_code == 201, created.content
        history = client.get(f"/api/payments/{payment_id}/history/")
        taken.append(time.perf_counter() - started)
        assert history.status_code == 200 and len(history.json()["results"]) == 1, (index, history.content)
    return taken
