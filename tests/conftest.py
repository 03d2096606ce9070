import pytest
from django.core.cache import caches

from tickerarchive.pagecache import CACHE


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage of production needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_page_cache():
    # The page cache is on in tests, as in production. Each test starts with it empty: a rolled-back
    # test leaves the data version where it was, but pages rendered under other settings may linger.
    caches[CACHE].clear()
    yield
