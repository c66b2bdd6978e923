"""gunicorn's configuration for the web server (`make run`, and production):
`gunicorn -c config/gunicorn.py config.wsgi`.

WEB_PROCESSES processes of WEB_THREADS threads each (gthread); each process holds at most
DATABASE_POOL_SIZE database connections. Before the first process starts, the connection budget of
the whole deployment is checked against PostgreSQL's max_connections (eventstore/web/connection_budget.py).
The production settings are served unless DJANGO_SETTINGS_MODULE names others (config/wsgi.py).
Nothing is started: without DATABASE_URL (and the rest the settings require) it refuses to start.
On a development checkout `make run` exports the embedded server's URL and the development settings
first (config/devstack/).
"""

import logging
import os
import shutil

import environ

env = environ.Env()
logging.getLogger("environ").setLevel(logging.WARNING)  # a missing .env is normal here

bind = env("WEB_ADDRESS", default="127.0.0.1:8000")
workers = env.int("WEB_PROCESSES", default=2)
worker_class = "gthread"
threads = env.int("WEB_THREADS", default=max(env.int("DATABASE_POOL_SIZE", default=4), 1))
backlog = 2048
timeout = 60
graceful_timeout = 30
accesslog = env("WEB_ACCESS_LOG", default="") or None  # "-" for stdout
errorlog = "-"
loglevel = "warning"


def on_starting(server):
    import django
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    _empty_multiprocess_directory()  # before any metric is created
    try:
        django.setup()  # the settings refuse to load without DATABASE_URL
        from eventstore.temporal.payload_codec import payload_codec
        from eventstore.web.connection_budget import check_connection_budget

        budget = check_connection_budget()
        payload_codec()  # the keys of Temporal payloads, read now rather than at the first command
    except ImproperlyConfigured as error:
        raise SystemExit(f"Refusing to start: {error}") from None
    server.log.info("database connection budget %d", budget)


def child_exit(server, worker):
    from eventstore.web.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def _empty_multiprocess_directory() -> None:
    """gunicorn's processes add up their metrics in PROMETHEUS_MULTIPROC_DIR: start it empty."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
