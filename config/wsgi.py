"""The WSGI application, as gunicorn serves it (`config.wsgi`, config/gunicorn.py).

It starts nothing: the settings read DATABASE_URL and refuse to load without it. On a development
checkout `make run` exports the embedded server's URL first (config/devstack/).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()
