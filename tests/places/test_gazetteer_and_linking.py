"""The gazetteer, linking at ingest, discovery of people, relink."""
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from ingest.evaluation import evaluate
from ingest.linker import Linker
from ingest.loader import DumpLoader
from ingest.render import DraftEntry, DraftPicture, render_dump
from tickerarchive.gazetteer import GazetteerLoader
from support import SHARED, found_in, linked_names
from tickerarchive.models import Entry, EntryPerson, EntryPlace, LinkOrigin, Person, Place, links_of
from tickerarchive.search import linked_to_any

pytestmark = pytest.mark.django_db


def place_names(text):
    mentions = Linker.from_database().find(text)
    return {Place.objects.get(pk=pk).name: n for pk, n in mentions.places.items()}


def person_names(text):
    mentions = Linker.from_database().find(text)
    return {Person.objects.get(pk=pk).name: n for pk, n in mentions.people.items()}


def test_load_is_idempotent_and_keeps_editors_changes(gazetteer):
    assert gazetteer.places_created > 1500 and gazetteer.people_created > 30
    again = GazetteerLoader().load()
    assert (again.places_created, again.aliases_created, again.people_created) == (0, 0, 0)
    kiew = Place.objects.get(name="Kiew", kind=Place.Kind.CITY)
    kiew.name, kiew.parent = "Kyjiw", None  # an editor prefers the Ukrainian spelling
    kiew.save()
    GazetteerLoader().load()
    kiew.refresh_from_db()
    assert (kiew.name, kiew.parent) == ("Kyjiw", None)
    assert kiew.aliases.filter(name="Kiew").exists()  # the old name still finds it


def test_places_have_german_names_kinds_parents_and_coordinates(gazetteer):
    tschornomorsk = Place.objects.get(name="Tschornomorsk")
    assert tschornomorsk.kind == Place.Kind.CITY and tschornomorsk.geonames_id == 707688
    assert tschornomorsk.parent.name == "Region Odessa" and tschornomorsk.parent.parent.name == "Ukraine"
    assert round(tschornomorsk.latitude, 1) == 46.3
    assert Place.objects.get(name="Noworossijsk").parent.name == "Region Krasnodar"
    assert Place.objects.filter(name="Charkiw", kind=Place.Kind.CITY).exists()
    assert Place.objects.get(name="Russland").kind == Place.Kind.COUNTRY


def test_spelling_variants_and_genitives_resolve_to_one_place(gazetteer):
    found = place_names("Angriff auf Noworossijsk. Brand in Novorossijsk. Schäden in Noworossisk. Kiews Bürgermeister.")
    assert found == {"Noworossijsk": 3, "Kiew": 1}


def test_gaza_strip_and_west_bank_hold_their_towns_under_the_names_the_news_uses(gazetteer, tmp_path, client):
    strip, bank = Place.objects.get(slug="gazastreifen"), Place.objects.get(slug="westjordanland")
    assert (strip.kind, strip.parent.name, bank.parent.name) == (Place.Kind.REGION, "Palästinensische Gebiete", "Palästinensische Gebiete")
    assert Place.objects.get(name="Chan Junis").parent == strip and Place.objects.get(name="Dschenin").parent == bank
    assert place_names("Hunger im Norden des Gazastreifens; Angriffe auf Chan Junis und im Gaza-Streifen.") == {
        "Gazastreifen": 2, "Chan Junis": 1}
    ingest(tmp_path, "g.txt", DraftEntry("12:00", "Luftangriff auf Rafah", ["Mehrere Tote."]),
           DraftEntry("11:00", "Razzia in Dschenin", ["Die Armee meldet Festnahmen."]))
    results = client.get("/api/entries/", {"region": "gazastreifen"}).json()["results"]
    assert [r["headline"] for r in results] == ["Luftangriff auf Rafah"]


def test_a_later_load_moves_towns_into_a_region_added_since_but_not_a_town_an_editor_changed(gazetteer):
    from django.contrib.auth.models import User

    country = Place.objects.get(name="Palästinensische Gebiete")
    gaza, rafah = Place.objects.get(name="Gaza", kind=Place.Kind.CITY), Place.objects.get(name="Rafah")
    Place.objects.filter(pk__in=[gaza.pk, rafah.pk]).update(parent=country)  # as loaded before the region existed
    rafah.refresh_from_db()
    rafah.latitude, rafah._history_user = 31.3, User.objects.create_user("redakteurin")  # an editor's correction
    rafah.save()
    report = GazetteerLoader().load()
    gaza.refresh_from_db()
    rafah.refresh_from_db()
    assert (gaza.parent.slug, rafah.parent) == ("gazastreifen", country)
    assert report.places_moved == 1 and "1 town moved into its region" in str(report)


def test_a_load_that_adds_a_region_links_the_entries_already_naming_it(gazetteer, tmp_path, client, capsys):
    Place.objects.get(slug="gazastreifen").delete()  # an archive ingested before the region was curated
    ingest(tmp_path, "h.txt", DraftEntry("12:00", "Hunger im Gazastreifen", ["Die UN warnen."]),
           DraftEntry("11:00", "Lage in Kiew", ["Luftalarm."]))
    assert client.get("/api/entries/", {"region": "gazastreifen"}).status_code == 400  # no such region yet
    call_command("load_gazetteer")
    assert "1 entry that may name them linked again" in capsys.readouterr().out
    results = client.get("/api/entries/", {"region": "gazastreifen"}).json()["results"]
    assert [r["headline"] for r in results] == ["Hunger im Gazastreifen"]
    assert Place.objects.get(name="Chan Junis").parent.slug == "gazastreifen"  # its towns back in it


def test_a_governor_of_a_town_governs_its_region_and_a_dollar_is_no_place(gazetteer):
    assert place_names("Der Gouverneur von Odessa, Oleh Kiper, meldet Schäden.") == {"Region Odessa": 1}
    assert place_names("Die Gouverneurin von Charkiw besucht Odessa.") == {"Region Charkiw": 1, "Odessa": 1}
    assert place_names("Eine Drohne kostet fünf Millionen US-Dollar, sagt der US-Präsident.") == {"USA": 1}


def test_odessa_is_the_ukrainian_city_and_region_wins_over_town(gazetteer):
    odessa = Place.objects.get(pk=next(iter(Linker.from_database().find("Hafen von Odessa").places)))
    assert odessa.name == "Odessa" and odessa.parent.name == "Region Odessa"
    assert place_names("Drohnen über der Region Odessa") == {"Region Odessa": 1}


def test_adjectives_are_not_places_and_genitive_country_is(gazetteer):
    assert place_names("Die russische Armee und ukrainischen Truppen") == {}
    assert place_names("Russlands Ölindustrie") == {"Russland": 1}


def test_newspapers_named_after_places_are_not_places(gazetteer):
    """The gold list's rule: a newspaper or broadcaster is no mention of its city or country,
    while the place named on its own beside it still counts."""
    text = ('Wie die "Moscow Times" und das Redaktionsnetzwerk Deutschland berichten, bestellt Moskau '
            'den Botschafter ein. Der "Kyiv Independent" meldet Explosionen in Kiew.')
    assert place_names(text) == {"Moskau": 1, "Kiew": 1}


def test_people_with_genitive_compound_and_surname(gazetteer):
    assert person_names("Pistorius verurteilt Putins Angriffe") == {"Boris Pistorius": 1, "Wladimir Putin": 1}
    assert person_names("Kreml stellt Bedingungen für neues Trump-Putin-Treffen") == {"Donald Trump": 1, "Wladimir Putin": 1}
    assert person_names("Bundesverteidigungsminister Boris Pistorius empfängt") == {"Boris Pistorius": 1}


def test_role_words_are_found_as_words_and_at_the_end_of_compounds(gazetteer):
    """A role word stands alone (`Minister`), after a hyphen (`ntv-Reporterin`) or ends a
    compound (`Kremlchef`); the name after it is a person to discover, with the whole word as role."""
    found = Linker.from_database().find(
        "ntv-Reporterin Oksana Petrowa berichtet. Der Kremlchef Maria Sidorowa schweigt. "
        "Minister Olena Marko kommt. Ein Ministertreffen Julia Kowal folgt."
    )
    assert found.discovered == [
        ("ntv-Reporterin", "Oksana", "Petrowa"), ("Kremlchef", "Maria", "Sidorowa"), ("Minister", "Olena", "Marko"),
    ]


def test_first_names_in_german_transliteration_mark_a_person_to_discover(gazetteer):
    """`Wladyslaw` and `Tymur` are not in gender-guesser's list of first names; the curated list
    adds them, so the person after (or before) the role word is discovered."""
    found = Linker.from_database().find(
        "Das teilt der Sprecher der Stadtverwaltung, Wladyslaw Hajdenko, mit. "
        "Tymur Kowalenko, Leiter der Militärverwaltung, warnt."
    )
    assert found.discovered == [("Sprecher", "Wladyslaw", "Hajdenko"), ("Leiter", "Tymur", "Kowalenko")]


def ingest(tmp_path, name, *entries):
    path = tmp_path / name
    path.write_text(render_dump(title="Ukraine-Krieg im Liveticker", entries=list(entries),
                                page_datetime=datetime(2025, 11, 14, 0, 10)))
    result = DumpLoader().load(path)
    assert result.error is None
    return result


def test_ingest_links_headline_body_and_captions_with_counts(gazetteer, tmp_path):
    ingest(tmp_path, "a.txt", DraftEntry(
        "12:25", "Tote in Region Odessa", ["Ein Markt in Tschornomorsk wird getroffen. Tschornomorsk trauert."],
        [DraftPicture(None, "Der Markt von Tschornomorsk und Wolodymyr Selenskyj.", "dpa")],
    ))
    entry = Entry.objects.get()
    assert found_in(entry) == ({"Region Odessa": 1, "Tschornomorsk": 3}, {"Wolodymyr Selenskyj": 1})
    places, people = links_of(entry)
    assert {(l.target.name, l.mentions, l.origin, l.removed) for l in places + people} == {
        ("Region Odessa", 1, LinkOrigin.AUTOMATIC, False), ("Tschornomorsk", 3, LinkOrigin.AUTOMATIC, False),
        ("Wolodymyr Selenskyj", 1, LinkOrigin.AUTOMATIC, False),
    }
    assert not EntryPlace.objects.exists() and not EntryPerson.objects.exists()  # rows are editors' decisions


def test_discovered_person_is_a_suggestion_linked_with_later_surname_mentions(gazetteer, tmp_path):
    ingest(tmp_path, "b.txt", DraftEntry("10:00", "Paris sagt Hilfe zu", [
        "Verteidigungsministerin Catherine Vautrin sagt weitere Hilfe zu. Vautrin nennt keine Zahlen.",
    ]))
    person = Person.objects.get(name="Catherine Vautrin")
    assert person.status == Person.Status.SUGGESTED and person.role == "Verteidigungsministerin"
    assert found_in(Entry.objects.get())[1] == {"Catherine Vautrin": 2}


def test_a_suggested_person_is_counted_alike_by_later_ingests_and_relink(gazetteer, tmp_path):
    """Once a suggestion exists, its full name is in the gazetteer but its surname alone is not:
    the surname in the same entry still counts, in a later dump and when relinked."""
    ingest(tmp_path, "b.txt", DraftEntry("10:00", "Paris sagt Hilfe zu", [
        "Verteidigungsministerin Catherine Vautrin sagt weitere Hilfe zu. Vautrin nennt keine Zahlen.",
    ]))
    ingest(tmp_path, "c.txt", DraftEntry("11:00", "Vautrin in Kiew", [
        "Ministerin Catherine Vautrin besucht Kiew. Vautrin trifft Soldaten, Vautrin verspricht Hilfe.",
    ]))
    def counts():
        return {entry.original_headline: found_in(entry)[1]["Catherine Vautrin"] for entry in Entry.objects.all()}
    assert counts() == {"Paris sagt Hilfe zu": 2, "Vautrin in Kiew": 4}
    call_command("relink", stdout=open("/dev/null", "w"))
    assert counts() == {"Paris sagt Hilfe zu": 2, "Vautrin in Kiew": 4}


def test_person_named_before_the_role_is_discovered_too(gazetteer, tmp_path):
    # The name comes first and the role after a comma; in a list of names, the one right
    # before the role is the person holding it.
    ingest(tmp_path, "b2.txt", DraftEntry("10:00", "Stromausfall in Kiew", [
        "Bohdan Tkachenko, Leiter der Militärverwaltung, meldet Schäden. Nach Olena Marko, "
        "Iwan Petrenko, Sprecher der Stadtwerke, dauern die Reparaturen Tage.",
    ]))
    suggested = dict(Person.objects.filter(status=Person.Status.SUGGESTED).values_list("name", "role"))
    assert suggested == {"Bohdan Tkachenko": "Leiter", "Iwan Petrenko": "Sprecher"}


def test_relink_keeps_editor_links_and_removals(gazetteer, tmp_path):
    ingest(tmp_path, "c.txt", DraftEntry("09:00", "Explosionen in Kiew", ["Auch Charkiw meldet Angriffe."]))
    entry = Entry.objects.get()
    charkiw = Place.objects.get(name="Charkiw", kind=Place.Kind.CITY)
    EntryPlace.objects.create(entry=entry, place=charkiw, removed=True)
    sumy = Place.objects.get(name="Sumy", kind=Place.Kind.CITY)
    EntryPlace.objects.create(entry=entry, place=sumy)
    call_command("relink", stdout=open("/dev/null", "w"))
    links = {l.target.name: (l.origin, l.removed) for l in links_of(entry)[0]}
    assert links == {"Kiew": ("auto", False), "Charkiw": ("auto", True), "Sumy": ("editor", False)}
    assert linked_names(entry)[0] == {"Kiew", "Sumy"}


def test_region_filter_and_name_search_use_the_links(gazetteer, tmp_path, client):
    ingest(tmp_path, "d.txt",
           DraftEntry("12:25", "Markt getroffen", ["In Tschornomorsk sterben zwei Menschen."]),
           DraftEntry("11:00", "Hafen Novorossijsk brennt", ["Brand im Hafen."]),
           DraftEntry("10:00", "Export über Noworossisk gestoppt", ["Der Export ruht."]))
    region = client.get("/api/entries/", {"region": "region-odessa"}).json()
    assert [r["headline"] for r in region["results"]] == ["Markt getroffen"]
    page = client.get("/", {"q": "Noworossijsk"})
    assert page.context["result"].count == 2
    assert "Novorossijsk" in page.content.decode() and "anders schreiben" in page.content.decode()
    api = client.get("/api/entries/", {"q": "Noworossijsk"}).json()
    assert api["word_beginnings"] is False and api["suggestion"] is None
    assert [(n["type"], n["name"]) for n in api["known_names"]] == [("place", "Noworossijsk")]


def test_a_misspelt_place_finds_its_entries_under_every_spelling(gazetteer, tmp_path, client):
    """`Noworosijsk` is no word of the archive. The word beginnings shown instead (`nowor`)
    miss the Novorossijsk spelling; the suggested name is a known place, so its links count
    as they would for the suggestion itself, and the page names the spellings."""
    ingest(tmp_path, "d.txt",
           DraftEntry("12:00", "Angriff auf Noworossijsk", ["Drohnen über dem Hafen."]),
           DraftEntry("11:00", "Hafen Novorossijsk brennt", ["Brand im Hafen."]),
           DraftEntry("10:00", "Export über Noworossisk gestoppt", ["Der Export ruht."]),
           DraftEntry("09:00", "Markt getroffen", ["In Tschornomorsk sterben zwei Menschen."]))
    page = client.get("/", {"q": "Noworosijsk"})
    result = page.context["result"]
    assert result.suggestion == "Noworossijsk" and result.prefix_fallback
    assert {e.headline for e in result.page.entries} == {
        "Angriff auf Noworossijsk", "Hafen Novorossijsk brennt", "Export über Noworossisk gestoppt"}
    assert result.count == 3 and "anders schreiben" in page.content.decode()
    # The API says what the page says: not found as typed, the suggestion, the spellings counted.
    api = client.get("/api/entries/", {"q": "Noworosijsk"}).json()
    assert len(api["results"]) == 3 and api["word_beginnings"] is True and api["suggestion"] == "Noworossijsk"
    [named] = api["known_names"]
    assert (named["type"], named["slug"]) == ("place", "noworossijsk") and "Novorossijsk" in named["spellings"]
    # A typo in the first letters: no word begins so, but the known name is still suggested.
    page = client.get("/", {"q": "Nowrossijsk"})
    assert page.context["result"].count == 0 and page.context["result"].suggestion == "Noworossijsk"
    assert "Meinten Sie" in page.content.decode()


@pytest.mark.parametrize("q, expected", [
    ("Kiew", "Kiew"), ("kyiv", "Kiew"), ("SAPORISCHSCHJA", "Saporischschja"), ("Noworosijsk", "Noworossijsk"),
    ("Tschornomorsk", "Tschornomorsk"), ("chornomorsk", "Tschornomorsk"), ("Köln", "Köln"), ("koln", "Köln"),
])
def test_places_api_is_case_accent_and_typo_tolerant(gazetteer, client, q, expected):
    results = client.get("/api/places/", {"q": q}).json()["results"]
    assert results and results[0]["name"] == expected, [r["name"] for r in results[:5]]
    assert set(results[0]) == {"slug", "name", "kind", "parent", "aliases", "entry_count"}


def test_places_api_finds_a_place_by_the_name_an_editor_gave_it(gazetteer, client):
    """The folded names the lookup compares are stored: a renamed place is found by its new name."""
    place = Place.objects.get(name="Tschornomorsk")
    place.name = "Čornomorsk-Hafenstadt"
    place.save()
    results = client.get("/api/places/", {"q": "cornomorsk-hafenstadt"}).json()["results"]
    assert results and results[0]["name"] == "Čornomorsk-Hafenstadt", [r["name"] for r in results[:5]]


def test_people_api(gazetteer, client):
    for q in ("Selenskyj", "zelensky", "selenskij", "Putins"[:-1]):
        results = client.get("/api/people/", {"q": q}).json()["results"]
        assert results[0]["name"] in {"Wolodymyr Selenskyj", "Wladimir Putin"}, (q, results[:3])
    tschornomorsk = client.get("/api/places/", {"q": "Tschornomorsk"}).json()["results"][0]
    assert tschornomorsk["parent"] == "region-odessa" and tschornomorsk["kind"] == "city"
    assert client.get("/api/people/", {"q": ""}).json() == {"results": []}


REAL = SHARED / "dumps" / "ntv"


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared is not present")
def test_linker_precision_and_recall_on_the_real_dumps(gazetteer):
    scores = evaluate(sorted(REAL.glob("*.txt")), Path(__file__).parent / "gold_real_dumps.json")
    for kind, score in scores.items():
        print(f"{kind}: precision {score.precision:.3f}, recall {score.recall:.3f}")
        assert score.precision >= 0.9 and score.recall >= 0.9, (kind, score.misses)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared is not present")
def test_real_dumps_linked_at_ingest(gazetteer, client):
    for path in sorted(REAL.glob("*.txt")):
        DumpLoader().load(path)
    tschornomorsk_entry = "Auch Tote durch russische Drohnen in Region Odessa"
    region = client.get("/api/entries/", {"region": "region-odessa"}).json()["results"]
    assert tschornomorsk_entry in [r["headline"] for r in region]
    noworossijsk = Place.objects.get(name="Noworossijsk")
    novorossijsk_day = Entry.objects.filter(linked_to_any("place", [noworossijsk.pk]), published_at__date="2025-11-14")
    assert novorossijsk_day.count() == 5  # spelled Noworossijsk, Novorossijsk and Noworossisk
    putins = Entry.objects.get(headline__startswith='"Menschenverachtung"')
    assert "Wladimir Putin" in linked_names(putins)[1]
