"""What the apps declare to the recorder: the one way the event store learns about them.

The store knows no app. Each app, in its `AppConfig.ready()`, calls `declare(...)` with direct
references to what it contributes:

- `workflows` and `activities`: registered by `manage.py temporal_worker` (and the test worker);
- `projections`: run by the projection engine, the catch-up loop and `rebuild_projections`;
- `admin_pages`: custom admin pages, served behind the admin's login as `admin:<name>`;
- `stream_admin_urls`: per aggregate type, the admin URL name of one stream's page (it takes the
  stream id), so the store's admin can link an event to the page of the thing it belongs to;
- `event_schemas`: per aggregate type, the JSON Schemas of its events (`EventSchemas`): the store
  refuses, before writing, an event of that aggregate type whose type is not declared or whose data
  or metadata do not match, and the API documentation publishes them;
- `schedules`: workflows that run on an interval (`Schedule`): `manage.py temporal_worker` creates
  or updates a Temporal Schedule for each when it starts.
- `search_attributes`: the Temporal search attributes (`temporalio.common.SearchAttributeKey`) the
  app's workflows carry: `manage.py temporal_worker` adds the missing ones to the namespace when it
  starts, `manage.py register_search_attributes` adds them for an operator
  (`eventstore.temporal.search_attributes`);
- `upcasters`: per event type and the `schema_version` in its metadata, the step that turns the data
  of such an event into the data of the next version; applied to every event read (see
  `eventstore.upcasting`), never to a stored row;
- `command_only`: aggregate types written only through their command workflow, by the workflow's type
  name (Payment -> "PaymentEventSourcingWorkflow"): the store's append activity refuses events of
  such a type from any other workflow (`EventStoreWorkflow` included), so that no Temporal client
  writes them past the rules the command workflow applies;
- `visible_organizations`: a function of a user giving the organization ids whose events the user may
  see in the store's admin and API (None: every organization); without it they show every event.

Declaring is additive and idempotent per object, so a second `ready()` (tests) changes nothing.
"""

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Protocol


class Projection(Protocol):
    """What the registry needs of a projection (see `eventstore.projections.engine.Projection`)."""

    name: str


@dataclass(frozen=True)
class AdminPage:
    route: str  # below /admin/, e.g. "timeline/<str:correlation_id>/"
    view: Callable
    name: str  # reversed as admin:<name>


@dataclass(frozen=True)
class EventSchemas:
    """JSON Schemas (the OpenAPI 3.0 subset of draft 2020-12, so the API documentation can publish
    them as they are) of one aggregate type's events: `data` by event type, which are then the only
    event types the store accepts for the aggregate type, and `metadata` for every event."""

    data: Mapping[str, dict]
    metadata: dict = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True)
class Schedule:
    """A workflow started every `interval_setting` seconds (the name of a setting, read when the
    worker starts) with `argument`, under the Temporal Schedule id `schedule_id`."""

    schedule_id: str
    workflow: Callable  # the workflow's run method
    argument: object
    interval_setting: str


@dataclass(frozen=True)
class Upcaster:
    """Reads the data of an `event_type` event written under `schema_version` as the next version's.
    `upcast(data, recorded_at)` returns the new data and must not change its argument."""

    event_type: str
    schema_version: int
    upcast: Callable


@dataclass
class _Declarations:
    workflows: list[type] = field(default_factory=list)
    activities: list[Callable] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    admin_pages: list[AdminPage] = field(default_factory=list)
    stream_admin_urls: dict[str, str] = field(default_factory=dict)
    event_schemas: dict[str, EventSchemas] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)
    search_attributes: list = field(default_factory=list)
    upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)
    command_only: dict[str, str] = field(default_factory=dict)
    visible_organizations: Callable | None = None


_declared = _Declarations()


def declare(
    *,
    workflows: Iterable[type] = (),
    activities: Iterable[Callable] = (),
    projections: Iterable[Projection] = (),
    admin_pages: Iterable[AdminPage] = (),
    stream_admin_urls: dict[str, str] | None = None,
    event_schemas: dict[str, EventSchemas] | None = None,
    schedules: Iterable[Schedule] = (),
    search_attributes: Iterable = (),
    upcasters: Iterable[Upcaster] = (),
    command_only: dict[str, str] | None = None,
    visible_organizations: Callable | None = None,
) -> None:
    """Add an app's contributions (call it from the app's `AppConfig.ready()`)."""
    _extend(_declared.workflows, workflows)
    _extend(_declared.activities, activities)
    _extend(_declared.projections, projections)
    _extend(_declared.admin_pages, admin_pages)
    _declared.stream_admin_urls.update(stream_admin_urls or {})
    _declared.event_schemas.update(event_schemas or {})
    _extend(_declared.schedules, schedules)
    _extend(_declared.search_attributes, search_attributes)
    _declared.upcasters.update({(step.event_type, step.schema_version): step for step in upcasters})
    _declared.command_only.update(command_only or {})
    _declared.visible_organizations = visible_organizations or _declared.visible_organizations


def _extend(declared: list, new: Iterable) -> None:
    declared.extend(item for item in new if item not in declared)


def workflows() -> list[type]:
    return list(_declared.workflows)


def activities() -> list[Callable]:
    return list(_declared.activities)


def projections() -> dict[str, Projection]:
    """Every declared projection by name, in declaration order."""
    return {projection.name: projection for projection in _declared.projections}


def admin_pages() -> list[AdminPage]:
    return list(_declared.admin_pages)


def stream_admin_url(aggregate_type: str) -> str | None:
    """The admin URL name of a stream's page for streams of `aggregate_type`, if an app declared one."""
    return _declared.stream_admin_urls.get(aggregate_type)


def event_schemas() -> dict[str, EventSchemas]:
    """The declared event schemas, by aggregate type."""
    return dict(_declared.event_schemas)


def schedules() -> list[Schedule]:
    return list(_declared.schedules)


def search_attributes() -> list:
    """The declared Temporal search attribute keys (`temporalio.common.SearchAttributeKey`)."""
    return list(_declared.search_attributes)


def upcaster(event_type: str, schema_version: int) -> Upcaster | None:
    """The declared step from `schema_version` of `event_type` events to the next, if any."""
    return _declared.upcasters.get((event_type, schema_version))


def command_workflow(aggregate_type: str) -> str | None:
    """The workflow type that alone may append events of `aggregate_type`; None: any may."""
    return _declared.command_only.get(aggregate_type)


def visible_organizations(user) -> list[str] | None:
    """The organization ids whose events `user` may see; None means every organization."""
    scope = _declared.visible_organizations
    return None if scope is None else scope(user)


def organizations_to_search(user, wanted: str | None) -> tuple[str, ...] | None:
    """The organizations a search of `user` covers, narrowed to `wanted` if given. None means every
    organization; an organization the user cannot see yields nothing."""
    visible = visible_organizations(user)
    if wanted is not None:
        return (wanted,) if visible is None or wanted in visible else ()
    return None if visible is None else tuple(visible)
