"""Reader pages from a cache that never serves a page older than the archive.

Anonymous GETs of reader pages (the views that urls.py wraps in `reader_page`) are kept in
Django's cache `pages`, keyed on the full URL and on the archive's data version. PostgreSQL
moves that version itself, in the commit of any change to a table readers see (migration
0006: ingest, the admin, relink, merges, load_gazetteer, a shell alike), so no code path can
forget it. Nothing is ever invalidated: after a change readers ask for the new version, and
pages of older ones age out of the cache. The version is read on the database the page is
read from, so a replica serves pages of the data it has replayed.

Signed-in users and everything but GET and HEAD bypass the cache. Cached pages carry an
ETag of release, version and URL: browsers and proxies revalidate with If-None-Match and
get a 304 for the price of reading the version.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache, wraps
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from tickerarchive.models import Entry

CACHE = "pages"
# Which archive (database and its replicas), its committed version, and the number of this
# transaction's own uncommitted changes, if any: a transaction (a test, a shell) that changed the
# archive sees pages of its own state.
VERSION_SQL = (
    "SELECT archive, number, current_setting('tickerarchive.uncommitted_change', true) "
    "FROM tickerarchive_archive_version"
)
READ_METHODS = {"GET", "HEAD"}
CACHE_HEADER = "X-Page-Cache"  # hit or miss: for operators and the HTTP benchmark's hit rate


def data_version() -> str:
    """The archive's data version on the database this request reads from."""
    with connections[router.db_for_read(Entry)].cursor() as cursor:
        cursor.execute(VERSION_SQL)
        archive, number, uncommitted = cursor.fetchone()
    return f"{archive}-{number}" + (f"-{uncommitted}" if uncommitted else "")


@lru_cache(maxsize=1)
def code_release() -> str:
    """What a page depends on besides data and URL: the code and templates that render it,
    Django, and the settings they read. A new release gets new keys and ETags, so a shared
    cache or a browser never gets a page of the previous one."""
    digest = hashlib.sha256(f"{django.__version__}|{settings.STATIC_URL}|{settings.MAP_TILE_URL}|"
                            f"{settings.MAP_TILE_ATTRIBUTION}".encode())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"  # hashed names of static files
    root = Path(settings.BASE_DIR)
    sources = [*sorted((root / "tickerarchive").rglob("*.py")), *sorted((root / "templates").rglob("*.html")),
               *([manifest] if manifest.exists() else [])]
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def page_key(request) -> str:
    return hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()


def reader_page(view):
    """The view's answers to anonymous readers, from the cache while the archive is unchanged."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        if not settings.PAGE_CACHE or request.method not in READ_METHODS:
            return view(request, *args, **kwargs)
        if request.user.is_authenticated:  # editors see their corrections at once, and only they see their pages
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        version, key = data_version(), page_key(request)
        etag = f'"{code_release()}-{version}-{key[:12]}"'
        response = get_conditional_response(request, etag=etag)  # a 304, or None
        if response is None:
            response = _from_cache(key, version)
        if response is not None:
            response[CACHE_HEADER] = "hit"
            return _validated(response, etag)
        response = view(request, *args, **kwargs)
        # Kept only if nothing changed while it was rendered: then every query saw this version.
        if _storable(response) and data_version() == version:
            caches[CACHE].set(key, (response.status_code, response.content, dict(response.headers)), version=version)
            _validated(response, etag)
        response[CACHE_HEADER] = "miss"
        return response

    return cached_view


def _from_cache(key: str, version: str) -> HttpResponse | None:
    stored = caches[CACHE].get(key, version=version)
    if stored is None:
        return None
    status, content, headers = stored
    return HttpResponse(content, status=status, headers=headers)


def _storable(response) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and "private" not in cache_control and "no-store" not in cache_control)


def _validated(response, etag: str):
    """Anyone may keep the page, but must ask again each time (cheap: a 304 while unchanged)."""
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response
