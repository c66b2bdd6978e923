#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

On a development checkout without DATABASE_URL it first starts (or attaches to) the embedded
PostgreSQL and sets DATABASE_URL for the settings (config/devstack/database.py); without keys for
Temporal payloads, it points the settings at the development key (config/devstack/payload_keys.py).
"""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from config.devstack.database import settings_module, use_embedded_database
    from config.devstack.payload_keys import use_development_payload_keys

    use_embedded_database(settings_module(sys.argv[1:]))
    use_development_payload_keys(settings_module(sys.argv[1:]))
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        from django.conf import settings

        if settings.configured:
            raise
        sys.exit(f"ImproperlyConfigured: {error}")  # the settings could not be read; the message says why


if __name__ == "__main__":
    main()
