"""The arrays of linked places and people on each entry stay what the linker found in it and
the editors' rows say, through ingest, relink and stale saves, and the facets counted from
them equal a plain count of the links over the same newest hits."""
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from ingest.generator import CorpusGenerator
from ingest.loader import DumpLoader, expand_paths
from tickerarchive import search
from tickerarchive.models import Entry, EntryPerson, EntryPlace, LinkCount, LinkOrigin, Person, Place, PlaceAlias

pytestmark = pytest.mark.django_db


def stored_arrays() -> dict[int, tuple[list[int], list[int]]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, place_ids, person_ids FROM tickerarchive_entry")
        return {pk: (places, people) for pk, places, people in cursor.fetchall()}


def arrays_from_links() -> dict[int, tuple[list[int], list[int]]]:
    """What the arrays must be: what the linker found, less the links an editor removed, plus
    the links an editor made."""
    ids = list(Entry.objects.values_list("pk", flat=True))
    found = Entry.objects.found_links(ids)
    arrays = {pk: ([], []) for pk in ids}
    for kind, model, target in ((0, EntryPlace, "place_id"), (1, EntryPerson, "person_id")):
        removed, added = {}, {}
        for entry_id, target_id, is_removed in model.objects.values_list("entry_id", target, "removed"):
            (removed if is_removed else added).setdefault(entry_id, set()).add(target_id)
        for pk in ids:
            arrays[pk][kind].extend(sorted((set(found[pk][kind]) - removed.get(pk, set())) | added.get(pk, set())))
    return arrays


def remove_a_link(place_name: str) -> EntryPlace:
    """An editor removes the link of the first entry in which the linker found this place."""
    place = Place.objects.get(name=place_name, kind=Place.Kind.CITY)
    entry = Entry.objects.filter(search.linked_to_any("place", [place.pk])).order_by("pk").first()
    return EntryPlace.objects.create(entry=entry, place=place, removed=True, origin=LinkOrigin.EDITOR)


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

    links = arrays_from_links()
    linked = {pk: set(links[pk][0]) for pk in ids}
    regions, countries = Counter(), Counter()
    for place_ids in linked.values():
        for unit in {above for pk in place_ids for above in at_and_above(pk)}:
            parent, kind = places[unit]
            if kind == Place.Kind.COUNTRY:
                countries[unit] += 1
            elif kind == Place.Kind.REGION or (parent is not None and places[parent][1] == Place.Kind.COUNTRY):
                regions[unit] += 1
    rejected = set(Person.objects.filter(status=Person.Status.REJECTED).values_list("pk", flat=True))
    people = Counter(pk for entry_id in ids for pk in links[entry_id][1] if pk not in rejected)
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
    remove_a_link("Kiew")
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
    removed = remove_a_link("Charkiw")
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


def stored_counts() -> dict[tuple[str, int], int]:
    return {(kind, target): n for kind, target, n in LinkCount.objects.values_list("kind", "target", "entries") if n}


def counted_from_arrays() -> dict[tuple[str, int], int]:
    counts = Counter()
    for places, people in stored_arrays().values():
        counts.update([("place", pk) for pk in places] + [("person", pk) for pk in people])
    return dict(counts)


def test_entry_counts_follow_ingest_corrections_merges_deletes_and_relink(client, generated):
    assert stored_counts() == counted_from_arrays()
    remove_a_link("Kiew")
    charkiw = Place.objects.get(name="Charkiw", kind=Place.Kind.CITY)
    EntryPlace.objects.create(entry=Entry.objects.exclude(search.linked_to_any("place", [charkiw.pk])).first(),
                              place=charkiw)
    Entry.objects.filter(pk__in=list(Entry.objects.values_list("pk", flat=True)[:5])).delete_as_editor()
    odessa = Place.objects.get(name="Odessa", kind=Place.Kind.CITY)
    odessa.merge([Place.objects.get(name="Tschornomorsk")])
    PlaceAlias.objects.create(place=Place.objects.get(slug="region-kursk"), name="Umspannwerk")
    call_command("relink", stdout=open("/dev/null", "w"))
    assert stored_counts() == counted_from_arrays()
    kiew = client.get("/api/places/", {"q": "Kiew"}).json()["results"][0]
    assert kiew["entry_count"] == counted_from_arrays()["place", Place.objects.get(slug=kiew["slug"]).pk]
