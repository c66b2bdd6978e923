"""The store's append activity as the Payment command workflow calls it, without a workflow: in an
ActivityEnvironment whose workflow type is the declared command workflow, the request carrying a
valid actor seal for that environment's workflow id (so no Temporal history is read)."""

import dataclasses

from temporalio.testing import ActivityEnvironment

from eventstore import registry
from eventstore.actors import Actor
from eventstore.temporal.actor_seals import seal_actor
from eventstore.temporal.messages import AppendRequest

TEST_ACTOR = Actor(kind="system", id="test-suite", name="test suite")


def command_environment(aggregate_type: str = "Payment") -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, workflow_type=registry.command_workflow(aggregate_type))
    return environment


def sealed(request: AppendRequest, actor: Actor = TEST_ACTOR) -> AppendRequest:
    workflow_id = ActivityEnvironment.default_info().workflow_id
    return dataclasses.replace(request, actor_seals={"actor": seal_actor(actor, workflow_id=workflow_id)})


def run_as_command(activity, request: AppendRequest):
    """Run `activity` (the append activity) on `request` as the command workflow would."""
    return command_environment(request.aggregate_type).run(activity, sealed(request))
