"""Settings come from the environment; defaults suit a developer's machine."""
import importlib.util
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # The rule: without DJANGO_SECRET_KEY nothing starts, unless it is local development:
    # DJANGO_DEBUG=1, or DJANGO_DEVELOPMENT=1, which `make run`, `make test` and
    # `python -m tickerarchive.devdb exec` set for their commands.
    if not (DEBUG or env_bool("DJANGO_DEVELOPMENT", False)):
        raise RuntimeError(
            "DJANGO_SECRET_KEY is not set: a deployment needs its own secret key from the environment "
            "(local development: DJANGO_DEVELOPMENT=1, as `make run` and `make test` set it)"
        )
    SECRET_KEY = "insecure-local-development-key"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "simple_history",
    "axes",
    "tickerarchive.apps.TickerArchiveConfig",
    "ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tickerarchive.reliability.DatabaseGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "tickerarchive.urls"
WSGI_APPLICATION = "tickerarchive.wsgi.application"

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

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:54329/tickerarchive")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise RuntimeError("DATABASE_URL must point to PostgreSQL (postgres://...)")
# work_mem of every connection (set as it opens: tickerarchive/apps.py). A search ANDs the
# bitmaps of its word and its filters; with PostgreSQL's default of 4 MB the bitmap of a
# frequent word (190,000 of 1,000,000 entries) turns lossy, and every entry on its pages is read
# and tested again (`Angriff` with a person: 395 -> 169 ms, EXPLAIN ANALYZE). 32 MB holds a
# bitmap of every page of a 1,000,000-entry archive. Empty: the server's own setting.
DATABASE_WORK_MEM = os.environ.get("DATABASE_WORK_MEM", "32MB")

# --- Read replicas --------------------------------------------------------------------------
# DATABASE_REPLICA_URLS: comma-separated URLs of streaming replicas of DATABASE_URL. Unset: one
# database, no router, no middleware, exactly as without replicas. Set: anonymous readers read
# from a replica that is up and no more than DATABASE_REPLICA_MAX_LAG seconds behind; editors,
# the admin, writes and all management commands use the primary (see routing.py, health.py).
DATABASE_REPLICA_URLS = [url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()]
DATABASE_REPLICA_MAX_LAG = float(os.environ.get("DATABASE_REPLICA_MAX_LAG", "30"))
DATABASE_HEALTH_CHECK_INTERVAL = float(os.environ.get("DATABASE_HEALTH_CHECK_INTERVAL", "5"))
REPLICA_DATABASES = []
for number, replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    replica = dj_database_url.parse(replica_url, conn_max_age=60, conn_health_checks=True)
    if not replica["ENGINE"].endswith("postgresql"):
        raise RuntimeError("DATABASE_REPLICA_URLS must point to PostgreSQL (postgres://...)")
    replica["OPTIONS"] = {"connect_timeout": 2, **replica.get("OPTIONS", {})}  # a dead host must not hang a page
    replica["TEST"] = {"MIRROR": "default"}  # tests run with replicas read the test database
    DATABASES[f"replica{number}"] = replica
    REPLICA_DATABASES.append(f"replica{number}")
if REPLICA_DATABASES:
    # After AuthenticationMiddleware: it needs request.user to keep editors on the primary.
    DATABASE_ROUTERS = ["tickerarchive.routing.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                      "tickerarchive.routing.ReadRoutingMiddleware")
# --- end of read replicas -------------------------------------------------------------------

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "de"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Leaflet as the django-leaflet package ships it (static/leaflet/), without installing that app:
# its admin needs GDAL, and the map needs only the files. find_spec does not import it.
LEAFLET_STATIC = Path(importlib.util.find_spec("leaflet").origin).parent / "static" / "leaflet"
STATICFILES_DIRS = [BASE_DIR / "static", ("leaflet", LEAFLET_STATIC)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The map's tile server, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png. Empty: the
# markers are drawn over the outline in static/geo/ only (works without network).
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")

# --- Page cache ------------------------------------------------------------------------------
# Anonymous readers' pages keyed on URL and the archive's data version (tickerarchive/pagecache.py):
# never stale, whichever backend keeps them. Default: each process's own memory (no server to run,
# a hit costs no network hop; each gunicorn worker fills its own copy). PAGE_CACHE_BACKEND and
# PAGE_CACHE_LOCATION name a shared one instead (memcached, Redis: one fill for all processes and hosts).
PAGE_CACHE = env_bool("PAGE_CACHE", True)
PAGE_CACHE_BACKEND = os.environ.get("PAGE_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": PAGE_CACHE_BACKEND,
        "LOCATION": os.environ.get("PAGE_CACHE_LOCATION", "pages"),
        "TIMEOUT": int(os.environ.get("PAGE_CACHE_SECONDS", 24 * 3600)),
        # A search page is 30-50 kB: 1,000 of them are about 50 MB per process. (Servers such
        # as memcached evict by themselves and take no such option.)
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("PAGE_CACHE_ENTRIES", 1000))}
        if PAGE_CACHE_BACKEND.endswith(("LocMemCache", "FileBasedCache")) else {},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}


# --- Security and reliability --------------------------------------------------------------
# Kept in one block: HTTPS, Content-Security-Policy, admin login throttling, statement timeout.

# Behind an HTTPS proxy in production: DJANGO_SECURE=1 turns on the redirect to HTTPS, HSTS and
# cookies sent over HTTPS only. Off by default, so `make run` over plain http keeps working.
SECURE = env_bool("DJANGO_SECURE", False)
if SECURE:
    SECURE_SSL_REDIRECT = True
    # The proxy terminates TLS and says so in this header (nginx: proxy_set_header X-Forwarded-Proto $scheme).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp): our own files only, no inline
# scripts or styles. Map tiles come from MAP_TILE_URL's host when it is set.
from csp.constants import NONE, SELF  # noqa: E402


def tile_source(url: str) -> str:
    """The CSP source of a tile URL template: https://{s}.tile.example.org/{z}/... -> https://*.tile.example.org"""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, *([tile_source(MAP_TILE_URL)] if MAP_TILE_URL else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Admin login throttled (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user
# name from one address, that pair gets 429 until the cool-off has passed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
if SECURE:  # behind the HTTPS proxy every request comes from the proxy: take the client's address it passes on
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# No query of a web request may hold the database longer than this (0: no limit). Set per
# request by DatabaseGuardMiddleware, so ingest, migrations and the shell are never cut off.
WEB_STATEMENT_TIMEOUT_MS = int(os.environ.get("WEB_STATEMENT_TIMEOUT_MS", 5000))
# What the 503 page tells browsers and clients while the database is away.
RETRY_AFTER_SECONDS = 30
