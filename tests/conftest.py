import asyncio
import contextlib
import dataclasses
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from rest_framework.test import APIClient
from temporalio.client import Client
from temporalio.converter import DataConverter

from eventstore import wakeups
from eventstore.encoding import canonical_json
from eventstore.temporal.payload_codec import payload_codec
from payments import system_checks
from payments.client import submit_command
from payments.messages import PaymentCommandRequest, PaymentCommandResult
from payments.models import Membership, Organization, PaymentSummary
from payments.tokens import issue_api_token
from tests import admin_users
from tests.missing_programs import deselect_and_say
from tests.payments import history
from tests.redis_server import deselect_redis_tests
from tests.temporal_harness import TemporalHarness

FLUSHING_BACKEND = "tests.postgres_backend"


def pytest_configure(config):
    """Django's test teardown truncates every table; the event store's triggers refuse that, so the
    suite's own connections use a backend that flushes with triggers off (session_replication_role,
    superuser only). Processes started by tests keep the plain backend."""
    settings.DATABASES["default"]["ENGINE"] = FLUSHING_BACKEND
    # django.setup() already built the default connection's wrapper (model classes ask it for the
    # longest name), without connecting: drop it, so that the first use builds the flushing one.
    with contextlib.suppress(AttributeError):  # none built yet
        del connections[DEFAULT_DB_ALIAS]


@pytest.hookimpl(trylast=True)  # after -m: redis tests a marker expression left out need no word
def pytest_collection_modifyitems(config, items):
    deselect_redis_tests(config, items)
    if not shutil.which("xgettext"):  # makemessages, for the French catalog's test
        needing = [item for item in items
                   if any(mark.args == ("xgettext",) for mark in item.iter_markers("needs_tool"))]
        deselect_and_say(config, items, needing, what="CATALOG TEST", missing="no xgettext (GNU gettext) on PATH",
                         install="apt-get install gettext")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's, and before the test database is dropped, the listener for new events (which
    holds a connection to it) stops."""
    yield
    wakeups.stop_listening()


@pytest.fixture(scope="session")
def temporal_server():
    """A real Temporal dev server, started once for the whole test session."""
    harness = TemporalHarness()
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture(scope="session")
def temporal(temporal_server, django_db_setup, django_db_blocker):
    """The dev server plus a worker running every workflow and activity of the project.

    Django code that talks to Temporal (payments.client) is pointed at them for the session.
    """
    settings.TEMPORAL_ADDRESS = temporal_server.address
    settings.TEMPORAL_TASK_QUEUE = temporal_server.task_queue
    settings.WEBHOOK_TASK_QUEUE = temporal_server.task_queue
    temporal_server.start_worker()
    return temporal_server


@pytest.fixture(autouse=True)
def _empty_cache():
    """Test databases are emptied between tests, which never happens to a real store: forget it."""
    cache.clear()


@pytest.fixture
def plain_temporal(temporal):
    """Runs a workflow as a Temporal client in any language would: by its type name, with inputs as
    raw JSON values, through a client with the SDK's default converter and the payload encryption every
    client of the namespace uses. Returns the result as JSON values, raises WorkflowFailureError, or
    TimeoutError when nothing ends within `timeout` seconds (the workflow is left to end by its
    execution timeout)."""
    client = Client(temporal.client.service_client, namespace=temporal.client.namespace,
                    data_converter=dataclasses.replace(DataConverter.default, payload_codec=payload_codec()))

    def plain_temporal(workflow_type: str, *inputs, timeout: float = 20, workflow_id: str | None = None):
        async def execute():
            handle = await client.start_workflow(
                workflow_type, args=list(inputs), id=workflow_id or f"plain-{uuid.uuid4()}",
                task_queue=temporal.task_queue, execution_timeout=timedelta(seconds=timeout + 30),
            )
            return await asyncio.wait_for(handle.result(), timeout)

        return temporal.run(execute(), timeout=timeout + 10)

    return plain_temporal


@pytest.fixture
def codec_reader():
    """A staff user holding eventstore.decode_temporal_payloads, and their API token's key."""
    if not Permission.objects.filter(codename="decode_temporal_payloads").exists():  # emptied by transactional tests
        ContentType.objects.clear_cache()
        create_permissions(apps.get_app_config("eventstore"), verbosity=0)
    user = get_user_model().objects.create_user(username=f"codec-{uuid.uuid4().hex[:6]}", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="decode_temporal_payloads"))
    return user, issue_api_token(user=user, name="codec", all_organizations=True).key


@pytest.fixture
def command_request():
    """Builds a payment command with the seed's defaults (a CREATE of 100.00 EUR for org-456 by
    user-789, of a new payment); keyword arguments override any field."""

    def command_request(kind="CREATE", payment_id=None, amount="100.00", currency="EUR",
                        **overrides) -> PaymentCommandRequest:
        fields = dict(type=kind, payment_id=payment_id or f"payment-{uuid.uuid4().hex[:12]}",
                      organization_id="org-456", user_id="user-789", amount=amount, currency=currency,
                      description="Test payment")
        fields.update(overrides)
        return PaymentCommandRequest(**fields)

    return command_request


@pytest.fixture
def run_command(temporal):
    """Runs one payment command through the session's Temporal server and worker, and waits for
    its result."""

    def run_command(command: PaymentCommandRequest, timeout: float = 60) -> PaymentCommandResult:
        return temporal.run(submit_command(temporal.client, command, task_queue=temporal.task_queue, timeout=timeout))

    return run_command


@pytest.fixture
def api_client_for():
    """Makes a user with an API token (roles read and submit, every organization of the user; the key
    is the client's `api_key`) and returns a DRF client authenticated as them: a member of
    `organization`, or an operator who sees every organization."""

    def api_client_for(username: str, organization: str | None = None, *, operator: bool = False) -> APIClient:
        user = get_user_model().objects.create_user(username=username, password="pw")
        if organization:
            org, _ = Organization.objects.get_or_create(id=organization, defaults={"name": organization.title()})
            Membership.objects.create(user=user, organization=org)
        if operator:
            user.user_permissions.add(_operator_permission())
        client = APIClient()
        client.api_key = issue_api_token(user=user, name="tests", all_organizations=True).key
        client.credentials(HTTP_AUTHORIZATION=f"Token {client.api_key}")
        return client

    return api_client_for


@dataclass
class Tenants:
    acme: APIClient
    globex: APIClient
    operator: APIClient
    anonymous: APIClient


@pytest.fixture
def tenants(api_client_for) -> Tenants:
    """Two organizations' API clients (alice of org-acme, bob of org-globex), an operator who sees
    every organization (olga) and a client without credentials."""
    return Tenants(api_client_for("alice", "org-acme"), api_client_for("bob", "org-globex"),
                   api_client_for("olga", operator=True), APIClient())


def _operator_permission() -> Permission:
    """Transactional tests empty every table, permissions included: make them again when missing."""
    if not Permission.objects.filter(codename="view_all_organizations").exists():
        ContentType.objects.clear_cache()
        create_permissions(apps.get_app_config("payments"), verbosity=0)
    return Permission.objects.get(codename="view_all_organizations")


@pytest.fixture
def finance_user():
    """A staff member of the "Finance staff" group with its permissions: "fiona", password "pw"."""
    return admin_users.finance_user()


@pytest.fixture
def random_commands():
    """Decides random but valid commands with the real domain and appends their events to the store:
    `random_commands(count, payments=N, seed=7, prefix="payment-mix")` returns the events written."""
    return history.random_commands


@pytest.fixture
def plain_connection():
    """Opens a psycopg connection to the test database outside Django's connection handling, as the
    suite's own role or as `role` (passwordless, as on the embedded server)."""

    @contextlib.contextmanager
    def plain_connection(*, autocommit: bool = True, role: str | None = None):
        database = connection.settings_dict
        with psycopg.connect(
            dbname=database["NAME"], user=role or database["USER"],
            password=None if role else database.get("PASSWORD") or None,
            host=database["HOST"] or None, port=database["PORT"] or None, autocommit=autocommit,
        ) as plain:
            yield plain

    return plain_connection


@pytest.fixture
def tamper(plain_connection):
    """Runs SQL statements in a superuser session with triggers off: how an attacker with full rights
    would edit history."""

    def tamper(*statements: str) -> None:
        with plain_connection() as attacker:
            attacker.execute("SET session_replication_role = replica")
            for statement in statements:
                attacker.execute(statement)

    return tamper


@pytest.fixture
def summary_rows():
    """Every row of the payment summaries (the read model projections build) now, in payment order."""

    def summary_rows() -> list[tuple]:
        return list(PaymentSummary.objects.order_by("payment_id").values_list())

    return summary_rows


@pytest.fixture
def assert_summaries_match_a_fold_of_the_events():
    """Asserts that there are payment summaries and that each equals a fold of its payment's events."""

    def assert_summaries_match_a_fold_of_the_events() -> None:
        check = system_checks.check_summaries()
        assert check.figures["payments"] > 0
        assert check.ok, check.problems

    return assert_summaries_match_a_fold_of_the_events


@pytest.fixture
def insert_unchecked(plain_connection):
    """Appends one event as the database superuser through `eventstore_append`, skipping the checks
    of `append_events` (JSON limits, declared schemas)."""

    def insert_unchecked(stream_id: str, event_type: str, data: dict, aggregate_type: str = "Payment") -> int:
        with plain_connection() as superuser:
            status, _, positions, *_ = superuser.execute(
                "SELECT * FROM eventstore_append(%s, %s, -1, %s, %s, %s, %s)",
                [stream_id, aggregate_type, [uuid.uuid4()], [event_type], [canonical_json(data)], [canonical_json({})]],
            ).fetchone()
        assert status == "ok"
        return positions[0]

    return insert_unchecked


@pytest.fixture
def ledger_key(settings):
    """A fresh Ed25519 key signs this test's tree heads; returns its raw private key as hex."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().private_bytes_raw().hex()
    settings.LEDGER_SIGNING_KEY = key
    return key
