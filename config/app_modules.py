"""What the installed apps declare in modules of a conventional name (workflows, activities, projections)."""

import importlib

from django.apps import apps


def declared_by_apps(module_name: str, attribute: str) -> list:
    """`<app>.<module_name>.<attribute>` of every installed app that has such a module, in app order."""
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
