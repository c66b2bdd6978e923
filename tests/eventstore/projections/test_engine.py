"""The projection engine on real PostgreSQL: checkpoints, failures, lag, rebuilds, a killed runner."""

import signal
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from eventstore.events import RecordedEvent
from eventstore.models import Event
from eventstore.projections import engine as projections
from eventstore.projections import rebuild as projection_rebuild
from eventstore.projections.engine import Projection, apply_pending
from eventstore.projections.lag import lag
from eventstore.projections.models import ProjectionCheckpoint, ProjectionError
from eventstore.projections.rebuild import rebuild
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection
from tests.processes import command_env, manage

pytestmark = pytest.mark.django_db(transaction=True)

summary = PaymentSummaryProjection()


class FailingOnRefunds(Projection):
    """Fails on refunds of one payment until `fixed`; records what it applied in a list."""

    name = "failing_on_refunds"
    fixed = False

    def __init__(self, target: str):
        self.target, self.seen = target, []

    def apply(self, events: list[RecordedEvent]) -> None:
        for event in events:
            if event.stream_id == self.target and event.event_type == "PaymentRefunded" and not self.fixed:
                raise ValueError("cannot read this refund")
        self.seen.extend(event.position for event in events)


def test_apply_pending_applies_each_event_once_and_checkpoints_with_the_rows(
    random_commands, assert_summaries_match_a_fold_of_the_events
):
    random_commands(300, payments=40)

    first = apply_pending(summary, batch_size=50)
    again = apply_pending(summary)

    assert first.applied > 0 and again.applied == 0
    checkpoint = ProjectionCheckpoint.objects.get(name=summary.name)
    assert checkpoint.events_applied == first.applied
    assert_summaries_match_a_fold_of_the_events()


def test_a_failing_handler_stops_its_projection_only_and_resumes_once_fixed(monkeypatch, random_commands):
    random_commands(200, payments=10, seed=3)
    target = next(row.payment_id for row in _with_refund())
    failing = FailingOnRefunds(target)
    monkeypatch.setattr(projections, "RETRY_FAILED_AFTER", projections.timedelta(0))
    random_commands(50, payments=10, seed=4, prefix="payment-more")

    stopped = apply_pending(failing)
    others = apply_pending(summary)

    assert stopped.failed_at is not None
    error = ProjectionError.objects.get(projection=failing.name)
    assert (error.position, error.stream_id, error.event_type) == (stopped.failed_at, target, "PaymentRefunded")
    assert "cannot read this refund" in error.message and error.resolved_at is None
    checkpoint = ProjectionCheckpoint.objects.get(name=failing.name)
    assert checkpoint.failing_position == stopped.failed_at and stopped.failed_at not in failing.seen
    assert others.failed_at is None and others.applied > 0
    assert lag([failing.name])[0].events_behind > 0

    assert apply_pending(failing).failed_at == stopped.failed_at
    assert ProjectionError.objects.get(projection=failing.name).attempts == 2

    failing.fixed = True
    resumed = apply_pending(failing)

    assert resumed.failed_at is None and stopped.failed_at in failing.seen
    assert ProjectionError.objects.get(projection=failing.name).resolved_at is not None
    assert lag([failing.name])[0].events_behind == 0
    assert len(failing.seen) == len(set(failing.seen))


def _with_refund():
    apply_pending(summary)
    return PaymentSummary.objects.filter(refunded__gt=0).order_by("payment_id")


class Stopped(BaseException):
    """What a runner sees when it is stopped in the middle of a batch, as KeyboardInterrupt or SystemExit."""


class SummaryStoppedAfterWriting(PaymentSummaryProjection):
    """The payment summary, stopped right after its handler wrote the batch's rows."""

    def apply(self, events: list[RecordedEvent]) -> None:
        super().apply(events)
        self.rows_written = PaymentSummary.objects.filter(payment_id__in={event.stream_id for event in events}).count()
        raise Stopped


def checkpoint_of(name: str) -> tuple:
    return ProjectionCheckpoint.objects.filter(name=name).values_list(
        "transaction_id", "position", "events_applied").get()


def test_a_runner_stopped_after_the_handler_wrote_moves_neither_rows_nor_checkpoint(
    random_commands, summary_rows, assert_summaries_match_a_fold_of_the_events
):
    random_commands(100, payments=20)
    apply_pending(summary)
    rows, checkpoint = summary_rows(), checkpoint_of(summary.name)
    pending = random_commands(100, payments=20, seed=8, prefix="payment-more")
    stopped = SummaryStoppedAfterWriting()

    with pytest.raises(Stopped):
        apply_pending(stopped)

    assert stopped.rows_written > 0
    assert checkpoint_of(summary.name) == checkpoint
    assert summary_rows() == rows
    assert apply_pending(summary).applied == pending
    assert_summaries_match_a_fold_of_the_events()


@pytest.fixture
def refuse_checkpoint_moves():
    """From when it is called, PostgreSQL refuses (a trigger) to move the named projection's checkpoint,
    as when that write fails."""
    refused = []

    def refuse_checkpoint_moves(name: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION test_refuse_checkpoint_move() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'checkpoint write refused'; END; $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_checkpoint_move BEFORE UPDATE ON eventstore_projectioncheckpoint"
                f" FOR EACH ROW WHEN (NEW.name = '{name}' AND NEW.position <> OLD.position)"
                " EXECUTE FUNCTION test_refuse_checkpoint_move()"
            )
        refused.append(name)

    yield refuse_checkpoint_moves
    if refused:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_checkpoint_move ON eventstore_projectioncheckpoint")
            cursor.execute("DROP FUNCTION test_refuse_checkpoint_move()")


def test_a_checkpoint_that_cannot_be_saved_takes_the_rows_written_with_it(
    random_commands, summary_rows, refuse_checkpoint_moves
):
    random_commands(100, payments=20)
    apply_pending(summary)
    rows, checkpoint = summary_rows(), checkpoint_of(summary.name)
    random_commands(100, payments=20, seed=8, prefix="payment-more")
    refuse_checkpoint_moves(summary.name)

    with pytest.raises(DatabaseError, match="checkpoint write refused"):
        apply_pending(summary)

    assert checkpoint_of(summary.name) == checkpoint
    assert summary_rows() == rows


def test_lag_counts_events_and_seconds_behind(random_commands):
    written = random_commands(50, payments=10)
    oldest = Event.objects.order_by("transaction_id", "position").values_list("recorded_at", flat=True).first()
    time.sleep(0.5)

    before = timezone.now()
    behind = lag([summary.name])[0]
    after = timezone.now()

    assert behind.events_behind == written
    assert (before - oldest).total_seconds() <= behind.seconds_behind <= (after - oldest).total_seconds()
    apply_pending(summary)
    caught_up = lag([summary.name])[0]
    assert (caught_up.events_behind, caught_up.seconds_behind) == (0, 0.0)


def test_rebuilt_read_model_equals_the_incremental_one_row_for_row(
    random_commands, summary_rows, assert_summaries_match_a_fold_of_the_events
):
    for seed in range(4):  # incremental runs interleaved with new commands
        random_commands(750, payments=300, seed=seed)
        apply_pending(summary, batch_size=200)
    incremental = summary_rows()

    progress = rebuild(summary, batch_size=500)

    assert progress.swapped and progress.applied == Event.objects.count() > 1000
    assert summary_rows() == incremental
    assert_summaries_match_a_fold_of_the_events()


def test_interrupted_rebuild_resumes_and_readers_never_see_half_a_table(random_commands, summary_rows):
    random_commands(600, payments=100)
    apply_pending(summary)
    live = summary_rows()

    class Interrupted(Exception):
        pass

    def interrupt_after_first_batch(progress):
        assert summary_rows() == live, "the live table changed before the swap"
        raise Interrupted

    with pytest.raises(Interrupted):
        rebuild(summary, batch_size=100, restart=True, on_progress=interrupt_after_first_batch)
    assert summary_rows() == live

    resumed = rebuild(summary, batch_size=100)

    assert resumed.swapped and summary_rows() == live
    assert not ProjectionCheckpoint.objects.filter(name=summary.name + projection_rebuild.REBUILD_SUFFIX).exists()


def test_rebuild_copies_keep_only_the_unique_indexes_of_their_live_tables():
    table = PaymentSummary._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX stray_user_index ON {projection_rebuild.REBUILD_SCHEMA}."{table}" (user_id)')
    projection_rebuild.provision_rebuild_tables()  # as every migrate does

    live = _indexes("public", table)
    assert any(not unique for _, unique in live), "the live table has secondary indexes to leave out"
    assert _indexes(projection_rebuild.REBUILD_SCHEMA, table) == {index for index in live if index[1]}


def _indexes(schema: str, table: str) -> set[tuple[str, bool]]:
    """(indexed columns, unique) of each index of the table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT index.indkey::text, index.indisunique FROM pg_index AS index"
                       " WHERE index.indrelid = %s::regclass", [f'{schema}."{table}"'])
        return set(cursor.fetchall())


def test_upsert_inserts_new_rows_and_updates_the_stored_ones_nulls_included():
    now = timezone.now()

    def row(payment_id: str, status: str, version: int) -> PaymentSummary:
        return PaymentSummary(payment_id=payment_id, organization_id="org-1", user_id="user-1", amount=Decimal("10.50"),
                              refunded=Decimal("0.00"), currency="EUR", status=status, description="",
                              correlation_id="", created_at=now, updated_at=now, occurred_at=None, version=version,
                              last_position=version, incomplete=False)

    fields = ["status", "version", "last_position", "occurred_at"]
    projections.upsert(PaymentSummary, [row("payment-a", "processed", 1)], key="payment_id", fields=fields)
    projections.upsert(PaymentSummary, [row("payment-a", "refunded", 2), row("payment-b", "processed", 1)],
                       key="payment_id", fields=fields)

    assert list(PaymentSummary.objects.order_by("payment_id").values_list(
        "payment_id", "status", "version", "amount", "occurred_at", "created_at")) == [
        ("payment-a", "refunded", 2, Decimal("10.50"), None, now),
        ("payment-b", "processed", 1, Decimal("10.50"), None, now),
    ]


@pytest.mark.crash
def test_killing_the_catch_up_loop_midway_loses_and_doubles_nothing(
    random_lives, assert_summaries_match_a_fold_of_the_events
):
    assert random_lives(1800, seed=11) >= 5000
    runner = manage("run_projections", "--batch-size", "50", env=command_env())
    try:
        deadline = time.monotonic() + 120
        while _applied(summary.name) < 1000:
            assert runner.poll() is None and time.monotonic() < deadline, runner.stdout.read() if runner.poll() else ""
            time.sleep(0.02)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    finally:
        if runner.poll() is None:
            runner.kill()
    assert 0 < _applied(summary.name) < Event.objects.count(), "the runner was not killed mid-way"

    restarted = manage("run_projections", "--until-caught-up", env=command_env())
    output, _ = restarted.communicate(timeout=300)

    assert restarted.returncode == 0, output
    assert lag([summary.name])[0].events_behind == 0
    assert_summaries_match_a_fold_of_the_events()


def _applied(name: str) -> int:
    return ProjectionCheckpoint.objects.filter(name=name).values_list("events_applied", flat=True).first() or 0
