"""The ASGI application (`config.asgi`), for an ASGI server.

It starts nothing: the settings read DATABASE_URL and refuse to load without it.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_asgi_application()
