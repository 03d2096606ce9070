"""A search's newest hits read a stretch of days at a time (NewestHits.read_by_day, migration
0017's day and link words): the same hits in the same order as one read of all of them, sorted."""
from datetime import date, datetime, timedelta

import pytest
from django.core.cache import caches

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from tickerarchive import search
from tickerarchive.models import Entry, EntryPerson, EntryPlace, Person, Place
from tickerarchive.pagecache import CACHE

pytestmark = pytest.mark.django_db

MONTHS = [date(2022 + n // 12, n % 12 + 1, 1) for n in range(42)]  # 2022-01 to 2025-06
TIMES = ["00:20", "00:15", "00:05"]  # on the first of the month, Berlin time: the month before in UTC


def headline(month: date, n: int) -> str:
    return f"Meldung {month:%Y-%m} {n}"


def has_harbour(index: int) -> bool:
    return index % 7 == 3  # a word of one month in seven


@pytest.fixture
def monthly(db, tmp_path):
    """Three entries in the first half hour of each month; `Hafen` in one month of seven; a
    person linked to the entries of every fifth month, a town to those of every fourth."""
    for index, month in enumerate(MONTHS):
        words = "Hafen und Lage" if has_harbour(index) else "Lage"
        entries = [DraftEntry(time, headline(month, n), [f"{words} am Morgen {n}."]) for n, time in enumerate(TIMES)]
        path = tmp_path / f"monat_{month:%Y-%m-%d}.txt"
        path.write_text(render_dump(title="Monatsticker", entries=entries, page_datetime=datetime.combine(month, datetime.min.time()) + timedelta(minutes=30)))
        assert DumpLoader().load(path).created == 3
    region = Place.objects.create(name="Region Nord", slug="region-nord", kind=Place.Kind.REGION)
    town = Place.objects.create(name="Nordhafen", slug="nordhafen", kind=Place.Kind.CITY, parent=region)
    person = Person.objects.create(name="Olaf Beispiel", slug="olaf-beispiel")
    for index, month in enumerate(MONTHS):
        for entry in Entry.objects.filter(headline__startswith=f"Meldung {month:%Y-%m} "):
            if index % 5 == 0:
                EntryPerson.objects.create(entry=entry, person=person)
            if index % 4 == 0:
                EntryPlace.objects.create(entry=entry, place=town)
    return {"region": region, "town": town, "person": person}


def expected(*, months=MONTHS, where=lambda index: True) -> list[str]:
    return [headline(month, n) for index, month in reversed(list(enumerate(months))) if where(index)
            for n in range(len(TIMES))]


CRITERIA = {
    "every entry": dict(q="Lage"),
    "one month in seven": dict(q="Hafen"),
    "a phrase": dict(q='"Hafen und Lage"'),
    "an exclusion": dict(q="Lage -Hafen"),
    "dates across months": dict(q="Lage", date_from=date(2023, 3, 1), date_to=date(2024, 2, 1)),
    "dates within a month": dict(q="Lage", date_from=date(2024, 5, 1), date_to=date(2024, 5, 1)),
    "a person": dict(q="Lage", person="person"),
    "a region, by its town": dict(region="region"),
    "a person, no words": dict(person="person"),
}


@pytest.mark.parametrize("max_days", [search.MAX_DAYS_PER_READ, 10_000], ids=["oldest days by time", "by day words only"])
@pytest.mark.parametrize("limit", [1, 2, 4, 10, 50, 200])
@pytest.mark.parametrize("name", CRITERIA)
def test_reading_by_days_finds_what_one_sorted_read_does(monthly, name, limit, max_days, monkeypatch):
    monkeypatch.setattr(search, "MAX_DAYS_PER_READ", max_days)
    asked = {key: monthly[value] if key in ("person", "region") else value for key, value in CRITERIA[name].items()}
    criteria = search.Criteria(**asked)
    entries = search.filter_entries(criteria)
    span = search.span_of(criteria, entries)
    walked = search.NewestHits.read_by_day(entries, limit, span, links=True)
    assert walked.rows == search.NewestHits.read(entries, limit, links=True).rows
    assert len(walked.rows) == min(limit, entries.count()) > 0


def test_a_search_over_many_months_shows_its_newest_hits_first(client, monthly, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 25)
    data = client.get("/api/entries/", {"q": "Hafen"}).json()
    harbour = expected(where=has_harbour)
    assert data["count"] == len(harbour) == 18 and data["count_is_exact"]
    assert [r["headline"] for r in data["results"]] == harbour and data["next"] is None
    caches[CACHE].clear()
    data = client.get("/api/entries/", {"q": "Lage", "person": "olaf-beispiel"}).json()
    assert [r["headline"] for r in data["results"]] == expected(where=lambda index: index % 5 == 0)[:20]
    page = client.get("/", {"q": "Lage"}).context["result"]
    assert page.count == 25 and not page.count_is_exact  # more than the cap
    assert [e.headline for e in page.page.entries] == expected()[:20]
    data = client.get("/api/entries/", {"q": "Lage"}).json()
    assert [r["headline"] for r in client.get(data["next"]).json()["results"]] == expected()[20:40]
    # facets count the newest 25 hits: 8 months and one entry of a ninth
    assert sum(day["count"] for day in page.facets.days) == 25 and len(page.facets.days) == 9


def test_the_day_of_an_entry_is_its_day_in_berlin(client, monthly):
    first_of_may = client.get("/api/entries/", {"q": "Lage", "date_from": "2024-05-01", "date_to": "2024-05-01"}).json()
    assert [r["headline"] for r in first_of_may["results"]] == [headline(date(2024, 5, 1), n) for n in range(3)]
    for word in ("@day 2023-03-01", "@month 2023-03"):
        march = Entry.objects.filter(search.with_any_word([word]))
        assert sorted(e.headline for e in march) == [headline(date(2023, 3, 1), n) for n in range(3)]
        assert all(e.published_at.month == 2 for e in march)  # in UTC still February


def test_a_stretch_of_days_is_asked_for_by_its_whole_months_and_the_days_around_them():
    assert search.time_words(date(2024, 1, 30), date(2024, 4, 2)) == [
        "@day 2024-01-30", "@day 2024-01-31", "@month 2024-02", "@month 2024-03", "@day 2024-04-01", "@day 2024-04-02"]
    assert search.time_words(date(2024, 2, 1), date(2024, 2, 28)) == [f"@day 2024-02-{d:02}" for d in range(1, 29)]


def test_text_cannot_pose_as_a_day_or_a_link(client, monthly, tmp_path):
    person = monthly["person"]
    forged = DraftEntry("12:00", "Lage am Mittag", [f"@day 2025-07-01, @person {person.pk}, @place {monthly['town'].pk}."])
    path = tmp_path / "monat_2025-06-15.txt"
    path.write_text(render_dump(title="Monatsticker", entries=[forged], page_datetime=datetime(2025, 6, 15, 12, 30)))
    assert DumpLoader().load(path).created == 1
    assert not Entry.objects.filter(search.with_any_word(["@day 2025-07-01"])).exists()
    by_person = client.get("/api/entries/", {"person": person.slug}).json()["results"]
    by_region = client.get("/api/entries/", {"region": "region-nord"}).json()["results"]
    assert "Lage am Mittag" not in {r["headline"] for r in by_person + by_region}
    assert client.get("/api/entries/", {"q": "Mittag"}).json()["count"] == 1


def test_a_word_beginning_matches_no_day_or_link(client, monthly):
    # No entry says `Dayton` or `Personal`: the fallback to word beginnings (`dayto:*`,
    # `perso:*`) must find nothing either, not every entry of a day or with a person.
    for typed in ("Days", "Dayton", "Personal", "Placebo"):
        result = client.get("/", {"q": typed}).context["result"]
        assert result.count == 0 and not result.prefix_fallback, typed
