"""Four-eyes approval of refunds and cancels, through the real worker, Temporal and PostgreSQL: the
policy puts a command under control, a different person with the approver permission of the
organization decides, and the payment rules are checked again when the approved command runs."""

import asyncio
import time
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetStickyTaskQueueRequest
from temporalio.service import RPCError

from eventstore.actors import Actor
from eventstore.models import Event
from eventstore.projections.rebuild import rebuild
from eventstore.selectors import read_stream
from eventstore.temporal.worker import worker_options
from payments import approval_policies
from payments.client import ApprovalClosed, CommandNotFinished, DecisionRefused, submit_command, submit_decision
from payments.messages import ApprovalDecision
from payments.models import Approval, ApprovalPolicy, Organization
from payments.projections import ApprovalProjection
from payments.staff import create_finance_user
from payments.tokens import issue_api_token
from payments.workflows import PaymentEventSourcingWorkflow
from tests.processes import command_env, manage

pytestmark = pytest.mark.django_db(transaction=True)

ORG = "org-456"  # the command_request fixture's organization


@pytest.fixture
def people(temporal):
    """alice requests (finance staff), bob and dave approve (finance approvers) in org-456; carol
    approves in another organization; a policy: refunds from 1,000.00 EUR and every cancel."""
    users = {
        "alice": create_finance_user(username="alice", password="pw", organizations=[ORG]),
        "bob": create_finance_user(username="bob", password="pw", organizations=[ORG], approver=True),
        "dave": create_finance_user(username="dave", password="pw", organizations=[ORG], approver=True),
        "carol": create_finance_user(username="carol", password="pw", organizations=["org-other"], approver=True),
    }
    editor = Actor(kind="user", id=str(users["bob"].pk), name="bob", channel="admin")
    organization = Organization.objects.get(id=ORG)
    approval_policies.save_rule(rule=ApprovalPolicy(organization=organization, command_type="REFUND", currency="EUR",
                                                    threshold=Decimal("1000.00")), actor=editor)
    approval_policies.save_rule(rule=ApprovalPolicy(organization=organization, command_type="CANCEL"), actor=editor)
    return users


def actor(user, kind="api_token") -> Actor:
    return Actor(kind=kind, id=str(user.pk), name=user.username, channel="api" if kind == "api_token" else "admin")


def submit(temporal, request, *, by, task_queue=None):
    return temporal.run(submit_command(temporal.client, request, actor=by, answer_early=True,
                                       task_queue=task_queue or temporal.task_queue, timeout=60))


def decide(temporal, approval_id, decision, *, by, reason=""):
    workflow_id = Approval.objects.get(approval_id=approval_id).workflow_id
    return temporal.run(submit_decision(temporal.client, workflow_id, ApprovalDecision(decision, reason), actor=by,
                                        timeout=60))


def paid(temporal, command_request, amount="5000.00"):
    created = submit(temporal, command_request(amount=amount), by=Actor(kind="system", id="test"))
    assert created.success, created.message
    return created.payment_id


def event_types(payment_id):
    return list(Event.objects.filter(stream_id=payment_id).order_by("version").values_list("event_type", flat=True))


def test_policy_puts_a_refund_under_four_eyes_and_two_people_appear_on_its_event(temporal, people, command_request):
    payment_id = paid(temporal, command_request)
    small = submit(temporal, command_request("REFUND", payment_id, amount="999.99"), by=actor(people["alice"]))
    assert small.success and small.approval_state == "" and small.event_ids

    started = time.monotonic()
    asked = submit(temporal, command_request("REFUND", payment_id, amount="2000.00"), by=actor(people["alice"]))
    assert time.monotonic() - started < 10, "the caller waited for the decision"
    assert asked.success and asked.approval_state == "pending" and "awaits approval" in asked.message
    assert event_types(payment_id) == ["PaymentProcessed", "PaymentRefunded", "RefundRequested"]
    approval = Approval.objects.get(approval_id=asked.approval_id)
    assert (approval.state, approval.amount, approval.requested_by_name) == ("pending", Decimal("2000.00"), "alice")

    # the requester through another credential (an admin session instead of the token), then the
    # approver of another organization: both refused by the activity, nothing written
    with pytest.raises(DecisionRefused, match="yourself"):
        decide(temporal, asked.approval_id, "approve", by=actor(people["alice"], kind="user"))
    with pytest.raises(DecisionRefused, match="not a member"):
        decide(temporal, asked.approval_id, "approve", by=actor(people["carol"]))
    assert len(event_types(payment_id)) == 3

    done = decide(temporal, asked.approval_id, "approve", by=actor(people["bob"], kind="user"))
    assert done.success and done.approval_state == "approved", done.message
    refunded = Event.objects.get(stream_id=payment_id, version=4)
    assert refunded.event_type == "PaymentRefunded" and refunded.data["approval_id"] == asked.approval_id
    assert refunded.metadata["actor"]["id"] == str(people["alice"].pk)
    assert refunded.metadata["approved_by"]["id"] == str(people["bob"].pk)
    approval.refresh_from_db()
    assert (approval.state, approval.decided_by_name) == ("approved", "bob")
    assert approval.decided_at >= approval.requested_at


def test_api_answers_202_scopes_approvals_and_refuses_the_requester(temporal, people, command_request):
    payment_id = paid(temporal, command_request)
    clients = {name: _api_client(user) for name, user in people.items()}
    answer = clients["alice"].post("/api/payments/commands/", {
        "type": "CANCEL", "payment_id": payment_id, "organization_id": ORG, "description": "Duplicate"}, format="json")
    assert answer.status_code == 202, answer.content
    approval_id = answer.json()["approval_id"]
    requested = list(read_stream(payment_id))[-1]
    assert requested.event_type == "CancelRequested"  # the answer is the payment as the request left it
    assert (answer.json()["status"], answer.json()["version"], answer.json()["event_ids"]) == (
        "PROCESSED", requested.version, [str(requested.event_id)])

    assert [row["approval_id"] for row in clients["bob"].get("/api/approvals/?filter=waiting_for_me").json()["results"]
            ] == [approval_id]
    assert clients["alice"].get("/api/approvals/?filter=waiting_for_me").json()["results"] == []
    assert [row["approval_id"] for row in
            clients["alice"].get("/api/approvals/?filter=requested_by_me").json()["results"]] == [approval_id]
    assert clients["bob"].get("/api/approvals/?filter=soon").status_code == 400

    # another organization's approval answers exactly as a missing one
    missing = clients["carol"].post(f"/api/approvals/{uuid.uuid4()}/approve/")
    foreign = clients["carol"].post(f"/api/approvals/{approval_id}/approve/")
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
    assert missing.status_code == 404
    assert clients["carol"].get(f"/api/approvals/{approval_id}/").status_code == 404
    assert clients["carol"].get("/api/approvals/").json()["results"] == []

    session = APIClient()
    session.force_login(people["alice"])  # the requester's second credential
    assert session.post(f"/api/approvals/{approval_id}/approve/").status_code == 403
    assert clients["bob"].post(f"/api/approvals/{approval_id}/reject/", {}, format="json").status_code == 400

    rejected = clients["bob"].post(f"/api/approvals/{approval_id}/reject/", {"reason": "Not a duplicate"},
                                   format="json")
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["approval"]["state"] == "rejected"
    assert rejected.json()["approval"]["reason"] == "Not a duplicate"
    assert event_types(payment_id) == ["PaymentProcessed", "CancelRequested", "CancelRejected"]
    assert clients["dave"].post(f"/api/approvals/{approval_id}/approve/").status_code == 409
    history = clients["alice"].get(f"/api/payments/{payment_id}/history/").json()
    assert [event["event_type"] for event in history["results"]][-1] == "CancelRejected"
    assert clients["alice"].get(f"/api/payments/{payment_id}/").json()["status"] == "PROCESSED"
    fed = clients["alice"].get("/api/feed/", {"limit": 100}).json()["results"]
    assert [event["event_type"] for event in fed if event["stream_id"] == payment_id][-2:] == [
        "CancelRequested", "CancelRejected"]
    assert clients["carol"].get("/api/feed/", {"limit": 100}).json()["results"] == []


def test_approve_and_reject_at_once_exactly_one_wins(temporal, people, command_request):
    payment_id = paid(temporal, command_request)
    asked = submit(temporal, command_request("REFUND", payment_id, amount="1500.00"), by=actor(people["alice"]))
    workflow_id = Approval.objects.get(approval_id=asked.approval_id).workflow_id

    async def both():
        return await asyncio.gather(
            submit_decision(temporal.client, workflow_id, ApprovalDecision("approve"), actor=actor(people["bob"])),
            submit_decision(temporal.client, workflow_id, ApprovalDecision("reject", "Too much"),
                            actor=actor(people["dave"])),
            return_exceptions=True)

    outcomes = temporal.run(both())
    winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], ApprovalClosed) and "already" in str(losers[0])
    decided = event_types(payment_id)[1:]
    assert decided in (["RefundRequested", "PaymentRefunded"], ["RefundRequested", "RefundRejected"])


def test_an_approved_refund_that_no_longer_fits_is_refused_when_run(temporal, people, command_request):
    payment_id = paid(temporal, command_request, amount="2500.00")
    asked = submit(temporal, command_request("REFUND", payment_id, amount="2000.00"), by=actor(people["alice"]))
    assert asked.approval_state == "pending"
    other = submit(temporal, command_request("REFUND", payment_id, amount="800.00"), by=actor(people["dave"]))
    assert other.success and other.approval_state == ""

    done = decide(temporal, asked.approval_id, "approve", by=actor(people["bob"]))
    assert not done.success and done.approval_state == "refused"
    assert "exceeds what is left to refund" in done.message and "1700.00 EUR" in done.message
    last = Event.objects.filter(stream_id=payment_id).order_by("-version").first()
    assert last.event_type == "RefundRejected" and last.data["refused_by_rules"] is True
    assert Approval.objects.get(approval_id=asked.approval_id).state == "refused"

    rows = list(Approval.objects.order_by("approval_id").values())
    assert rebuild(ApprovalProjection(), restart=True).swapped
    assert list(Approval.objects.order_by("approval_id").values()) == rows


def test_a_request_left_undecided_expires(temporal, people, command_request):
    payment_id = paid(temporal, command_request)
    asked = submit(temporal, command_request("CANCEL", payment_id, approval_timeout_seconds=1.5),
                   by=actor(people["alice"]))
    assert asked.approval_state == "pending"
    result = temporal.run(temporal.client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run,
                                                                  asked.workflow_id).result())
    assert result.approval_state == "expired" and not result.success
    assert event_types(payment_id) == ["PaymentProcessed", "CancelRequested", "CancelExpired"]
    assert Approval.objects.get(approval_id=asked.approval_id).state == "expired"
    with pytest.raises(ApprovalClosed):
        decide(temporal, asked.approval_id, "approve", by=actor(people["bob"]))


def test_worker_killed_while_a_request_waits_then_the_approval_goes_through(temporal, people, command_request,
                                                                            tmp_path):
    """The request is recorded by a worker process that is then SIGKILLed; another worker (this
    process's) picks the workflow up from its history and runs the approval."""
    task_queue = f"approvals-{uuid.uuid4()}"
    log = open(tmp_path / "worker.log", "w")
    process = manage("temporal_worker", "--task-queue", task_queue, "--no-catch-up",
                     env=command_env(TEMPORAL_ADDRESS=temporal.address), output=log)
    payment_id = paid(temporal, command_request)  # while the worker process starts
    second = None
    try:
        asked = submit(temporal, command_request("REFUND", payment_id, amount="3000.00"), by=actor(people["alice"]),
                       task_queue=task_queue)
        assert asked.approval_state == "pending", asked.message
        process.kill()
        process.wait()
        forget_sticky_queue(temporal, asked.workflow_id)
        second = temporal.worker(task_queue=task_queue, **worker_options(strict_sandbox=True))
        running = temporal.schedule(second.run())
        done = decide(temporal, asked.approval_id, "approve", by=actor(people["bob"]))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if second is not None:
            temporal.run(second.shutdown())
            running.result(timeout=30)
        log.close()
    assert done.success and done.approval_state == "approved", done.message
    assert event_types(payment_id) == ["PaymentProcessed", "RefundRequested", "PaymentRefunded"]


def forget_sticky_queue(temporal, workflow_id, attempts=5):
    """Forget the dead worker's sticky queue, as a worker that shuts down does, so the next task goes
    to the shared queue at once. The server answers this call "operation was canceled" now and then;
    past the last attempt its own sticky schedule-to-start timeout (10 s, well inside the decision's
    60 s) releases the task all the same."""
    request = ResetStickyTaskQueueRequest(namespace=temporal.client.namespace,
                                          execution=WorkflowExecution(workflow_id=workflow_id))
    for attempt in range(attempts):
        try:
            temporal.run(temporal.client.workflow_service.reset_sticky_task_queue(request))
            return
        except RPCError:
            time.sleep(0.2 * (attempt + 1))


def _api_client(user) -> APIClient:
    client = APIClient()
    key = issue_api_token(user=user, name="tests", roles=("read", "submit", "approve"), all_organizations=True).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_repeat_with_the_same_key_answers_the_same_approval(temporal, people, command_request):
    payment_id = paid(temporal, command_request)
    request = replace(command_request("CANCEL", payment_id), idempotency_key=f"cancel-{payment_id}")
    first = submit(temporal, request, by=actor(people["alice"]))
    again = submit(temporal, request, by=actor(people["alice"]))
    assert (again.approval_id, again.approval_state, again.replayed) == (first.approval_id, "pending", True)
    decide(temporal, first.approval_id, "reject", by=actor(people["bob"]), reason="Keep it")
    after = submit(temporal, request, by=actor(people["alice"]))
    assert (after.approval_id, after.approval_state, after.replayed) == (first.approval_id, "rejected", True)

    with pytest.raises(CommandNotFinished):
        temporal.run(submit_command(temporal.client, replace(request, idempotency_key="nobody-polls"),
                                    answer_early=True, task_queue=f"nobody-{uuid.uuid4()}", timeout=0.5))


def test_the_admin_tells_a_request_and_its_approval_in_the_readers_format(temporal, people, command_request):
    """The workflow's answer is English with plain decimals; the admin tells it from the approvals read
    model, in French here: "2 000,00 €"."""
    payment_id = paid(temporal, command_request)
    amount = "2\N{NARROW NO-BREAK SPACE}000,00\N{NO-BREAK SPACE}€"
    requester, approver = Client(headers={"accept-language": "fr"}), Client(headers={"accept-language": "fr"})
    requester.force_login(people["alice"])
    approver.force_login(people["bob"])

    asked = requester.post(f"/admin/payments/paymentsummary/{payment_id}/request/", {
        "command": "REFUND", "amount": "2000.00", "reason": "Marchandise retournée", "key": uuid.uuid4().hex},
        follow=True).content.decode()
    approval = Approval.objects.get(payment_id=payment_id)
    assert (f"Le remboursement de {amount} sur le paiement {payment_id} attend l’approbation d’une deuxième "
            f"personne") in asked and approval.approval_id in asked and "2000.00 EUR on payment" not in asked

    decided = approver.post(f"/admin/payments/approval/{approval.approval_id}/decide/", {"decision": "approve"},
                            follow=True).content.decode()
    assert f"Approuvé : {amount} remboursés sur le paiement {payment_id}." in decided
