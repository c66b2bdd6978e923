"""The deployment's status for operators: is a worker polling, is Temporal reachable, are the
projections keeping up, is the chain verified and the ledger signed, does the database still extend
every head handed out. Each check gives ok, a problem
when not, and the figures behind it; /status serves them as JSON and /metrics as gauges. None of them
decides whether a web process can serve (that is /readyz).
"""

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.service import RPCError

from eventstore import selectors
from eventstore.events import START, Checkpoint
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.integrity.verification import latest_verifications
from eventstore.ledger.models import LedgerEntry
from eventstore.ledger.service import latest_head, rollback_problems
from eventstore.models import Event
from eventstore.projections.lag import Lag, lag
from eventstore.replica import primary_reads, replica_configured, replica_lag
from eventstore.temporal.connection import TemporalUnavailable, shared_client, shared_loop

TEMPORAL_TIMEOUT_SECONDS = 3.0
# What the dashboard calls each check, in the reader's language (the JSON of /status keeps the names).
LABELS = {"temporal": _("Temporal"), "worker": _("Worker"), "projections": _("Projections"),
          "verification": _("Verification"), "signing": _("Signing"), "published_heads": _("Published heads")}


@dataclass(frozen=True)
class Check:
    name: str
    problem: str | None = None
    figures: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        return str(LABELS.get(self.name, self.name.replace("_", " ").capitalize()))

    def as_json(self) -> dict:
        return {"ok": self.ok, **({"problem": self.problem} if self.problem else {}), **self.figures}


def status(*, lags: list[Lag] | None = None, temporal_cache_seconds: float = 0) -> list[Check]:
    """Every check, in the order operators read them; of the primary's state, read on the primary
    (`lags`: the projections' lag, when the caller has just read it there). Temporal's answer may be
    one kept up to `temporal_cache_seconds` (the dashboard's panel keeps it; /status never does)."""
    temporal, worker = temporal_and_worker(cache_seconds=temporal_cache_seconds)
    with primary_reads():
        checks = [worker, temporal, projections(lags), verification(), signing(), published_heads()]
        return checks + ([read_replica()] if replica_configured() else [])


# Temporal and the worker: one DescribeTaskQueue answers both ---------------------------------------

def temporal_and_worker(*, cache_seconds: float = 0) -> tuple[Check, Check]:
    """Temporal's and the worker's checks; with `cache_seconds`, an answer (or a failure to answer)
    at most that old, kept in the Django cache per address, namespace and task queue."""
    if not cache_seconds:
        return _temporal_and_worker()
    checks = cache.get(temporal_cache_key())
    if checks is None:
        checks = _temporal_and_worker()
        cache.set(temporal_cache_key(), checks, timeout=cache_seconds)
    return checks


def temporal_cache_key() -> str:
    return f"status:temporal:{settings.TEMPORAL_ADDRESS}:{settings.TEMPORAL_NAMESPACE}:{settings.TEMPORAL_TASK_QUEUE}"


def _temporal_and_worker() -> tuple[Check, Check]:
    queue = settings.TEMPORAL_TASK_QUEUE
    try:
        pollers = _workflow_pollers(queue)
    except (TemporalUnavailable, TimeoutError, RuntimeError, RPCError) as error:
        problem = f"Temporal is unreachable at {settings.TEMPORAL_ADDRESS}: {error or 'no answer in time'}"
        return Check("temporal", problem), Check("worker", "not checked: Temporal is unreachable", {"task_queue": queue})
    recent = [seconds for seconds in pollers if seconds <= settings.HEALTH_WORKER_POLL_SECONDS]
    figures = {"task_queue": queue, "pollers": len(recent),
               "last_poll_seconds_ago": round(min(pollers), 1) if pollers else None}
    problem = None if recent else f"no worker polled the task queue {queue!r} in the last {settings.HEALTH_WORKER_POLL_SECONDS:g}s"
    return Check("temporal", figures={"address": settings.TEMPORAL_ADDRESS}), Check("worker", problem, figures)


def _workflow_pollers(queue: str) -> list[float]:
    """Seconds since each poller Temporal knows of last polled the workflow task queue."""
    request = DescribeTaskQueueRequest(namespace=settings.TEMPORAL_NAMESPACE, task_queue=TaskQueue(name=queue),
                                       task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
    client = shared_client()
    answer = shared_loop().run(client.workflow_service.describe_task_queue(request), timeout=TEMPORAL_TIMEOUT_SECONDS)
    now = time.time()
    return [max(now - poller.last_access_time.ToSeconds(), 0.0) for poller in answer.pollers]


# The store ------------------------------------------------------------------------------------------

def projections(lags: list[Lag] | None = None) -> Check:
    lags = lag() if lags is None else lags
    limit = settings.HEALTH_PROJECTION_MAX_LAG_SECONDS
    behind = [each.name for each in lags if each.seconds_behind > limit]
    stopped = [each.name for each in lags if each.failing_position is not None]
    problems = ([f"behind by more than {limit:g}s: {', '.join(behind)}"] if behind else []) + (
        [f"stopped at an error: {', '.join(stopped)}"] if stopped else [])
    figures = {"projections": {each.name: {"events_behind": each.events_behind, "seconds_behind": round(each.seconds_behind, 1),
                                           "stopped_at_position": each.failing_position} for each in lags}}
    return Check("projections", "; ".join(problems) or None, figures)


def verification() -> Check:
    """The last run of either kind, and when the last full and the last incremental pass ran: a full
    pass that found problems stays a problem until a full pass finds none."""
    latest = latest_verifications()
    last = max(latest.values(), key=lambda run: run.ran_at, default=None)
    last_full, last_incremental = latest.get(ChainVerification.FULL), latest.get(ChainVerification.INCREMENTAL)
    seal = Seal.objects.order_by("-sealed_at").values_list("sealed_at", flat=True).first()
    limit = settings.HEALTH_VERIFICATION_MAX_AGE_SECONDS
    age = _age(last.ran_at) if last else None
    intact = None if last is None else last.ok and (last_full is None or last_full.ok)
    figures = {"age_seconds": round(age, 1) if last else None, "intact": intact,
               "problem_count": last.problem_count if last else None, "kind": last.kind if last else None,
               "last_full_age_seconds": round(_age(last_full.ran_at), 1) if last_full else None,
               "last_full_intact": last_full.ok if last_full else None,
               "last_incremental_age_seconds": round(_age(last_incremental.ran_at), 1) if last_incremental else None,
               "last_incremental_intact": last_incremental.ok if last_incremental else None,
               "last_seal_age_seconds": round(_age(seal), 1) if seal else None}
    if last is None:
        problem = "verify_event_chain has never run"
    elif not last.ok:
        problem = f"the last verify_event_chain ({last.kind} pass) found {last.problem_count} problems"
    elif last_full is not None and not last_full.ok:
        problem = f"the last full verify_event_chain found {last_full.problem_count} problems"
    elif age > limit:
        problem = f"the last verify_event_chain ran more than {limit:g}s ago"
    else:
        problem = None
    return Check("verification", problem, figures)


def signing() -> Check:
    """A quiet store signs nothing new, so the head's age alone is no problem: the age of the oldest
    event no signed head covers is."""
    head = latest_head()
    oldest_unsigned = _oldest_unsigned_event_time(head.tree_size if head else 0)
    unsigned_age = _age(oldest_unsigned) if oldest_unsigned else 0.0
    limit = settings.HEALTH_SIGNING_MAX_AGE_SECONDS
    figures = {"head_age_seconds": round(_age(head.timestamp), 1) if head else None,
               "head_tree_size": head.tree_size if head else None, "unsigned_event_age_seconds": round(unsigned_age, 1)}
    problem = f"events recorded more than {limit:g}s ago are in no signed tree head" if unsigned_age > limit else None
    return Check("signing", problem, figures)


def published_heads() -> Check:
    """Whether the database still extends every head handed out (a restore from an older backup
    does not): see `eventstore.ledger.service.rollback_problems`."""
    problems = rollback_problems()
    return Check("published_heads", "; ".join(problems) or None, {"problem_count": len(problems)})


def _oldest_unsigned_event_time(tree_size: int):
    """When the oldest committed event after the head's last leaf was recorded (None: there is none)."""
    last_leaf = LedgerEntry.objects.filter(ledger_index=tree_size - 1).values_list("transaction_id", "position").first()
    unsigned = Event.objects.filter(selectors.committed_after(Checkpoint(*last_leaf) if last_leaf else START))
    return unsigned.order_by("transaction_id", "position").values_list("recorded_at", flat=True).first()


def _age(moment) -> float:
    return max((timezone.now() - moment).total_seconds(), 0.0)



# The read replica ------------------------------------------------------------------------------------

def read_replica() -> Check:
    """Red when the replica does not answer (reads go to the primary) or lags past
    DATABASE_REPLICA_MAX_LAG_SECONDS (reads wait for it, then go to the primary)."""
    reading = replica_lag()
    if reading is None:
        return Check("read_replica", "the read replica does not answer as a replica: reads go to the primary",
                     {"lag_seconds": None, "lag_bytes": None})
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    problem = f"the read replica is {reading.seconds:.1f}s behind the primary (limit {limit:g}s)" if reading.seconds > limit else None
    return Check("read_replica", problem, {"lag_seconds": reading.seconds, "lag_bytes": reading.bytes})
