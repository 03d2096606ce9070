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


@pytest.fixture(scope="module")
def gazetteer(django_db_setup, django_db_blocker):
    """The real gazetteer, loaded once for the module (a few seconds) and removed after it."""
    from tickerarchive.gazetteer import GazetteerLoader
    from tickerarchive.models import Person, Place

    with django_db_blocker.unblock():
        report = GazetteerLoader().load()
    yield report
    with django_db_blocker.unblock():
        Place.objects.all().delete()
        Person.objects.all().delete()


@pytest.fixture(autouse=True)
def _empty_page_cache():
    # The page cache is on in tests, as in production. Each test starts with it empty: a rolled-back
    # test leaves the data version where it was, but pages rendered under other settings may linger.
    caches[CACHE].clear()
    yield
