"""The payment activities as workflows call them: each one's name and types, with a body that
never runs. Pure Python, no Django; `eventstore/temporal/activity_signatures.py` says why."""

from temporalio import activity

from payments.messages import (
    CheckApproverRequest,
    CheckedApprover,
    HistoryAnswer,
    HistoryQuery,
    LoadedPayment,
    LoadPaymentRequest,
)


@activity.defn(name="payments.load_payment")
def load_payment(request: LoadPaymentRequest) -> LoadedPayment:
    """Implemented by `payments.activities.load_payment`."""
    raise NotImplementedError


@activity.defn(name="payments.query_history")
def query_history(query: HistoryQuery) -> HistoryAnswer:
    """Implemented by `payments.activities.query_history`."""
    raise NotImplementedError


@activity.defn(name="payments.check_approver")
def check_approver(request: CheckApproverRequest) -> CheckedApprover:
    """Implemented by `payments.activities.check_approver`."""
    raise NotImplementedError
