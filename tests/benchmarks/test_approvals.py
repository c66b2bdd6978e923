"""From an approval to the command's events: a refund under four-eyes control, timed from the
approver's decision until the refund is appended and answered, beside a plain refund of the same
payment shape run from submission to answer. Serially, on the suite's worker and dev server."""

import time
import uuid

import pytest

from analytics.percentiles import percentile
from eventstore.actors import Actor
from payments import approval_policies
from payments.client import submit_command, submit_decision
from payments.messages import ApprovalDecision, PaymentCommandRequest
from payments.models import ApprovalPolicy, Organization
from payments.staff import create_finance_user
from tests.benchmarks.measure import Comparison

pytestmark = [pytest.mark.bench, pytest.mark.timeout(1800), pytest.mark.django_db(transaction=True)]

FULL = dict(refunds=60)
QUICK = dict(refunds=15)
BASELINE = "plain refund, submission to answer"
CONTROLLED, PLAIN = "org-bench-approvals", "org-bench-plain"


def test_from_approval_to_the_refund_beside_a_plain_refund(bench, size, temporal):
    bench.describe_data(f"{size.refunds} refunds of each kind, one at a time, each on a payment of its own")
    requester = create_finance_user(username="bench-requester", password="pw", organizations=[CONTROLLED, PLAIN])
    approver = create_finance_user(username="bench-approver", password="pw", organizations=[CONTROLLED],
                                   approver=True)
    as_actor = lambda user: Actor(kind="user", id=str(user.pk), name=user.username, channel="admin")  # noqa: E731
    approval_policies.save_rule(rule=ApprovalPolicy(organization=Organization.objects.get(id=CONTROLLED),
                                                    command_type="REFUND"), actor=as_actor(approver))

    def run(request, **options):
        return temporal.run(submit_command(temporal.client, request, actor=as_actor(requester),
                                           task_queue=temporal.task_queue, timeout=120, **options))

    def command(kind, organization, payment_id):
        return PaymentCommandRequest(kind, payment_id, organization, "bench-requester", "10.00", "EUR", "benchmark")

    plain, approved = [], []
    for _ in range(size.refunds):
        payment_id = f"payment-bench-{uuid.uuid4().hex}"
        assert run(command("CREATE", PLAIN, payment_id)).success
        started = time.perf_counter()
        assert run(command("REFUND", PLAIN, payment_id)).success
        plain.append((time.perf_counter() - started) * 1000)

        payment_id = f"payment-bench-{uuid.uuid4().hex}"
        assert run(command("CREATE", CONTROLLED, payment_id)).success
        asked = run(command("REFUND", CONTROLLED, payment_id), answer_early=True)
        assert asked.approval_state == "pending", asked.message
        started = time.perf_counter()
        done = temporal.run(submit_decision(temporal.client, asked.workflow_id, ApprovalDecision("approve"),
                                            actor=as_actor(approver), timeout=120))
        approved.append((time.perf_counter() - started) * 1000)
        assert done.success and done.approval_state == "approved", done.message

    for quantile in (0.5, 0.99):
        bench.report(Comparison(f"approval to the refund's events: p{round(quantile * 100)} latency", "ms",
                                percentile(approved, quantile), percentile(plain, quantile), BASELINE,
                                higher_is_better=False))
