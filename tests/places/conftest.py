import pytest

from tickerarchive.gazetteer import GazetteerLoader
from tickerarchive.models import Person, Place


@pytest.fixture(scope="module")
def gazetteer(django_db_setup, django_db_blocker):
    """The real gazetteer, loaded once for the module (a few seconds) and removed after it."""
    with django_db_blocker.unblock():
        report = GazetteerLoader().load()
    yield report
    with django_db_blocker.unblock():
        Place.objects.all().delete()
        Person.objects.all().delete()
