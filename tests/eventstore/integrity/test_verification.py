"""Invariant 6: verify_event_chain catches every edit, deletion, insertion and reordering, and takes
nothing committed while it runs for one: the full pass anywhere, the incremental pass in what was
appended since the last verified point and in the verified events that the new ones link to."""

import datetime as dt
import hashlib
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from eventstore.encoding import GENESIS_HASH, canonical_json, event_hash, seal_hash
from eventstore.events import ANY, NewEvent
from eventstore.integrity.incremental import verify_new_events
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger import service as ledger
from eventstore.models import Event
from eventstore.store import append_events
from eventstore.web import status
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def write_history():
    for stream_id in ("payment-a", "payment-b", "payment-c"):
        for _ in range(2):
            append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(2), expected_version=ANY)


@pytest.mark.parametrize("batch_size", [1, 3], ids=["single-event path", "batch path"])
def test_database_and_python_hash_the_same_canonical_text(settings, batch_size):
    """The chain is built in SQL and re-checked in Python: awkward text must encode alike in both, on
    both of the append function's paths (migration 0017)."""
    settings.EVENTSTORE_MAX_INTEGER_DIGITS = 30  # a number beyond bigint too
    awkward = {
        "note": 'Zahlung für "Müller" \\ 東京 \u2028 tab\t newline\n \x01 \x7f 😀',
        "nested": {"b": [1, -2, 10**20, True, None, ""], "a": {"ü": "ß"}},
    }
    append_events(stream_id='payment-"quoted"\\-ü', aggregate_type="Zahlung", expected_version=ANY,
                  events=[NewEvent("Événement", awkward, {"correlation_id": "a/b", "user": "Ödön"})
                          for _ in range(batch_size)])
    report = verify_event_chain(seal=False)
    assert report.ok, report.problems


@pytest.fixture
def history():
    """Three streams of four events, verified and sealed once, as a scheduled check would.

    Returns the seal's hash, which the operator keeps outside the database.
    """
    write_history()
    seal = verify_event_chain().new_seal
    assert seal is not None
    return seal.hash


def forged_hash():
    return hashlib.sha256(b"forged").hexdigest()


TAMPERING = {
    "edited amount": ["UPDATE eventstore_event SET data = '{\"amount\": \"999.00\", \"currency\": \"EUR\"}' "
                      "WHERE stream_id = 'payment-b' AND version = 2"],
    "edited metadata": ["UPDATE eventstore_event SET metadata = '{\"correlation_id\": \"other\"}' "
                        "WHERE stream_id = 'payment-a' AND version = 1"],
    "edited time": ["UPDATE eventstore_event SET recorded_at = recorded_at - interval '1 day' "
                    "WHERE stream_id = 'payment-a' AND version = 3"],
    "edited and rehashed": ["UPDATE eventstore_event SET event_type = 'PaymentCancelled', hash = "
                            f"'{forged_hash()}' WHERE stream_id = 'payment-a' AND version = 2"],
    "deleted middle event": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-b' AND version = 2"],
    "deleted newest event": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4"],
    "deleted newest event and moved head back": [
        "DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4",
        "UPDATE eventstore_stream SET version = 3 WHERE stream_id = 'payment-c'",
    ],
    "deleted whole stream": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-b'"],
    "deleted whole stream and its head": [
        "DELETE FROM eventstore_event WHERE stream_id = 'payment-b'",
        "DELETE FROM eventstore_stream WHERE stream_id = 'payment-b'",
    ],
    "inserted event in the middle": [
        "UPDATE eventstore_event SET version = version + 10 WHERE stream_id = 'payment-a' AND version >= 3",
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) SELECT '{uuid.uuid4()}', stream_id, aggregate_type, 3,"
        f" 'PaymentRefunded', '{{}}', '{{}}', recorded_at, 1, hash, '{forged_hash()}' FROM eventstore_event"
        f" WHERE stream_id = 'payment-a' AND version = 2",
    ],
    "inserted event at the end": [
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) SELECT '{uuid.uuid4()}', stream_id, aggregate_type, 5,"
        f" 'PaymentRefunded', '{{}}', '{{}}', now(), 1, hash, '{forged_hash()}' FROM eventstore_event"
        f" WHERE stream_id = 'payment-a' AND version = 4",
    ],
    "removed the newest seal": ["DELETE FROM eventstore_seal"],
    "edited a seal": ["UPDATE eventstore_seal SET event_count = event_count - 1"],
    "moved an event out of the seal": [
        "UPDATE eventstore_event SET transaction_id = transaction_id + 1000000 WHERE stream_id = 'payment-a' AND version = 1"
    ],
    "inserted stream": [
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) VALUES ('{uuid.uuid4()}', 'payment-z', 'Payment', 1,"
        f" 'PaymentProcessed', '{{}}', '{{}}', now(), 1, '{'0' * 64}', '{forged_hash()}')",
    ],
    "reordered versions": [
        "UPDATE eventstore_event SET version = 100 WHERE stream_id = 'payment-a' AND version = 2",
        "UPDATE eventstore_event SET version = 2 WHERE stream_id = 'payment-a' AND version = 3",
        "UPDATE eventstore_event SET version = 3 WHERE stream_id = 'payment-a' AND version = 100",
    ],
    "reordered positions across streams": [
        "CREATE TEMP TABLE swap AS SELECT (SELECT position FROM eventstore_event WHERE stream_id = 'payment-a'"
        " AND version = 1) AS a, (SELECT position FROM eventstore_event WHERE stream_id = 'payment-b'"
        " AND version = 1) AS b",
        "UPDATE eventstore_event SET position = -1 WHERE position = (SELECT a FROM swap)",
        "UPDATE eventstore_event SET position = (SELECT a FROM swap) WHERE position = (SELECT b FROM swap)",
        "UPDATE eventstore_event SET position = (SELECT b FROM swap) WHERE position = -1",
    ],
}


def test_an_untouched_store_verifies_and_seals_only_what_is_new(history, capsys):
    report = verify_event_chain()
    assert report.ok, report.problems
    assert (report.events_checked, report.streams_checked, report.seals_checked) == (12, 3, 1)
    assert report.new_seal is None

    append_events(stream_id="payment-d", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    call_command("verify_event_chain", "--no-progress")
    assert "OK: incremental pass: 1 events in 1 streams" in capsys.readouterr().out
    call_command("verify_event_chain", "--no-progress", "--full")

    assert "Sealed 13 events" in capsys.readouterr().out
    assert verify_event_chain().seals_checked == 2
    assert list(ChainVerification.objects.order_by("id").values_list("kind", "events_checked")) == [
        ("full", 12), ("full", 12), ("incremental", 1), ("full", 13), ("full", 13)]


def test_heads_catch_a_removed_newest_event_without_any_seal(tamper):
    write_history()
    tamper("DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4")
    report = verify_event_chain()
    assert [str(problem) for problem in report.problems] == [
        "payment-c: recorded head is v4 but the events end at v3"
    ]


@pytest.mark.parametrize("tampering", TAMPERING.values(), ids=list(TAMPERING))
def test_tampering_is_detected(history, tampering, tamper):
    tamper(*tampering)

    report = verify_event_chain(expected_seal=history)

    assert not report.ok
    assert report.problems
    with pytest.raises(CommandError, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--full", "--expect-seal", history)


STORE_TABLES = ("eventstore_event", "eventstore_stream", "eventstore_seal", "eventstore_chainverification",
                "eventstore_ledgerentry", "eventstore_ledgernode", "eventstore_ledgerstream",
                "eventstore_ledgerstreamnode", "eventstore_treehead")


def recent_history(tamper) -> str:
    """An empty store, then the same three streams, all appended after the last verified point (a clean
    full pass over one earlier event): the new range of the next incremental pass. Returns the seal's hash."""
    tamper(f"TRUNCATE {', '.join(STORE_TABLES)}")
    append_events(stream_id="payment-0", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    seal = verify_event_chain().new_seal
    write_history()
    return seal.hash


# What no pass can see in events appended since the last seal, when no signed head covers them:
# only a seal counts a stream that left with its head, or knows which events a transaction id held.
UNSEALED_BLIND_SPOTS = {"deleted whole stream and its head", "moved an event out of the seal"}


def test_tampering_in_the_new_range_is_detected_by_the_incremental_pass_as_by_a_full_one(tamper, subtests):
    """Each case of TAMPERING, as a subtest on a store emptied in between (cheaper than a test each)."""
    for name, tampering in TAMPERING.items():
        with subtests.test(name):
            kept_seal = recent_history(tamper)
            tamper(*tampering)

            report = verify_new_events(expected_seal=kept_seal)
            full = verify_event_chain(expected_seal=kept_seal, seal=False)

            assert report.kind == "incremental" and report.from_transaction is not None
            if name in UNSEALED_BLIND_SPOTS:
                assert report.ok and full.ok
                continue
            assert not report.ok and not full.ok
            with pytest.raises(CommandError, match="TAMPERING DETECTED"):
                call_command("verify_event_chain", "--no-progress", "--expect-seal", kept_seal)
            assert ChainVerification.objects.filter(kind="incremental", ok=False).count() == 2


def test_the_incremental_pass_checks_the_verified_events_the_new_ones_link_to(history, tamper):
    """Edited, deleted, or edited with its hash recomputed: each stream's last verified event."""
    for stream_id in ("payment-a", "payment-b", "payment-c"):
        append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(1), expected_version=4)
    tamper("UPDATE eventstore_event SET data = '{\"amount\": \"999.00\"}' WHERE stream_id = 'payment-a' AND version = 4",
           "DELETE FROM eventstore_event WHERE stream_id = 'payment-b' AND version = 4",
           "UPDATE eventstore_event SET event_type = 'PaymentCancelled' WHERE stream_id = 'payment-c' AND version = 4")
    tamper(rehashed("payment-c", 4))

    report = verify_new_events()

    assert problems_of(report) == [
        "payment-a v4: content does not match its hash (edited or moved)",
        "payment-b v4: the verified event the new ones link to is gone",
        "payment-c v5: does not link to the event before it (inserted, removed or reordered)",
    ]
    assert (report.kind, report.events_checked, report.streams_checked) == ("incremental", 3, 3)


def test_tampering_before_the_new_range_is_left_to_the_full_pass(history, tamper):
    tamper("UPDATE eventstore_event SET data = '{\"amount\": \"999.00\"}' WHERE stream_id = 'payment-b' AND version = 2")
    append_events(stream_id="payment-a", aggregate_type="Payment", events=payment_events(2), expected_version=4)

    incremental = verify_new_events()
    full = verify_event_chain()

    assert incremental.ok and (incremental.events_checked, incremental.streams_checked) == (2, 1)
    assert problems_of(full) == ["payment-b v2: content does not match its hash (edited or moved)"]
    runs = ChainVerification.objects.order_by("-id")
    assert [(run.kind, run.ok) for run in runs[:2]] == [("full", False), ("incremental", True)]
    assert runs[1].from_transaction == runs[2].transaction_horizon <= runs[1].transaction_horizon
    assert verify_new_events().ok  # from the same verified point as before: the full pass found problems
    check = status.verification()
    assert check.problem == "the last full verify_event_chain found 1 problems" and check.figures["intact"] is False


def test_the_incremental_pass_starts_where_the_last_clean_run_ended(history, tamper):
    """A run that found problems is no verified point: the next pass checks the same events again."""
    append_events(stream_id="payment-a", aggregate_type="Payment", events=payment_events(1), expected_version=4)
    tamper("UPDATE eventstore_event SET data = '{}' WHERE stream_id = 'payment-a' AND version = 5")
    assert not verify_new_events().ok
    append_events(stream_id="payment-b", aggregate_type="Payment", events=payment_events(1), expected_version=4)

    again = verify_new_events()

    assert problems_of(again) == ["payment-a v5: content does not match its hash (edited or moved)"]
    assert again.events_checked == 2


def test_an_unknown_expected_seal_is_reported(history):
    report = verify_event_chain(expected_seal="f" * 64)
    assert [problem.message for problem in report.problems] == [
        f"the seal {'f' * 64} kept outside the database is not in the chain of seals (history rewritten)"
    ]


# Forgeries by someone who knows the hashing: each hash they leave is the right one for its row, so
# only the checks between rows (links, versions, heads, seals) can catch them. No seal covers the
# events yet, so the seals' coverage cannot catch them either.

def _hash_of(event: Event, prev_hash: str) -> str:
    return event_hash(
        prev_hash=prev_hash, position=event.position, event_id=str(event.event_id), stream_id=event.stream_id,
        aggregate_type=event.aggregate_type, version=event.version, event_type=event.event_type,
        data_json=canonical_json(event.data), metadata_json=canonical_json(event.metadata),
        recorded_at=event.recorded_at,
    )


def rehashed(stream_id: str, version: int) -> str:
    """The statement giving one event the right hash for its content as it is now (its link unchanged)."""
    event = Event.objects.get(stream_id=stream_id, version=version)
    return f"UPDATE eventstore_event SET hash = '{_hash_of(event, event.prev_hash)}' WHERE position = {event.position}"


def rechained(stream_id: str) -> list[str]:
    """The statements recomputing a stream's whole chain and its recorded head from its rows as they are now."""
    statements, previous = [], GENESIS_HASH
    for event in Event.objects.filter(stream_id=stream_id).order_by("version"):
        recomputed = _hash_of(event, previous)
        statements.append(
            f"UPDATE eventstore_event SET prev_hash = '{previous}', hash = '{recomputed}' WHERE position = {event.position}"
        )
        previous = recomputed
    statements.append(
        f"UPDATE eventstore_stream SET version = {event.version}, head_position = {event.position},"
        f" head_hash = '{previous}' WHERE stream_id = '{stream_id}'"
    )
    return statements


def problems_of(report) -> list[str]:
    return [str(problem) for problem in report.problems]


def test_an_edited_event_with_a_recomputed_hash_no_longer_links_to_the_next_one(tamper):
    write_history()
    tamper("UPDATE eventstore_event SET data = '{\"amount\": \"999.00\", \"currency\": \"EUR\"}'"
           " WHERE stream_id = 'payment-b' AND version = 2")
    tamper(rehashed("payment-b", 2))

    report = verify_event_chain()

    assert problems_of(report) == ["payment-b v3: does not link to the event before it (inserted, removed or reordered)"]


RENUMBERINGS = {
    "versions shifted up": (
        ["UPDATE eventstore_event SET version = version + 10 WHERE stream_id = 'payment-a' AND version >= 3"],
        "payment-a v13: expected v3 here: events are missing or were renumbered",
    ),
    "an event removed": (
        ["DELETE FROM eventstore_event WHERE stream_id = 'payment-a' AND version = 2"],
        "payment-a v3: expected v2 here: events are missing or were renumbered",
    ),
}


@pytest.mark.parametrize("statements, problem", RENUMBERINGS.values(), ids=list(RENUMBERINGS))
def test_a_renumbered_stream_with_a_consistent_chain_and_head_is_caught_by_its_versions(statements, problem, tamper):
    write_history()
    tamper(*statements)
    tamper(*rechained("payment-a"))

    report = verify_event_chain()

    assert problems_of(report) == [problem]


@pytest.mark.parametrize("stream_id", ["payment-a", "payment-b", "payment-c"])  # first, middle and last head
def test_a_deleted_stream_whose_head_is_kept_is_reported(stream_id, tamper):
    write_history()
    tamper(f"DELETE FROM eventstore_event WHERE stream_id = '{stream_id}'")

    report = verify_event_chain()

    assert problems_of(report) == [f"{stream_id}: recorded at v4 but none of its events is left (stream deleted)"]
    assert report.streams_checked == 2


FORGED_SEAL_TIME = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _appended_seal(prev_hash: str, *, hash: str | None = None) -> str:
    """A seal after the newest one, covering what it covers; its hash recomputed unless given."""
    latest = Seal.objects.order_by("-id").first()
    fields = dict(prev_hash=prev_hash, sealed_at=FORGED_SEAL_TIME, transaction_horizon=latest.transaction_horizon,
                  event_count=latest.event_count, events_digest=latest.events_digest)
    return (
        "INSERT INTO eventstore_seal (prev_hash, sealed_at, transaction_horizon, event_count, events_digest, hash)"
        f" VALUES ('{prev_hash}', '{FORGED_SEAL_TIME.isoformat()}', {latest.transaction_horizon}, {latest.event_count},"
        f" '{latest.events_digest}', '{hash or seal_hash(**fields)}')"
    )


SEAL_FORGERIES = {
    "edited the time of a seal": lambda: "UPDATE eventstore_seal SET sealed_at = sealed_at - interval '1 hour'",
    "moved a seal's horizon past no events": lambda: (
        "UPDATE eventstore_seal SET transaction_horizon = transaction_horizon + 1000"
    ),
    "appended a seal with a forged hash": lambda: _appended_seal(Seal.objects.get().hash, hash=forged_hash()),
    "appended a seal that does not link to the newest": lambda: _appended_seal(forged_hash()),
}


@pytest.mark.parametrize("forgery", SEAL_FORGERIES.values(), ids=list(SEAL_FORGERIES))
def test_a_seal_edited_or_forged_where_its_coverage_still_holds_breaks_the_chain_of_seals(history, forgery, tamper):
    tamper(forgery())

    report = verify_event_chain()

    assert [problem.message for problem in report.problems] == [
        "the chain of seals is broken (a seal was edited, removed or inserted)"
    ]
    assert report.new_seal is None


def test_verification_while_an_append_commits_reports_no_tampering(plain_connection):
    """The scan reads the heads, then the events: an append committed between the two must not show.

    Another session holds the events table locked, so the scan waits just before it reads the
    events; that session then appends to a stream whose head was already read, and commits.
    """
    write_history()
    locked, appended = threading.Event(), threading.Event()

    def append_while_the_scan_waits():
        with plain_connection(autocommit=False) as writer:
            writer.execute("LOCK TABLE eventstore_event IN ACCESS EXCLUSIVE MODE")
            locked.set()
            deadline = time.monotonic() + 30
            while not writer.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = 'eventstore_event'::regclass AND NOT granted"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the scan never reached the events"
                time.sleep(0.01)
            writer.execute(
                "SELECT * FROM eventstore_append('payment-a', 'Payment', 4, ARRAY[gen_random_uuid()],"
                " ARRAY['PaymentRefunded'], ARRAY['{\"amount\":\"1.00\"}'], ARRAY['{}'])"
            )
            writer.commit()
            appended.set()

    writer = threading.Thread(target=append_while_the_scan_waits)
    writer.start()
    try:
        assert locked.wait(10)
        report = verify_event_chain(seal=False)
    finally:
        writer.join(60)
    assert appended.is_set()

    assert problems_of(report) == []
    assert (report.events_checked, report.streams_checked) == (12, 3)
    assert Event.objects.filter(stream_id="payment-a").count() == 5
    assert verify_event_chain(seal=False).ok


def forge_next_event(plain_connection, stream_id: str, *, position: int | str, recorded_at: str) -> None:
    """Appends to `stream_id`, as a superuser with the triggers on (the stream head follows), an event
    that links to the stream's newest one and carries a correct hash over its own fields: all the
    hash chain can check holds."""
    newest = Event.objects.filter(stream_id=stream_id).order_by("-version").first()
    with plain_connection() as attacker:
        position, recorded = attacker.execute(f"SELECT {position}, %s::timestamptz", [recorded_at]).fetchone()
        data, metadata = {"amount": "1.00", "currency": "EUR"}, {"correlation_id": "corr-1"}
        fields = dict(position=position, event_id=str(uuid.uuid4()), stream_id=stream_id, aggregate_type="Payment",
                      version=newest.version + 1, event_type="PaymentRefunded", recorded_at=recorded)
        digest = event_hash(prev_hash=newest.hash, data_json=canonical_json(data),
                            metadata_json=canonical_json(metadata), **fields)
        attacker.execute(
            "INSERT INTO eventstore_event (position, event_id, stream_id, aggregate_type, version, event_type, data,"
            " metadata, recorded_at, prev_hash, hash) VALUES (%(position)s, %(event_id)s, %(stream_id)s,"
            " %(aggregate_type)s, %(version)s, %(event_type)s, %(data)s, %(metadata)s, %(recorded_at)s,"
            " %(prev_hash)s, %(hash)s)",
            {**fields, "data": canonical_json(data), "metadata": canonical_json(metadata), "prev_hash": newest.hash,
             "hash": digest},
        )


FORGED_ORDER = {
    "from 2001 at position -999": (
        "-999", "2001-01-01T00:00:00Z",
        ["position -999 was never handed out by the position sequence", "is not after v4's",
         "recorded at 2001-01-01T00:00:00+00:00, before v4"],
    ),
    "at a position the sequence has not reached": (
        "(SELECT last_value + 1000 FROM eventstore_event_position_seq)", "now()",
        ["was never handed out by the position sequence"],
    ),
    "at a position handed out before the stream's newest": (
        "(SELECT min(position) - 1 FROM eventstore_event WHERE stream_id = 'payment-a')", "now()",
        ["is not after v4's"],
    ),
    "recorded before the stream's newest event": (
        "nextval('eventstore_event_position_seq')", "2001-01-01T00:00:00Z",
        ["before v4"],
    ),
}


@pytest.mark.parametrize("position, recorded_at, expected", FORGED_ORDER.values(), ids=list(FORGED_ORDER))
def test_a_forged_event_with_a_valid_hash_is_reported_by_its_position_and_time(
    position, recorded_at, expected, plain_connection
):
    with plain_connection() as burner:  # a position handed out and never used, as a rolled-back append leaves
        burner.execute("SELECT nextval('eventstore_event_position_seq')")
    write_history()
    forge_next_event(plain_connection, "payment-a", position=position,
                     recorded_at=recorded_at if recorded_at != "now()" else timezone.now().isoformat())

    report = verify_event_chain(seal=False)

    problems = [str(problem) for problem in report.problems]
    assert all(problem.startswith("payment-a v5: ") for problem in problems), problems
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert len(problems) == len(expected), problems


def test_the_incremental_pass_recomputes_the_ledger_leaves_from_the_last_verified_head_to_the_newest(
    history, ledger_key, tamper
):
    ledger.sign_tree_head()
    first = verify_new_events()
    append_events(stream_id="payment-d", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    ledger.sign_tree_head()
    second = verify_new_events()
    append_events(stream_id="payment-e", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    ledger.sign_tree_head()
    gone = Event.objects.get(stream_id="payment-e").position
    tamper("DELETE FROM eventstore_event WHERE stream_id = 'payment-e'",
           "DELETE FROM eventstore_stream WHERE stream_id = 'payment-e'")

    third = verify_new_events()

    assert first.ok and (first.from_tree_size, first.tree_size) == (None, 12)
    assert second.ok and (second.from_tree_size, second.tree_size, second.events_checked) == (12, 14, 2)
    assert problems_of(third) == [
        f"ledger: ledger leaf 14: its event at position {gone} is gone",
        "ledger: the events of leaves 14..15 do not give the root of the newest signed head (events altered, "
        "removed or reordered)",
    ]
