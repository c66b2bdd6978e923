"""/healthz and /readyz for a load balancer or process supervisor (JSON, no login, cheap), and
/status for operators.

/healthz: the process answers. /readyz: this web process can serve: PostgreSQL answers and every
migration of the code is applied; 503 naming what failed otherwise. Nothing outside the web process
(the worker, Temporal, the projections) takes part, so a stopped worker never takes the web processes
out of a load balancer's rotation. /status: those other parts (`eventstore.web.status`), for staff
users and for whoever holds METRICS_TOKEN; 503 while any check has a problem.
"""

import functools

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from eventstore.web.metrics import holds_metrics_token
from eventstore.web.status import status


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    problem = _database()
    checks = {"database": {"ok": problem is None, **({"problem": problem} if problem else {})}}
    return JsonResponse({"status": "unavailable" if problem else "ok", "checks": checks}, status=503 if problem else 200)


@never_cache
def status_view(request):
    """GET /status: every check of `eventstore.web.status` with its figures, and `ok` over them all."""
    if not (holds_metrics_token(request) or (request.user.is_authenticated and request.user.is_staff)):
        return _refused(request)
    checks = status()
    ok = all(check.ok for check in checks)
    return JsonResponse({"ok": ok, "checks": {check.name: check.as_json() for check in checks}}, status=200 if ok else 503)


def _refused(request) -> JsonResponse:
    if request.user.is_authenticated:
        return JsonResponse({"error": "staff users only"}, status=403)
    answer = JsonResponse({"error": "log in as a staff user, or send Authorization: Bearer <METRICS_TOKEN>"}, status=401)
    answer["WWW-Authenticate"] = "Bearer"
    return answer


def _database() -> str | None:
    try:
        pending = sorted(_migrations_in_code() - set(MigrationRecorder(connection).applied_migrations()))
    except DatabaseError as error:
        return f"PostgreSQL is unreachable: {str(error).strip().splitlines()[0]}"
    if pending:
        names = ", ".join(f"{app}.{name}" for app, name in pending[:5])
        return f"{len(pending)} migrations are not applied (run manage.py migrate): {names}"
    return None


@functools.cache
def _migrations_in_code() -> frozenset[tuple[str, str]]:
    """Read from disk once: the code does not change under a running process, the database may."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
