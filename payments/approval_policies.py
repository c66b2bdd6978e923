"""Writing an organization's approval policy: each change of a rule is also an event of the
organization's ApprovalPolicy stream, written with the editor as its actor, in the same transaction."""

from django.db import transaction

from eventstore.actors import Actor
from eventstore.events import ExpectedVersion, NewEvent
from eventstore.store import append_events
from payments.approval_rules import ApprovalRule
from payments.domain import money
from payments.models import ApprovalPolicy

AGGREGATE_TYPE = "ApprovalPolicy"
RULE_ADDED, RULE_CHANGED, RULE_REMOVED = "ApprovalRuleAdded", "ApprovalRuleChanged", "ApprovalRuleRemoved"


def stream_of(organization_id: str) -> str:
    return f"approval-policy-{organization_id}"


def rules_of(organization_id: str) -> list[ApprovalRule]:
    return [row.rule() for row in ApprovalPolicy.objects.filter(organization_id=organization_id)]


def may_cover(organization_id: str, command_type: str) -> bool:
    """Whether the organization has a rule for this command type at all."""
    return ApprovalPolicy.objects.filter(organization_id=organization_id, command_type=command_type).exists()


@transaction.atomic
def save_rule(*, rule: ApprovalPolicy, actor: Actor) -> None:
    """Add or change a rule; its event commits with it."""
    event_type = RULE_CHANGED if rule.pk else RULE_ADDED
    _append(rule.organization_id, event_type, rule, actor, lambda result: rule.save())


@transaction.atomic
def remove_rule(*, rule: ApprovalPolicy, actor: Actor) -> None:
    _append(rule.organization_id, RULE_REMOVED, rule, actor, lambda result: rule.delete())


def _append(organization_id: str, event_type: str, rule: ApprovalPolicy, actor: Actor, write) -> None:
    described = rule.rule()
    data = {"organization_id": organization_id, "command_type": rule.command_type, "currency": rule.currency,
            "threshold": money(described.threshold) if described.threshold is not None else None,
            "rule": described.describe()}
    append_events(stream_id=stream_of(organization_id), aggregate_type=AGGREGATE_TYPE,
                  events=[NewEvent(event_type, data, {"organization_id": organization_id})],
                  expected_version=ExpectedVersion.ANY, with_append=write, actor=actor)
