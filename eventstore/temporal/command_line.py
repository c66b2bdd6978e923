"""The base of the management commands that talk to Temporal (the worker, payment_command,
register_search_attributes)."""

import logging
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError


class TemporalCommand(BaseCommand):
    """A command that exits with its status without finalizing the interpreter: the Temporal SDK's
    runtime threads, started by its first connection (a failed one included), can make Python's
    shutdown abort (SIGABRT) instead of exiting with status 0 or 1. A Temporal setting that cannot be
    read (payload keys, TLS files) ends it with its one-line message."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        else:
            status = 0
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
