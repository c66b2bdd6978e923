"""The payment activities as workflows call them: each one's name and types, with a body that
never runs. Pure Python, no Django; `eventstore/temporal/activity_signatures.py` says why."""

from temporalio import activity

from payments.messages import HistoryAnswer, HistoryQuery, LoadedPayment, LoadPaymentRequest


@activity.defn(name="payments.load_payment")
def load_payment(request: LoadPaymentRequest) -> LoadedPayment:
    """Implemented by `payments.activities.load_payment`."""
    raise NotImplementedError


@activity.defn(name="payments.query_history")
def query_history(query: HistoryQuery) -> HistoryAnswer:
    """Implemented by `payments.activities.query_history`."""
    raise NotImplementedError
