"""Personal fields encrypted under their subject's key (eventstore.personal_data): appends of payment
events whose description and user ids are encrypted, beside appends of the same events under an
aggregate type whose schemas are the same without the personal marks (same validation, no encryption);
then the full chain verification over encrypted events beside over plain ones, and reading a page of
encrypted events (one key lookup, each field decrypted) beside a page of plain ones."""

import copy
import statistics
import uuid

import pytest

from eventstore import registry, selectors
from eventstore.events import ANY, NewEvent
from eventstore.integrity.verification import verify_event_chain
from eventstore.store import append_events
from payments.event_schemas import PAYMENT_EVENT_SCHEMAS
from tests.benchmarks.measure import Comparison, alternate, timed
from tests.threads import in_threads

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(appends=2000, batches=10, rounds=3, verified=20_000)  # verification: as the delta of two full runs
QUICK = dict(appends=200, batches=2, rounds=1, verified=5_000)

PLAIN = "PlainPayment"  # the Payment schemas without "x-personal": validated alike, stored in plaintext
DATA = {"payment_id": "payment-bench", "organization_id": "org-1", "user_id": "user-7", "amount": "125.50",
        "currency": "EUR", "description": "Invoice 2024-118 for the spring order"}


def unmarked(schema):
    if isinstance(schema, dict):
        return {key: unmarked(value) for key, value in schema.items() if key != "x-personal"}
    if isinstance(schema, list):
        return [unmarked(value) for value in schema]
    return schema


@pytest.fixture
def plain_schemas():
    registry.declare(event_schemas={PLAIN: registry.EventSchemas(
        data={event_type: unmarked(copy.deepcopy(schema)) for event_type, schema in PAYMENT_EVENT_SCHEMAS.data.items()},
        metadata=unmarked(copy.deepcopy(PAYMENT_EVENT_SCHEMAS.metadata)))})


def new_events(count: int, offset: int = 0) -> list[NewEvent]:
    return [NewEvent("PaymentProcessed", DATA, {"correlation_id": f"order-{(offset + index) // 3}", "user_id": "user-7",
                                                "organization_id": "org-1"}) for index in range(count)]


def test_encrypted_appends_and_verification_beside_plain_ones(bench, size, plain_schemas):
    bench.describe_data(f"{size.appends:,} single-event appends (100 streams) and {size.batches} batches of 1,000 "
                        f"per round, {size.rounds} rounds; verification over {size.verified:,} events of each kind")
    verify_beside_plain(bench, size.verified)  # first, on an empty store: nothing else in the timings
    run = uuid.uuid4().hex[:8]

    def single(aggregate_type):
        def work():
            for index in range(size.appends):
                append_events(stream_id=f"{aggregate_type}-{run}-{index % 100}", aggregate_type=aggregate_type,
                              events=new_events(1, index), expected_version=ANY)
        return work

    def batches(aggregate_type):
        def work():
            for _ in range(size.batches):
                append_events(stream_id=f"{aggregate_type}-{uuid.uuid4()}", aggregate_type=aggregate_type,
                              events=new_events(1000), expected_version=ANY)
        return work

    runs = alternate(size.rounds, size.appends, single("Payment"), single(PLAIN))
    bench.report(Comparison("single-event appends, personal fields encrypted", "events/s", runs.measured,
                            runs.baseline, "the same, plaintext"))
    runs = alternate(size.rounds, size.batches * 1000, batches("Payment"), batches(PLAIN))
    bench.report(Comparison("1,000-event batch appends, personal fields encrypted", "events/s", runs.measured,
                            runs.baseline, "the same, plaintext"))

    page = [event.event_id for event in selectors.events_by_aggregate_type("Payment", page_size=1000)][:1000]
    plain_page = [event.event_id for event in selectors.events_by_aggregate_type(PLAIN, page_size=1000)][:1000]
    runs = alternate(max(size.rounds, 3) * 5, 1000, lambda: selectors.events_by_ids(page),
                     lambda: selectors.events_by_ids(plain_page))
    bench.report(Comparison("reading 1,000 events by id, fields decrypted", "events/s", runs.measured, runs.baseline,
                            "the same, plaintext"))

def verify_beside_plain(bench, count: int) -> None:
    """A store of `count` plain events verified, then the same with `count` encrypted events added: the
    encrypted events' verification time is the difference."""
    assert _count() == 0
    load(PLAIN, count)
    plain_seconds = _verify_seconds()
    load("Payment", count)
    encrypted_seconds = _verify_seconds() - plain_seconds
    assert _count() == 2 * count
    bench.report(Comparison("verify_event_chain over encrypted events", "events/s", count / encrypted_seconds,
                            count / plain_seconds, "over plain events", target=0.8))


def load(aggregate_type: str, count: int) -> None:
    run = uuid.uuid4().hex[:8]

    def work(thread):
        for index in range(thread, count // 100, 4):
            append_events(stream_id=f"load-{aggregate_type}-{run}-{index}", aggregate_type=aggregate_type,
                          events=new_events(100, index * 100), expected_version=ANY)
    in_threads(4, work)


def _verify_seconds() -> float:
    """How long a full verification of the store as it is now takes (no seal recorded): the median of
    three, after one untimed run that reads the newly loaded rows for the first time."""
    def verify():
        report = verify_event_chain(seal=False)
        assert report.ok, report.problems[:3]
    verify()
    return statistics.median(timed(verify) for _ in range(3))


def _count() -> int:
    from eventstore.models import Event
    return Event.objects.count()
