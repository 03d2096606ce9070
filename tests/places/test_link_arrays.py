"""The arrays of linked places and people on each entry stay what its link rows say, through
ingest, relink and stale saves, and the facets counted from them equal a plain count of the
link rows over the same newest hits."""
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from ingest.generator import CorpusGenerator
from ingest.loader import DumpLoader, expand_paths
from tickerarchive import search
from tickerarchive.models import Entry, EntryPerson, EntryPlace, LinkOrigin, Person, Place, PlaceAlias

pytestmark = pytest.mark.django_db


def stored_arrays() -> dict[int, tuple[list[int], list[int]]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, place_ids, person_ids FROM tickerarchive_entry")
        return {pk: (places, people) for pk, places, people in cursor.fetchall()}


def arrays_from_links() -> dict[int, tuple[list[int], list[int]]]:
    """What the arrays must be: the link rows an editor did not remove, by id."""
    places, people = {}, {}
    for entry_id, place_id in EntryPlace.objects.filter(removed=False).values_list("entry_id", "place_id"):
        places.setdefault(entry_id, []).append(place_id)
    for entry_id, person_id in EntryPerson.objects.filter(removed=False).values_list("entry_id", "person_id"):
        people.setdefault(entry_id, []).append(person_id)
    return {pk: (sorted(places.get(pk, [])), sorted(people.get(pk, []))) for pk in Entry.objects.values_list("pk", flat=True)}


@pytest.fixture
def generated(gazetteer, tmp_path):
    """400 generated entries (places and people in their spelling variants), ingested with linking."""
    CorpusGenerator(seed=3).write(400, tmp_path)
    files, _ = expand_paths([str(tmp_path)])
    for path in files:
        assert DumpLoader().load(path).error is None
    assert Entry.objects.count() == 400


def test_ingest_writes_the_arrays_its_links_say(generated):
    arrays = stored_arrays()
    assert arrays == arrays_from_links()
    assert sum(1 for places, _ in arrays.values() if places) > 200  # the corpus names places in most entries


def plain_facets(ids: list[int], limit: int = 10) -> dict[str, list[dict]]:
    """The facets of these entries counted the long way, from the link rows: an entry counts for
    a region or country when it is linked to it or to a place below it (as the region filter
    finds it); regions are the gazetteer's regions and the towns that lie directly in a country."""
    places = {pk: (parent, kind) for pk, parent, kind in Place.objects.values_list("pk", "parent_id", "kind")}

    def at_and_above(pk):
        while pk is not None:
            yield pk
            pk = places[pk][0]

    linked: dict[int, set[int]] = {}
    for entry_id, place_id in EntryPlace.objects.filter(removed=False, entry_id__in=ids).values_list("entry_id", "place_id"):
        linked.setdefault(entry_id, set()).add(place_id)
    regions, countries = Counter(), Counter()
    for place_ids in linked.values():
        for unit in {above for pk in place_ids for above in at_and_above(pk)}:
            parent, kind = places[unit]
            if kind == Place.Kind.COUNTRY:
                countries[unit] += 1
            elif kind == Place.Kind.REGION or (parent is not None and places[parent][1] == Place.Kind.COUNTRY):
                regions[unit] += 1
    people = Counter(EntryPerson.objects.filter(removed=False, entry_id__in=ids)
                     .exclude(person__status=Person.Status.REJECTED).values_list("person_id", flat=True))
    named = Place.objects.in_bulk(list(regions) + list(countries))
    persons = Person.objects.in_bulk(list(people))

    def top(counts: Counter, by_id: dict, tie_break) -> list[dict]:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], tie_break(by_id[item[0]])))[:limit]
        return [{"slug": by_id[pk].slug, "name": by_id[pk].name, "count": n} for pk, n in ranked]

    return {
        "regions": top(regions, named, lambda place: place.pk),
        "countries": top(countries, named, lambda place: place.pk),
        "people": top(people, persons, lambda person: person.name),
    }


@pytest.mark.parametrize("params", [{}, {"q": "Angriff"}, {"region": "ukraine"}])
def test_facets_equal_a_plain_count_over_the_newest_hits(client, generated, monkeypatch, params):
    # Editors removed a link and rejected a person: neither may count.
    removed = EntryPlace.objects.filter(place__name="Kiew").first()
    removed.removed, removed.origin = True, LinkOrigin.EDITOR
    removed.save()
    Person.objects.filter(name="Donald Trump").update(status=Person.Status.REJECTED)
    monkeypatch.setattr(search, "COUNT_CAP", 40)  # fewer than the hits: the facets count a sample
    result = client.get("/", params).context["result"]
    assert not result.count_is_exact and result.facets.sample == 40
    newest = list(search.filter_entries(result.criteria).order_by("-published_at", "-pk").values_list("pk", flat=True)[:40])
    expected = plain_facets(newest)
    facets = result.facets
    assert (facets.regions, facets.countries, facets.people) == (expected["regions"], expected["countries"], expected["people"])
    assert facets.regions and facets.people
    assert all(person["name"] != "Donald Trump" for person in facets.people)


def test_relink_after_a_gazetteer_change_updates_the_arrays_and_keeps_removals(client, generated):
    kursk = Place.objects.get(slug="region-kursk")
    PlaceAlias.objects.create(place=kursk, name="Umspannwerk")  # a new spelling, linked only by relink
    removed = EntryPlace.objects.filter(place__name="Charkiw").first()
    removed.removed, removed.origin = True, LinkOrigin.EDITOR
    removed.save()
    before = client.get("/api/entries/", {"q": "Umspannwerk", "region": "region-kursk"}).json()["count"]
    call_command("relink", stdout=open("/dev/null", "w"))
    assert stored_arrays() == arrays_from_links()
    after = client.get("/api/entries/", {"q": "Umspannwerk", "region": "region-kursk"}).json()["count"]
    assert after == client.get("/api/entries/", {"q": "Umspannwerk"}).json()["count"] > before
    places, _ = stored_arrays()[removed.entry_id]
    assert removed.place_id not in places


def test_an_entry_saved_from_a_stale_copy_keeps_its_new_links(client, generated):
    entry = Entry.objects.order_by("-published_at").first()  # read, say, by an editor's form
    sumy = Place.objects.get(name="Sumy", kind=Place.Kind.CITY)
    EntryPlace.objects.create(entry=entry, place=sumy, origin=LinkOrigin.EDITOR)  # meanwhile, another change
    entry.headline = "Korrigierte Überschrift"
    entry.save()
    assert sumy.pk in stored_arrays()[entry.pk][0]
    assert "Korrigierte Überschrift" in client.get("/ort/sumy/").content.decode()
