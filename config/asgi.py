import os

from django.core.asgi import get_asgi_application

from config.devstack.database import use_embedded_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
use_embedded_database(os.environ["DJANGO_SETTINGS_MODULE"])  # development checkout without DATABASE_URL
application = get_asgi_application()
