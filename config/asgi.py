"""The ASGI application (`config.asgi`), for an ASGI server.

It serves the production settings unless DJANGO_SETTINGS_MODULE names others, as config/wsgi.py
does. It starts nothing: the settings read DATABASE_URL and refuse to load without it.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
