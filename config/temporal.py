"""Temporal client settings and worker wiring shared by every app.

Each app lists its workflows in `<app>.workflows.WORKFLOWS` and its activities in
`<app>.activities.ACTIVITIES`; the worker registers whatever the installed apps declare.
"""

import functools
import importlib
from typing import Callable

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections
from temporalio.client import Client


async def connect(*, address: str | None = None, namespace: str | None = None) -> Client:
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS, namespace=namespace or settings.TEMPORAL_NAMESPACE
    )


def _declared(module_name: str, attribute: str) -> list:
    found = []
    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.{module_name}")
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.{module_name}":
                raise
            continue
        found.extend(getattr(module, attribute, []))
    return found


def all_workflows() -> list[type]:
    return _declared("workflows", "WORKFLOWS")


def all_activities() -> list[Callable]:
    return _declared("activities", "ACTIVITIES")


def django_activity(function: Callable) -> Callable:
    """Run a sync activity with fresh database connections: workers get no request signals."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper
