"""Every knob comes from the environment; the defaults run on a laptop with nothing installed.

No DATABASE_URL: a SQLite file under var/. No REDIS_URL: a Redis server the app starts itself
on a unix socket under var/ (see campaignid/redis_server.py), shared by web and workers.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
import django.conf.locale
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

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


SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
# Key for provider credentials and signing keys encrypted at rest; defaults to one derived
# from SECRET_KEY so a laptop install needs nothing, production sets its own.
ENCRYPTION_KEY = os.environ.get("ENCRYPTION_KEY", "")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_rq",
    "campaigns",
    "cards",
    "verification",
    "distribution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "campaignid.urls"
WSGI_APPLICATION = "campaignid.wsgi.application"
ASGI_APPLICATION = "campaignid.asgi.application"

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

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "asgi")},
    }
}

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
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
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "campaigns.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["campaigns.permissions.IsProgramMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "campaigns.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CampaignID API",
    "DESCRIPTION": "Issue, distribute and verify digital beneficiary cards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
