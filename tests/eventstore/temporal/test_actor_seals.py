"""Actor seals open only for the workflow they were made for, unaltered, unexpired, under this key."""

from eventstore.actors import Actor
from eventstore.temporal.actor_seals import open_actor_seal, seal_actor

FIONA = Actor(kind="user", id="7", name="fiona", channel="admin", session="3f2a9c0d11aa22bb")


WORKFLOW = "payment-command:org-acme:k-1"


def test_a_seal_opens_for_its_workflow_only(settings):
    seal = seal_actor(FIONA, workflow_id=WORKFLOW)
    version, _, signature = seal.split(".")
    other_payload = seal_actor(Actor(kind="user", id="1", name="admin"), workflow_id=WORKFLOW).split(".")[1]

    assert open_actor_seal(seal, workflow_id=WORKFLOW) == FIONA
    assert open_actor_seal(seal, workflow_id="payment-command:org-acme:k-2") is None
    assert open_actor_seal(f"{version}.{other_payload}.{signature}", workflow_id=WORKFLOW) is None
    assert open_actor_seal(seal_actor(FIONA, workflow_id="w", max_age_seconds=-1), workflow_id="w") is None
    for garbage in ("", "v1", "v1..", "v2.e30.x", 42):
        assert open_actor_seal(garbage, workflow_id="w") is None
    settings.ACTOR_SEAL_KEY = "another deployment's key"
    assert open_actor_seal(seal, workflow_id=WORKFLOW) is None
