import pytest

from ingest.loader import DumpLoader
from search_pages import corpus_pages
from support import FIXTURE_DUMPS
from tickerarchive.models import Entry, EntryPerson, EntryPlace, Person, Place


@pytest.fixture
def archive(db, tmp_path):
    """A small archive ingested through the real loader, with places and people linked."""
    for name, data in corpus_pages().items():
        (tmp_path / name).write_bytes(data)
        result = DumpLoader().load(tmp_path / name)
        assert result.error is None, result.error
    ukraine = Place.objects.create(name="Ukraine", slug="ukraine", kind=Place.Kind.COUNTRY)
    odessa_region = Place.objects.create(name="Region Odessa", slug="region-odessa", kind=Place.Kind.REGION, parent=ukraine)
    tschornomorsk = Place.objects.create(name="Tschornomorsk", slug="tschornomorsk", kind=Place.Kind.CITY, parent=odessa_region)
    kiew = Place.objects.create(name="Kiew", slug="kiew", kind=Place.Kind.CITY, parent=ukraine)
    putin = Person.objects.create(name="Wladimir Putin", slug="wladimir-putin")
    for entry in Entry.objects.all():
        text = entry.headline + " " + entry.body
        for place, word in ((tschornomorsk, "Tschornomorsk"), (kiew, "Kiew")):
            if word in text:
                EntryPlace.objects.create(entry=entry, place=place)
        if "Putin" in text:
            EntryPerson.objects.create(entry=entry, person=putin)
    return {"odessa_region": odessa_region, "tschornomorsk": tschornomorsk, "kiew": kiew, "putin": putin}


@pytest.fixture
def hostile_archive(archive):
    """The archive plus an invented dump with markup, javascript: links and broken entities in its text."""
    result = DumpLoader().load(FIXTURE_DUMPS / "hostile-markup_2025-11-20.txt")
    assert result.error is None, result.error
    return archive
