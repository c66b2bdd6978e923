"""Production settings: everything from the environment, no debug, secure cookies and HSTS.

What the production entry points (config/wsgi.py, config/asgi.py, config/gunicorn.py) serve unless
DJANGO_SETTINGS_MODULE names other settings. SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
TEMPORAL_ADDRESS are required, and so are keys for Temporal payloads unless TEMPORAL_PAYLOAD_ENCRYPTION=off
says otherwise: without one of them the settings refuse to load, with a one-line message naming what is
missing (nothing is started or guessed). `python manage.py check --deploy
--settings=config.settings.production` passes with them set and the security settings below at their
defaults.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import env

REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "TEMPORAL_ADDRESS")
_missing = [name for name in REQUIRED if not env(name, default="")]
if _missing:
    raise ImproperlyConfigured(
        f"Production settings need {', '.join(_missing)} in the environment (see Configuration in README.md)."
    )

from config.settings.base import *  # noqa: E402, F403

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
TEMPORAL_ADDRESS = env("TEMPORAL_ADDRESS")
if TEMPORAL_PAYLOAD_ENCRYPTION and not (TEMPORAL_PAYLOAD_KEYS or TEMPORAL_PAYLOAD_KEY_FILE  # noqa: F405
                                        or TEMPORAL_PAYLOAD_KEY_SOURCE):  # noqa: F405
    raise ImproperlyConfigured(
        "Production settings need the keys that encrypt Temporal payloads: TEMPORAL_PAYLOAD_KEYS, "
        "TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEY_SOURCE, or TEMPORAL_PAYLOAD_ENCRYPTION=off to send "
        "them in plain text (see Encrypted Temporal payloads in README.md)."
    )


def _proxy_ssl_header(value: list[str]) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER as "HEADER,value" (the header as Django's META names it), or empty when
    the web server terminates TLS itself. Only behind a proxy that sets this header on every request,
    overwriting a client's, may it be trusted."""
    if not value:
        return None
    if len(value) != 2:
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header and its value, as HTTP_X_FORWARDED_PROTO,https (got {value!r})."
        )
    return value[0], value[1]


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env.list("SECURE_PROXY_SSL_HEADER",
                                                    default=["HTTP_X_FORWARDED_PROTO", "https"]))
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^status$", r"^metrics$"]  # probes and scrapers on the private network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
