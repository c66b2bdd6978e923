"""Analytics activities run directly, as the worker runs them, with the SDK's ActivityEnvironment."""

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from analytics.activities import statistics, trends
from analytics.messages import AnalyticsRequest

pytestmark = pytest.mark.django_db(transaction=True)

SINCE, UNTIL = "2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"


def test_statistics_of_an_empty_month_are_zero():
    answer = ActivityEnvironment().run(statistics, AnalyticsRequest("statistics", "PaymentProcessed", SINCE, UNTIL))
    assert (answer.count, answer.payments, answer.currencies) == (0, None, [])


def test_trends_have_every_bucket_even_empty_ones():
    answer = ActivityEnvironment().run(trends, AnalyticsRequest("trends", "PaymentProcessed", SINCE, UNTIL,
                                                                interval="week"))
    assert len(answer.buckets) >= 4 and all(bucket.count == 0 for bucket in answer.buckets)


@pytest.mark.parametrize("request_, field", [
    (AnalyticsRequest("statistics", "PaymentProcessed", "last tuesday", UNTIL), "from"),
    (AnalyticsRequest("statistics", "PaymentProcessed", SINCE, "2026-02-01T00:00:00"), "to"),
    (AnalyticsRequest("trends", "PaymentProcessed", SINCE, UNTIL, time_zone="Mars/Olympus"), "time_zone"),
    (AnalyticsRequest("statistics", "PaymentProcessed", UNTIL, SINCE), None),
], ids=["unparsable from", "naive to", "unknown time zone", "reversed range"])
def test_invalid_queries_fail_at_once_naming_the_field(request_, field):
    activity = statistics if request_.operation == "statistics" else trends
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(activity, request_)
    assert failure.value.non_retryable and failure.value.type == "InvalidQuery"
    if field is not None:
        assert failure.value.details == (field,)
