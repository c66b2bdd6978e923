"""The payments benchmark's baseline: a bare workflow with the command workflow's activity shape.

Two local activities (load, then append, which applies the prompt projections in its transaction) with
the same options, run by the same worker on the same Temporal server, that touch no database. Pure Python, like any workflow module: the benchmark registers
them on its worker beside the project's workflows and activities.
"""

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from payments.messages import PaymentCommandRequest, PaymentCommandResult
    from payments.workflows import ACTIVITY_OPTIONS


@activity.defn(name="bench.load")
def bare_load(payment_id: str) -> dict:
    return {"stream_id": payment_id, "version": 0, "events": []}


@activity.defn(name="bench.append")
def bare_append(payment_id: str) -> dict:
    return {"stream_id": payment_id, "version": 1}


@workflow.defn(name="BareCommandWorkflow")
class BareCommandWorkflow:
    @workflow.run
    async def run(self, request: PaymentCommandRequest) -> PaymentCommandResult:
        await workflow.execute_local_activity("bench.load", request.payment_id, **ACTIVITY_OPTIONS)
        await workflow.execute_local_activity("bench.append", request.payment_id, **ACTIVITY_OPTIONS)
        return PaymentCommandResult(True, "bare", request.payment_id, 1, [str(workflow.uuid4())],
                                    workflow.info().workflow_id)


BARE_ACTIVITIES = [bare_load, bare_append]
