"""Settings come from the environment; defaults suit a developer's machine."""
import importlib.util
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DJANGO_REQUIRE_SECRET_KEY"):
        raise RuntimeError("DJANGO_SECRET_KEY must be set")
    # Only for local use: `make run` and the tests. Deployments set DJANGO_SECRET_KEY.
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
    "tickerarchive.apps.TickerArchiveConfig",
    "ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
