"""EventAnalyticsWorkflow: statistics and trends of payment events, for any Temporal client."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from analytics.activity_signatures import statistics, trends
    from analytics.messages import AnalyticsAnswer, AnalyticsRequest
    from eventstore.temporal.errors import workflow_failure

ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=120),
    retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=["InvalidQuery"]),
)
OPERATIONS = {"statistics": statistics, "trends": trends}


@workflow.defn(name="EventAnalyticsWorkflow")
class EventAnalyticsWorkflow:
    @workflow.run
    async def run(self, request: AnalyticsRequest) -> AnalyticsAnswer:
        if request.operation not in OPERATIONS:
            raise ApplicationError(f"Unknown operation {request.operation!r}; use statistics or trends.",
                                   type="InvalidQuery", non_retryable=True)
        try:
            answer = await workflow.execute_activity(OPERATIONS[request.operation], request, **ACTIVITY_OPTIONS)
        except ActivityError as error:
            raise workflow_failure(error) from error
        if request.operation == "statistics":
            return AnalyticsAnswer(request.operation, statistics=answer)
        return AnalyticsAnswer(request.operation, trend=answer)


WORKFLOWS = [EventAnalyticsWorkflow]
