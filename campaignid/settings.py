"""Every knob comes from the environment; the defaults are the production-safe ones, and
`make run` (laptop mode, CAMPAIGNID_LAPTOP=1) runs on a laptop with nothing installed.

No DATABASE_URL: a SQLite file under var/. No REDIS_URL: a Redis server the app starts itself
on a unix socket under var/ (see campaignid/redis_server.py), shared by web and workers.
"""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django.conf.locale
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from campaignid import object_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _local_secret_key():
    # A laptop install keeps one random key across restarts; production sets SECRET_KEY.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


# Laptop mode, switched on by `make run` only: plain HTTP on 127.0.0.1, a secret key kept in
# var/, a demo login. Left unset (a server), every default below is the production one.
LAPTOP = env_bool("CAMPAIGNID_LAPTOP", False)
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (_local_secret_key() if LAPTOP or DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. On a server set it to a long random value, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` (README, \"Running on "
        "servers\"); on a laptop use `make run`, or CAMPAIGNID_LAPTOP=1 for other commands."
    )
# Key for provider credentials and signing keys encrypted at rest; defaults to one derived
# from SECRET_KEY so a laptop install needs nothing, production sets its own.
ENCRYPTION_KEY = os.environ.get("ENCRYPTION_KEY", "")
# No wildcard: a request naming another host (a spoofed Host header) is refused.
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if LAPTOP and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# HTTPS. A server (DEBUG off, not laptop mode) is reached over TLS only: plain HTTP is
# redirected, except /health for load balancers that probe over HTTP; cookies are Secure;
# HSTS tells browsers never to try HTTP again. Behind a TLS-terminating proxy,
# SECURE_PROXY_SSL_HEADER names the header it sets (e.g. X-Forwarded-Proto, or
# "X-Forwarded-Proto: https"); only set it when the proxy always sets or overwrites it.
HTTPS_ONLY = not (DEBUG or LAPTOP)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    _name, _sep, _value = _proxy_ssl_header.partition(":")
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip() or "https",
    )
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS_ONLY
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every page (django-csp): only our own scripts and styles run (an
# inline one needs the request's nonce), nothing frames us. The WebSocket is same-origin;
# its wss:// (ws:// on a laptop) address is listed too, for browsers whose 'self' misses it.
# The verification page sets its own, stricter policy (verification/views.py), kept as is.
_public = urlsplit(PUBLIC_BASE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [
            SELF, f"{'wss' if _public.scheme == 'https' else 'ws'}://{_public.netloc}"
        ],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: quota and counts grouped per language
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "channels",
    "django_rq",
    "axes",
    "campaigns",
    "cards",
    "verification",
    "distribution",
    "campaigns.dhis2",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything but the security headers: any error under /api/ leaves as JSON.
    "campaigns.api_errors.JsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused login (too many failures) into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Not a step: keeps the chain synchronous under uvicorn (see campaignid/sync_chain.py).
    "campaignid.sync_chain.SyncChain",
]

ROOT_URLCONF = "campaignid.urls"
WSGI_APPLICATION = "campaignid.wsgi.application"
ASGI_APPLICATION = "campaignid.asgi.application"

# Plug-ins, so a lower app never imports a higher one (README "Architecture").
# The checklist before a generation job, in display order: f(*, campaign, metrics) -> check.
CAMPAIGN_READINESS_CHECKS = [
    "campaigns.readiness.beneficiaries_check",
    "cards.readiness.valid_cards_check",
    "campaigns.readiness.template_check",
    "cards.readiness.quota_check",
    "campaigns.readiness.phones_check",
    "campaigns.readiness.preview_check",
    "cards.readiness.card_data_check",
    "campaigns.readiness.state_check",
]
# Filters of the beneficiary search owned by the apps above campaigns, in form order.
BENEFICIARY_FACETS = [
    "cards.beneficiary_facets.CardStatusFacet",
    "distribution.beneficiary_facets.DeliveryStatusFacet",
]
# Dashboard tiles after the campaign counts: f(*, program) -> {"key", "label", "value"}.
PROGRAM_DASHBOARD_FIGURES = ["distribution.figures.cards_distributed"]
# A campaign's metrics added by the apps above campaigns: f(*, campaign, metrics) -> dict,
# merged into the metrics (campaigns.serializers.CampaignMetricsSerializer documents them).
CAMPAIGN_METRICS = ["distribution.figures.campaign_distribution_metrics"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaigns.context_processors.current_program",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if os.environ.get("DB_POOL_SIZE") and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A pool of connections per process (psycopg_pool), for the web processes: under uvicorn
    # every request runs in a thread of its own, so DB_CONN_MAX_AGE keeps one connection per
    # request thread until PostgreSQL refuses more ("too many clients"), and without it every
    # request opens one (most of a webhook callback's cost).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": int(os.environ["DB_POOL_SIZE"]), "timeout": 10}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and tests share one file; WAL lets them read while one writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: RQ queues, the channel layer and the dispatch rate limiter all use this one server.
REDIS_URL = os.environ.get("REDIS_URL") or f"unix://{VAR_DIR / 'redis.sock'}"
EMBEDDED_REDIS = not os.environ.get("REDIS_URL")

RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}
    for name in ("default", "cards", "dispatch", "dhis2")
}
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "campaignid.worker.CampaignWorker"}
# What Redis loses when it restarts empty is enqueued again from the database by these
# sweeps, run by one worker every RECOVERY_SWEEP_SECONDS (campaignid/recovery.py).
RECOVERY_SWEEPS = [
    "distribution.recovery.resume_running_dispatches",
    "distribution.direct_send.resume_overdue_sends",
    "cards.recovery.resume_unfinished_jobs",
    "campaigns.dhis2.sync.resume_lost_runs",
]
RECOVERY_SWEEP_SECONDS = float(os.environ.get("RECOVERY_SWEEP_SECONDS", "30"))

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "asgi")},
    }
}

# Failed logins (the login page and the admin's) are counted per user name and per address by
# django-axes: LOGIN_FAILURE_LIMIT failures lock either out for LOGIN_COOLOFF_MINUTES; a
# program admin lifts a member's lockout (admin: Members, "Unlock login"), a superuser any
# (admin: Access attempts). The address is the client's as campaignid.client_ip reads it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "campaignid.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "campaigns.logins.lockout_response"
# Number of reverse proxies in front of the app that append to X-Forwarded-For (nginx, a load
# balancer): the client's address is that many entries from the right. 0: the peer's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Wolof is not one of Django's languages: teach Django its name before listing it.
django.conf.locale.LANG_INFO.setdefault(
    "wo", {"bidi": False, "code": "wo", "name": "Wolof", "name_local": "Wolof"}
)
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English")), ("wo", _("Wolof"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["campaignid.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Stored files (chunks, artifacts, logos): MEDIA_ROOT, or with STORAGE_URL (or
# AWS_STORAGE_BUCKET_NAME) an S3-compatible bucket every machine reaches (campaignid/
# object_storage.py says the form; the keys stay in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
try:
    _default_storage = object_storage.default_storage_from_env(os.environ)
except object_storage.StorageConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A worker's own temporary files (a job's artifacts while they are merged, objects read from
# the bucket above 16 MB): nothing there is read by another process or kept after a task.
SCRATCH_DIR = os.environ.get("SCRATCH_DIR", "").strip() or tempfile.gettempdir()
if os.environ.get("SCRATCH_DIR", "").strip():
    Path(SCRATCH_DIR).mkdir(parents=True, exist_ok=True)
    # Every temporary file of the process (spooled downloads included) goes there too.
    tempfile.tempdir = SCRATCH_DIR
WHITENOISE_USE_FINDERS = True
# Stored files (cards, manifests, portals, logos) are served only by views that check the
# caller (campaignid/files.py). After the check, "" sends the bytes from Django;
# "x-accel-redirect" (nginx) or "x-sendfile" (Apache, lighttpd) hands them to the front server,
# nginx reading FILES_ACCEL_PREFIX + the file's name from an `internal` location.
FILES_ACCEL = os.environ.get("FILES_ACCEL", "").strip().lower()
if FILES_ACCEL not in ("", "x-accel-redirect", "x-sendfile"):
    raise ImproperlyConfigured(
        f"FILES_ACCEL={FILES_ACCEL!r}: use '', 'x-accel-redirect' or 'x-sendfile'."
    )
FILES_ACCEL_PREFIX = os.environ.get("FILES_ACCEL_PREFIX", "/protected-media/")
try:
    object_storage.check_files_accel(FILES_ACCEL, _default_storage)
except object_storage.StorageConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# Input limits. Request bodies are capped before they are read (campaignid/body_limit.py):
# provider webhooks at WEBHOOK_MAX_BYTES, everything else at an import plus room for the
# multipart envelope. An import (CSV upload or JSON rows, browser or API) is refused above
# IMPORT_MAX_BYTES or IMPORT_MAX_ROWS, with a message naming the limit.
# Artifacts a generation job builds after its PDF, ZIP and manifest (cards/packaging.py):
# callables (job, workdir) -> (kind, storage name, local path), by dotted path.
CARD_JOB_ARTIFACT_BUILDERS = ["verification.portal.portal_build"]
# How a chunk's card fronts are laid out (cards/rendering/renderer.py): "layers", every
# card's text on one WeasyPrint page and each card given its own page of those operators, or
# "reference", a WeasyPrint page per card (slower; the same pixels, for comparing).
CARD_LAYOUT = os.environ.get("CARD_LAYOUT", "layers")
if CARD_LAYOUT not in ("layers", "reference"):
    raise ImproperlyConfigured(f"CARD_LAYOUT must be 'layers' or 'reference', not {CARD_LAYOUT!r}.")
# Signed status lists (verification/status_list.py, README "Verification (technical)"): a
# portal whose newest list is older than this many days answers "to confirm online" instead
# of "valid"; the public endpoint signs a new list at most every this many seconds.
STATUS_LIST_MAX_AGE_DAYS = int(os.environ.get("STATUS_LIST_MAX_AGE_DAYS", "30"))
STATUS_LIST_REFRESH_SECONDS = int(os.environ.get("STATUS_LIST_REFRESH_SECONDS", "300"))

IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "200000"))
WEBHOOK_MAX_BYTES = 1024 * 1024
REQUEST_MAX_BYTES = IMPORT_MAX_BYTES + 1024 * 1024
# Django's defaults: form fields read into memory, uploads above it spool to a temp file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Outbound calls to user-entered URLs (a program's DHIS2) reach public addresses only;
# loopback and private hosts or networks only when listed here, e.g. "127.0.0.1,localhost"
# or "10.0.0.0/8" (campaignid/outbound_guard.py).
OUTBOUND_ALLOW_PRIVATE = [
    h.strip() for h in os.environ.get("OUTBOUND_ALLOW_PRIVATE", "").split(",") if h.strip()
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "campaigns.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["campaigns.permissions.IsProgramMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "campaigns.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Per API key (or signed-in user), counted in Redis by every web process together; too
    # many calls answer 429 with Retry-After (campaigns/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["campaigns.throttling.ProgramCallerThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("API_RATE_LIMIT", "1000/min"),
        "address": os.environ.get("PUBLIC_RATE_LIMIT", "60/min"),
    },
}
# Public pages (card lookup /v/, /v/c/<code>, the published keys) per client address.
PUBLIC_RATE_LIMIT = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["address"]
# WebSockets authenticate with the browser's session or a single-use ticket from
# POST /api/ws-tickets (never a key in the URL, where access logs would keep it).
WS_TICKET_SECONDS = 30
WS_ACCEPT_API_KEY_IN_URL = env_bool("WS_ACCEPT_API_KEY_IN_URL", False)
# Error reports (and the DEBUG page) hide credentials from headers, not only settings.
DEFAULT_EXCEPTION_REPORTER_FILTER = "campaignid.log_masking.ExceptionReporterFilter"
SPECTACULAR_SETTINGS = {
    "TITLE": "CampaignID API",
    "DESCRIPTION": "Issue, distribute and verify digital beneficiary cards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # 401/403/404/400/429 and their JSON body on every operation (campaigns/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "campaigns.openapi.document_errors",
    ],
}

# Provider endpoints: settings so tests point them at local stub servers.
WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v25.0")
ORANGE_API_URL = os.environ.get("ORANGE_API_URL", "https://api.orange.com")
GOOGLE_WALLET_API_URL = os.environ.get(
    "GOOGLE_WALLET_API_URL", "https://walletobjects.googleapis.com/walletobjects/v1"
)
GOOGLE_OAUTH_TOKEN_URL = os.environ.get(
    "GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token"
)
PROVIDER_TIMEOUT_SECONDS = float(os.environ.get("PROVIDER_TIMEOUT_SECONDS", "10"))

# Dispatch runs: a clock offset (tests move time without mocking), sender threads per
# worker, the longest a pump sleeps, and the SMS price shown before sending.
DISPATCH_CLOCK_OFFSET_SECONDS = float(os.environ.get("DISPATCH_CLOCK_OFFSET_SECONDS", "0"))
DISPATCH_SEND_CONCURRENCY = int(os.environ.get("DISPATCH_SEND_CONCURRENCY", "64"))
DISPATCH_PUMP_MAX_SLEEP_SECONDS = float(os.environ.get("DISPATCH_PUMP_MAX_SLEEP_SECONDS", "300"))
# Single sends (send-card API, Send page) outside the sending window wait for its opening.
SINGLE_SEND_QUIET_HOURS = env_bool("SINGLE_SEND_QUIET_HOURS", True)
SMS_PRICE_PER_SEGMENT = os.environ.get("SMS_PRICE_PER_SEGMENT", "25")
SMS_PRICE_CURRENCY = os.environ.get("SMS_PRICE_CURRENCY", "XOF")

# DHIS2 tracker sync: request timeout, back-off between retries of a failed page, page size.
DHIS2_TIMEOUT_SECONDS = float(os.environ.get("DHIS2_TIMEOUT_SECONDS", "30"))
DHIS2_RETRY_DELAYS = tuple(
    float(s) for s in os.environ.get("DHIS2_RETRY_DELAYS", "1,3,9").split(",") if s.strip()
)
DHIS2_PAGE_SIZE = int(os.environ.get("DHIS2_PAGE_SIZE", "100"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The S3 client at DEBUG prints signed requests and headers: never below WARNING.
        "boto3": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "s3transfer": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # RQ's routine INFO lines (registries cleaned every few seconds) only when asked for.
        "rq": {"level": os.environ.get("LOG_LEVEL", "WARNING")},
    },
}
