"""An editor's new or removed spelling of a place or person links the entries that use it at
once, without a relink run: filters and place pages follow the correction."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from ingest.render import DraftEntry, DraftPicture
from support import admin_form_data, found_in
from tickerarchive import admin as archive_admin
from tickerarchive.models import Entry, EntryPlace, LinkOrigin, Person, Place

pytestmark = pytest.mark.django_db

# The same port in three spellings, one of them only in a picture caption.
USUAL = DraftEntry("09:53", "Hafen Noworossijsk stoppt Ölexport", ["Der Export ruht."])
VARIANT = DraftEntry("09:10", "Export über Noworossisk gestoppt", ["Noworossisks Tanklager brennt."])
IN_CAPTION = DraftEntry("08:40", "Tanker vor der Küste", ["Ein Tanker liegt vor Anker."],
                        [DraftPicture("Tanker", "Der Tanker vor Noworossisk.", "dpa")])
ELSEWHERE = DraftEntry("08:00", "Lage in Kiew", ["Kiew meldet Luftalarm."])


def place_change(client, place, **changes):
    url = reverse("admin:tickerarchive_place_change", args=[place.pk])
    data = admin_form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors  # saved: back to the list
    return [str(m) for m in response.context["messages"]]


def add_alias(client, place, name):
    return place_change(client, place, **{"aliases-0-name": name, "aliases-0-place": str(place.pk)})


def linked_headlines(client, slug: str) -> set[str]:
    return {r["headline"] for r in client.get("/api/entries/", {"region": slug}).json()["results"]}


def test_a_spelling_added_in_the_admin_links_the_entries_that_use_it(editor_client, ingest_page):
    ingest_page(USUAL, VARIANT, IN_CAPTION, ELSEWHERE)
    place = Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY)
    call_command("relink", stdout=open("/dev/null", "w"))
    assert linked_headlines(editor_client, "noworossijsk") == {USUAL.headline}

    messages = add_alias(editor_client, place, "Noworossisk")

    # Headline, genitive (`Noworossisks`) and a caption the text index leaves out: all linked.
    assert linked_headlines(editor_client, "noworossijsk") == {USUAL.headline, VARIANT.headline, IN_CAPTION.headline}
    assert found_in(Entry.objects.get(original_headline=VARIANT.headline))[0] == {"Noworossijsk": 2}
    assert "Schreibweisen »Noworossisk«: 2 Einträge geprüft, 2 Verknüpfungen neu oder geändert." in messages


def test_a_spelling_removed_unlinks_its_entries_and_keeps_the_editors_links(editor_client, ingest_page):
    ingest_page(USUAL, VARIANT, IN_CAPTION)
    place = Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY)
    place.aliases.create(name="Noworossisk")
    call_command("relink", stdout=open("/dev/null", "w"))
    by_hand = Entry.objects.get(original_headline=IN_CAPTION.headline)
    EntryPlace.objects.create(entry=by_hand, place=place, origin=LinkOrigin.EDITOR)
    assert len(linked_headlines(editor_client, "noworossijsk")) == 3

    place_change(editor_client, place, **{"aliases-0-DELETE": "on"})

    assert linked_headlines(editor_client, "noworossijsk") == {USUAL.headline, IN_CAPTION.headline}


def test_a_renamed_person_keeps_the_old_name_as_a_spelling_until_an_editor_removes_it(editor_client, ingest_page):
    ingest_page(DraftEntry("10:00", "Selenskyj in Berlin", ["Selenskyj trifft Merz."]),
                DraftEntry("09:00", "Selensky reist ab", ["Der Besuch endet."]))
    person = Person.objects.create(name="Selensky", slug="selenskyj")
    call_command("relink", stdout=open("/dev/null", "w"))
    url = reverse("admin:tickerarchive_person_change", args=[person.pk])

    def linked():
        results = editor_client.get("/api/entries/", {"person": "selenskyj"}).json()["results"]
        return {r["headline"] for r in results}

    assert linked() == {"Selensky reist ab"}
    data = admin_form_data(editor_client.get(url)) | {"name": "Selenskyj"}
    messages = [str(m) for m in editor_client.post(url, data, follow=True).context["messages"]]
    assert "Der bisherige Name »Selensky« bleibt als Schreibweise." in messages
    assert linked() == {"Selenskyj in Berlin", "Selensky reist ab"}
    assert found_in(Entry.objects.get(original_headline="Selenskyj in Berlin"))[1] == {"Selenskyj": 2}

    data = admin_form_data(editor_client.get(url)) | {"aliases-0-DELETE": "on"}
    assert data["aliases-0-name"] == "Selensky"
    assert editor_client.post(url, data).status_code == 302
    assert linked() == {"Selenskyj in Berlin"}


def test_a_spelling_in_too_many_entries_is_left_to_the_relink_command(editor_client, ingest_page, monkeypatch):
    monkeypatch.setattr(archive_admin, "RELINK_AT_ONCE", 1)
    ingest_page(USUAL, VARIANT, IN_CAPTION)
    place = Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY)

    messages = add_alias(editor_client, place, "Noworossisk")

    assert any("2 Einträge kommen in Frage" in m and "relink --place noworossijsk" in m for m in messages)
    assert linked_headlines(editor_client, "noworossijsk") == set()
    call_command("relink", "--place", "noworossijsk", stdout=open("/dev/null", "w"))
    assert linked_headlines(editor_client, "noworossijsk") == {USUAL.headline, VARIANT.headline, IN_CAPTION.headline}


def test_relink_of_one_place_reads_only_the_entries_that_name_it(ingest_page, capsys):
    ingest_page(USUAL, VARIANT, IN_CAPTION, ELSEWHERE)
    Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY).aliases.create(name="Noworossisk")
    call_command("relink", "--place", "noworossijsk")
    assert capsys.readouterr().out.startswith("3 entries linked again")
    with pytest.raises(Exception, match="no place with the slug atlantis"):
        call_command("relink", "--place", "atlantis")
