"""Settings for the whole platform, driven by environment variables.

With nothing configured the project runs on SQLite, the in-memory channel layer and the
local-memory cache with DEBUG off. ``DATABASE_URL`` switches to PostgreSQL (with psycopg's
connection pool) and ``REDIS_URL`` switches the channel layer and the cache to Redis. Every
variable is listed in ``.env.example``.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as corsheaders_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # A key for the zero-configuration path only: it lives in a git-ignored file so that
    # sessions and signed values survive restarts without anyone having to set a variable.
    key_file = BASE_DIR / ".secret_key"
    if not key_file.exists():
        from django.utils.crypto import get_random_string

        key_file.write_text(get_random_string(64))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The domain apps, in the order their URLs and WebSocket routes are collected.
PLATFORM_APPS = ["batterydb", "passport", "voltstorage", "dmlf"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "rest_framework_simplejwt",
    # Used refresh tokens (single use, core.tokens).
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    # Versions of passports (passport.models).
    "simple_history",
    # Background jobs (core.jobs): django-tasks and its database queue.
    "django_tasks",
    "django_tasks_db",
    "core",
    *PLATFORM_APPS,
]

MIDDLEWARE = [
    # First, so that preflights and every answer of the API prefixes (errors too) carry CORS.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.JSONErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "core.middleware.ThrottledPageMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    if default_db["ENGINE"] == "django.db.backends.postgresql":
        # Persistent connections leak under ASGI; psycopg's pool gives the speed back.
        default_db["OPTIONS"] = {
            **default_db.get("OPTIONS", {}),
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            },
        }
else:
    default_db = {
        # Django's SQLite backend reusing the process's idle connections (core.sqlite_backend).
        "ENGINE": "core.sqlite_backend",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
    default_db["CONN_HEALTH_CHECKS"] = True
default_db["CONN_MAX_AGE"] = 0
default_db.setdefault("TEST", {})
DATABASES = {"default": default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

# Channel layer limits, sized for 1,000 subscribers of one group (one product's live stream):
# - CHANNEL_LAYER_CAPACITY (200) bounds the messages waiting for one channel. With Redis the
#   sockets of one server process share one Redis list, so a group message costs one entry
#   per process however many of its sockets subscribe: 200 absorbs a burst of 200 broadcasts
#   (other groups' included) while a process catches up. Each socket then has its own buffer
#   of 200 in the process: about 13 s of lag at 15 messages a second before a slow client
#   loses its oldest, and at most 1,000 x 200 x ~0.5 KB = ~100 MB per process if every
#   subscriber stalls while still answering pings (channels' default, 100, drops after half
#   of that; 1,000 would allow ~500 MB). Dropped messages are counted (core.broadcast).
# - CHANNEL_LAYER_EXPIRY (30 s): a message nobody read within 30 s is stale for a live view and
#   is discarded (channels' default is 60 s); a process that stopped reading loses its list.
# - CHANNEL_LAYER_GROUP_EXPIRY (86,400 s): how long the members of a process that died without
#   leaving stay in a group (each broadcast still writes one entry for that process).
#   Live sockets re-join every half of it (core.sockets), so they never lapse.
CHANNEL_LAYER_CONFIG = {
    "capacity": env_int("CHANNEL_LAYER_CAPACITY", 200),
    "expiry": env_int("CHANNEL_LAYER_EXPIRY", 30),
    "group_expiry": env_int("CHANNEL_LAYER_GROUP_EXPIRY", 86400),
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's layer, counting the messages it drops (core.broadcast).
            "BACKEND": "core.broadcast.RedisChannelLayer",
            "CONFIG": {
                # An unreachable Redis fails a broadcast within 2 s instead of holding the
                # request. Replies get no timeout: channels_redis's reads block 5 s by design,
                # and with a read timeout a closed socket's consumer was seen never to stop
                # (its cancelled read did not end).
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                **CHANNEL_LAYER_CONFIG,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis fails fast (reads and writes keep working without it)
            # instead of hanging the request.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.broadcast.InMemoryChannelLayer",
            "CONFIG": CHANNEL_LAYER_CONFIG,
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Identity --------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["core.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Request size limits ---------------------------------------------------------------------
# Default limit for a request body; views may declare a larger ``max_body_size`` (bulk, files).
# Django's own limit, the largest of these, guards bodies without a Content-Length.
API_MAX_BODY_SIZE = env_int("API_MAX_BODY_SIZE", 2 * 1024 * 1024)
API_MAX_BULK_BODY_SIZE = env_int("API_MAX_BULK_BODY_SIZE", 16 * 1024 * 1024)
API_MAX_UPLOAD_SIZE = env_int("API_MAX_UPLOAD_SIZE", 50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BULK_BODY_SIZE
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000
# JSON fields' values (``bms_data``, ...): nesting depth, encoded size (BoundedJSONField).
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)
API_MAX_JSON_FIELD_SIZE = env_int("API_MAX_JSON_FIELD_SIZE", 1024 * 1024)

# URL prefixes whose errors are JSON, never HTML.
API_PREFIXES = ("/api/", "/passport/", "/voltstorage/", "/dmlf/")

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The first class answers WWW-Authenticate, so that anonymous requests get 401.
        "core.authentication.UserAPIKeyAuthentication",
        "core.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.ORJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.filters.StableOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "core.openapi.PlatformAutoSchema",
    "DEFAULT_METADATA_CLASS": "core.metadata.PlatformMetadata",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "ORDERING_PARAM": "ordering",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # A token issued before a password change is refused.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
}

# --- Token scopes (core.tokens) ---------------------------------------------------------------
# A token minted by an API's own login endpoint carries the API's name (claim "api") and is
# accepted only under these URL prefixes, over HTTP and on the WebSocket; a token of
# /api/token/ carries none and works everywhere. Lifetimes are on each API's token classes.
TOKEN_API_PREFIXES = {
    "dmlf": ("/dmlf/",),
    "voltstorage": ("/voltstorage/rest/",),
}

# --- CORS for browser clients of the APIs (django-cors-headers) --------------------------------
# Origins (scheme://host[:port]) whose pages may call the APIs, comma-separated; none by
# default. Only the API prefixes answer CORS; credentials travel in the Authorization header
# (JWT or API key), never in cookies, so the session cannot be used cross-origin.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = "^(?:{})".format("|".join(re.escape(prefix) for prefix in API_PREFIXES))
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "prefer")
# Paging headers of the passport and VoltStorage lists, and the wait of a 429.
CORS_EXPOSE_HEADERS = ["X-Total-Count", "Link", "Retry-After"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Battery data platform API",
    "DESCRIPTION": (
        "One platform serving four battery-data APIs: ReJoule BatteryDB v2 (`/api/v2/`), "
        "the Digital Battery Passport (`/passport/`), VoltStorage (`/voltstorage/rest`) and "
        "the Data Mining Lab Freiberg API (`/dmlf/`). Every API accepts a personal API key "
        "(`Authorization: User <key>`), a JWT (`Authorization: Bearer <token>`) or the session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc assets are served from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": None,
    "PREPROCESSING_HOOKS": ["core.openapi.drop_slashless_copies"],
    "TAGS": [
        {"name": "platform", "description": "Tokens, health and the platform itself."},
        {"name": "batterydb", "description": "ReJoule BatteryDB REST API v2, at `/api/v2/`."},
        {"name": "passport", "description": "Digital Battery Passport API, at `/passport/`."},
        {"name": "voltstorage", "description": "VoltStorage REST API, at `/voltstorage/rest`."},
        {"name": "dmlf", "description": "Data Mining Lab Freiberg API, at `/dmlf/`."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "core.models.Membership.Role",
        "JobStatusEnum": "core.jobs.models.Job.Status",
    },
}

# --- Security for production -----------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY to a real secret when DEBUG is off.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# Strict on every response: only this site's own scripts, styles, images and connections, no
# inline script, no plugins, not framable. Pages that need more declare it on their view
# (core.csp: the API docs) or by their renderer (the browsable API).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Email: password reset ---------------------------------------------------------------------
# Printed on the console (the server's log) unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_TIMEOUT = 10  # seconds; a stuck mail server must not hold a worker
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Battery data platform <noreply@localhost>"
)

# --- Error pages ------------------------------------------------------------------------------
# A failed CSRF check is the site's 403 page (handler404/403/500 are in core/urls.py).
CSRF_FAILURE_VIEW = "core.web_views.csrf_failure"

# --- Brute-force protection and throttles (core.throttling) -----------------------------------
# Failed logins are counted per account and client address together, per account alone and
# per address alone, in windows of LOGIN_FAILURE_WINDOW_SECONDS; reaching a limit locks that
# key for LOGIN_LOCKOUT_SECONDS (429 with Retry-After, the password is not checked).
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_ACCOUNT_FAILURES = env_int("LOGIN_MAX_ACCOUNT_FAILURES", 20)
LOGIN_MAX_ADDRESS_FAILURES = env_int("LOGIN_MAX_ADDRESS_FAILURES", 100)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
# Requests per client address to the other credential endpoints ("N/s", "N/min", "N/hour").
THROTTLE_RATES = {
    "token_refresh": os.environ.get("THROTTLE_TOKEN_REFRESH_RATE") or "60/min",
}
# Counted in this cache (Redis with REDIS_URL); when it fails, each process counts alone,
# trying the cache again after THROTTLE_CACHE_RETRY_SECONDS.
THROTTLE_CACHE = "default"
THROTTLE_CACHE_RETRY_SECONDS = env_int("THROTTLE_CACHE_RETRY_SECONDS", 30)
# Proxies in front of the servers that append the client's address to X-Forwarded-For
# (deploy/nginx.conf: 1). 0 ignores the header: the client is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)

# --- DBC files: size, messages, and the limits of parsing them (core.bounded) -----------------
# Real DBC files: kilobytes to a few MB, at most a few thousand messages. cantools needs ~400 MB
# for 5 MB of definitions but ~200 times one long string's size: the parsing child is limited.
DBC_MAX_SIZE = env_int("DBC_MAX_SIZE", 5 * 1024 * 1024)
DBC_MAX_MESSAGES = env_int("DBC_MAX_MESSAGES", 10_000)
DBC_PARSE_MEMORY_MB = env_int("DBC_PARSE_MEMORY_MB", 768)
DBC_PARSE_CPU_SECONDS = env_int("DBC_PARSE_CPU_SECONDS", 20)
DBC_PARSE_TIMEOUT_SECONDS = env_int("DBC_PARSE_TIMEOUT_SECONDS", 60)
# --- Instrument files imported as EIS data (batterydb.services.instruments) -------------------
EIS_IMPORT_MAX_SIZE = env_int("EIS_IMPORT_MAX_SIZE", 10 * 2**20)  # bytes; larger is a 413
EIS_IMPORT_MAX_POINTS = env_int("EIS_IMPORT_MAX_POINTS", 10_000)  # points of one sweep
EIS_IMPORT_MAX_ROWS = env_int("EIS_IMPORT_MAX_ROWS", 1_000_000)  # data rows of the file
EIS_IMPORT_MAX_EXPANDED_SIZE = env_int("EIS_IMPORT_MAX_EXPANDED_SIZE", 100 * 2**20)  # .xlsx
EIS_IMPORT_PARSE_MEMORY_MB = env_int("EIS_IMPORT_PARSE_MEMORY_MB", 256)  # the parsing child's
EIS_IMPORT_PARSE_CPU_SECONDS = env_int("EIS_IMPORT_PARSE_CPU_SECONDS", 20)
EIS_IMPORT_PARSE_TIMEOUT_SECONDS = env_int("EIS_IMPORT_PARSE_TIMEOUT_SECONDS", 60)

# --- DMLF: the Data Mining Lab Freiberg API (dmlf/) -------------------------------------------
# Largest ZIP archive (supplementary_file, experiment_file) and sample_info JSON, in bytes (413).
DMLF_ZIP_MAX_SIZE = env_int("DMLF_ZIP_MAX_SIZE", 50 * 1024 * 1024)
DMLF_SAMPLE_INFO_MAX_SIZE = env_int("DMLF_SAMPLE_INFO_MAX_SIZE", 1024 * 1024)
# What a ZIP may declare, checked before anything is stored (dmlf.archives): entries, bytes
# (nested archives included), expansion beyond DMLF_ZIP_RATIO_FLOOR bytes, nesting levels.
DMLF_ZIP_MAX_ENTRIES = env_int("DMLF_ZIP_MAX_ENTRIES", 10_000)
DMLF_ZIP_MAX_UNCOMPRESSED_SIZE = env_int("DMLF_ZIP_MAX_UNCOMPRESSED_SIZE", 2 * 1024**3)
DMLF_ZIP_MAX_RATIO = env_int("DMLF_ZIP_MAX_RATIO", 100)
DMLF_ZIP_RATIO_FLOOR = env_int("DMLF_ZIP_RATIO_FLOOR", 1024 * 1024)
DMLF_ZIP_MAX_DEPTH = env_int("DMLF_ZIP_MAX_DEPTH", 3)
# Requests per user, as the original counts them: GET (and HEAD), POST, and the other writes.
THROTTLE_RATES["dmlf_get"] = os.environ.get("DMLF_THROTTLE_GET_RATE") or "10000/day"
THROTTLE_RATES["dmlf_post"] = os.environ.get("DMLF_THROTTLE_POST_RATE") or "500/day"
THROTTLE_RATES["dmlf_write"] = os.environ.get("DMLF_THROTTLE_WRITE_RATE") or "500/day"

# --- Digital Battery Passport (passport/) ------------------------------------------------------
# Where the passports' public pages are reached from outside, as the QR code printed on a
# battery encodes it: scheme, host and any path prefix (https://passports.example.org). Unset:
# the scheme and host of the request that asks for the code.
PASSPORT_PUBLIC_BASE_URL = os.environ.get("PASSPORT_PUBLIC_BASE_URL", "").strip().rstrip("/")
if PASSPORT_PUBLIC_BASE_URL and not re.match(r"^https?://[^/\s]+", PASSPORT_PUBLIC_BASE_URL):
    raise ImproperlyConfigured("PASSPORT_PUBLIC_BASE_URL must start with http:// or https://.")

# --- VoltStorage: the VoltStorage REST API (voltstorage/) -------------------------------------
# A product is "online" while its data arrived within this many seconds.
VOLTSTORAGE_ONLINE_SECONDS = env_int("VOLTSTORAGE_ONLINE_SECONDS", 300)
# Samples may be at most this many seconds ahead of the server's clock (more is a 400).
VOLTSTORAGE_FUTURE_SECONDS = env_int("VOLTSTORAGE_FUTURE_SECONDS", 300)
# Energy integrates power over the time each value held: until the field's next sample, at most
# this many seconds (a longer gap counts this long; at most 900).
VOLTSTORAGE_HOLD_SECONDS = env_int("VOLTSTORAGE_HOLD_SECONDS", 300)
# Days of raw samples kept (0: forever; older ones are refused); `manage.py
# voltstorage_retention` drops older daily partitions, the rollups (statistics) stay.
VOLTSTORAGE_RAW_RETENTION_DAYS = env_int("VOLTSTORAGE_RAW_RETENTION_DAYS", 0)
# Samples per ingestion request.
VOLTSTORAGE_MAX_SAMPLES = env_int("VOLTSTORAGE_MAX_SAMPLES", 10_000)

# --- Background jobs (core.jobs) --------------------------------------------------------------
# "embedded": each server process runs a worker thread (nothing else to start); "external":
# `manage.py jobs_worker` processes run the jobs, the servers only queue them.
JOBS_WORKER = os.environ.get("JOBS_WORKER", "embedded")
if JOBS_WORKER not in ("embedded", "external"):
    raise ImproperlyConfigured("JOBS_WORKER must be embedded or external.")
# A running job's worker beats this often; one silent for the timeout is deemed stopped and
# its job queued again, up to the maximum of attempts (then failed).
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
JOBS_HEARTBEAT_TIMEOUT = env_int("JOBS_HEARTBEAT_TIMEOUT", 60)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 3)
# Finished jobs go this many days after they end (0: never), but each subject's latest job.
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 90)
# An idle worker looks for queued jobs this often, and at once when a job commits (PostgreSQL).
JOBS_POLL_SECONDS = env_int("JOBS_POLL_SECONDS", 1)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
