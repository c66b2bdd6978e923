"""The WSGI application, as gunicorn serves it (`config.wsgi`, config/gunicorn.py).

It serves the production settings unless DJANGO_SETTINGS_MODULE names others: a deployment that sets
none gets DEBUG off, HTTPS and secure cookies, or a refusal naming what is missing. It starts nothing:
the settings read DATABASE_URL and refuse to load without it. On a development checkout `make run`
exports the embedded server's URL and the development settings first (config/devstack/).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()


def _import_every_view() -> None:
    """The URLconf and every view it names imported as the process starts: otherwise the first request
    each process serves waits a second or more for them, while the clients behind it queue."""
    from django.urls import get_resolver

    get_resolver().url_patterns


_import_every_view()
