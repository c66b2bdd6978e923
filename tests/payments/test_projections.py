"""The payment projections on real PostgreSQL: the summary's handler applied to events it has seen."""

import pytest

from eventstore import selectors
from eventstore.events import START, Checkpoint
from eventstore.projections.engine import apply_pending
from eventstore.projections.models import ProjectionCheckpoint
from payments.domain import EventType
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection

pytestmark = pytest.mark.django_db(transaction=True)

summary = PaymentSummaryProjection()


def the_start(events) -> Checkpoint:
    return START


def just_before_the_first_refund(events) -> Checkpoint:
    """Where a refund comes again but not the PaymentProcessed that would reset its payment's row."""
    first_refund = next(index for index, event in enumerate(events) if event.event_type == EventType.PAYMENT_REFUNDED)
    return Checkpoint.of(events[first_refund - 1])


@pytest.mark.parametrize("rewind_to", [the_start, just_before_the_first_refund])
def test_the_summary_handler_is_idempotent_when_events_come_again(
    rewind_to, random_commands, summary_rows, assert_summaries_match_a_fold_of_the_events
):
    random_commands(200, payments=20)
    apply_pending(summary)
    before = summary_rows()
    assert PaymentSummary.objects.filter(refunded__gt=0).exists()
    rewound = rewind_to(list(selectors.follow_all()))
    ProjectionCheckpoint.objects.filter(name=summary.name).update(
        transaction_id=rewound.transaction_id, position=rewound.position)

    again = apply_pending(summary)

    assert again.applied > 0
    assert summary_rows() == before
    assert_summaries_match_a_fold_of_the_events()
