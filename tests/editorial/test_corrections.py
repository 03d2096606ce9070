"""Editors correct entries in the admin; the corrections survive every re-ingest."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from editorial_pages import MARKET, PORT
from ingest.render import DraftEntry, DraftPicture
from support import admin_form_data, found_in, linked_names
from tickerarchive.models import Entry, EntryConflict, EntryPlace, EntryTombstone, Place, SourceDump

pytestmark = pytest.mark.django_db


def change_url(entry):
    return reverse("admin:tickerarchive_entry_change", args=[entry.pk])


def edit_entry(client, entry, **changes):
    page = client.get(change_url(entry))
    assert page.status_code == 200
    data = admin_form_data(page)
    data.update(changes)
    response = client.post(change_url(entry), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    entry.refresh_from_db()
    return entry


def client_sees(client, url: str, text: str) -> bool:
    return text in client.get(url).content.decode()


def test_edited_headline_and_body_survive_reingest_of_same_and_changed_dump(editor_client, ingest_page):
    ingest_page(PORT, MARKET)
    port = Entry.objects.get(original_headline=PORT.headline)
    edit_entry(editor_client, port, headline="Hafen Noworossijsk stoppt den Ölexport", body="Korrigierter Text.")
    assert sorted(port.edited_fields) == ["body", "headline"]

    again = ingest_page(PORT, MARKET, force=True)
    assert (again.created, again.updated) == (0, 0)
    changed = DraftEntry(PORT.time_text, PORT.headline, ["Der Ticker hat seinen Text ergänzt."], PORT.pictures)
    later = ingest_page(changed, MARKET, name="page_2025-11-14_later.txt")
    assert (later.created, later.updated) == (0, 1)

    port.refresh_from_db()
    assert Entry.objects.count() == 2
    assert (port.headline, port.body) == ("Hafen Noworossijsk stoppt den Ölexport", "Korrigierter Text.")
    [conflict] = EntryConflict.objects.filter(entry=port)
    assert (conflict.field, conflict.editor_value, conflict.ingested_value) == (
        "body", "Korrigierter Text.", "Der Ticker hat seinen Text ergänzt."
    )
    listing = editor_client.get(reverse("admin:tickerarchive_entryconflict_changelist"))
    assert "Der Ticker hat seinen Text ergänzt." in listing.content.decode() or port.headline in listing.content.decode()


def test_picture_caption_correction_survives_reingest(editor_client, ingest_page):
    ingest_page(PORT)
    port = Entry.objects.get()
    data_changes = {"pictures-0-caption": "Der Ölhafen von Noworossijsk am Morgen."}
    edit_entry(editor_client, port, **data_changes)
    changed = DraftEntry(PORT.time_text, PORT.headline, PORT.paragraphs,
                         [DraftPicture(PORT.pictures[0].slug, "Hafen (neu beschriftet).", "dpa")])
    ingest_page(changed, name="later.txt")
    assert port.pictures.get().caption == "Der Ölhafen von Noworossijsk am Morgen."
    assert EntryConflict.objects.filter(entry=port, field="pictures").exists()


def test_removed_and_added_links_are_kept_as_editor_links(editor_client, ingest_page):
    # The linker takes the port for a namesake in Texas.
    wrong = Place.objects.create(name="Noworossijsk (Texas)", slug="noworossijsk-texas", kind=Place.Kind.CITY)
    wrong.aliases.create(name="Noworossijsk")
    ingest_page(PORT)
    port = Entry.objects.get()
    right = Place.objects.create(name="Noworossijsk (Krasnodar)", slug="noworossijsk", kind=Place.Kind.CITY)
    assert client_sees(editor_client, "/ort/noworossijsk-texas/", PORT.headline)
    form = editor_client.get(change_url(port)).context["adminform"].form
    assert form.fields["remove_places"].choices == [(wrong.pk, "Noworossijsk (Texas) (2 Nennungen)")]

    edit_entry(editor_client, port, **{
        "remove_places": [str(wrong.pk)],
        "entryplace_set-TOTAL_FORMS": "1",
        "entryplace_set-0-place": str(right.pk),
        "entryplace_set-0-entry": str(port.pk),
    })
    removed = EntryPlace.objects.get(entry=port, place=wrong)
    added = EntryPlace.objects.get(entry=port, place=right)
    assert removed.removed and removed.origin == "editor" and removed.mentions == 2
    assert not added.removed and added.origin == "editor"
    assert removed.history.count() == 1  # on record, with its editor
    # Readers' place pages and the region filter follow the correction at once, and neither
    # relinking nor loading the page again brings the wrong place back.
    call_command("relink", stdout=open("/dev/null", "w"))
    ingest_page(PORT, name="saved-again.txt", force=True)
    assert not client_sees(editor_client, "/ort/noworossijsk-texas/", PORT.headline)
    assert client_sees(editor_client, "/ort/noworossijsk/", PORT.headline)
    assert editor_client.get("/api/entries/", {"region": "noworossijsk-texas"}).json()["count"] == 0
    assert linked_names(port)[0] == {"Noworossijsk (Krasnodar)"}
    # The removal can be taken back: unticked, what the linker found counts again.
    edit_entry(editor_client, port, **{"entryplace_set-0-removed": ""} if EntryPlace.objects.filter(
        entry=port).order_by("pk").first() == removed else {"entryplace_set-1-removed": ""})
    assert linked_names(port)[0] == {"Noworossijsk (Krasnodar)", "Noworossijsk (Texas)"}


def test_deleted_entry_does_not_come_back(editor_client, ingest_page):
    ingest_page(PORT, MARKET)
    market = Entry.objects.get(original_headline=MARKET.headline)
    response = editor_client.post(reverse("admin:tickerarchive_entry_delete", args=[market.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert EntryTombstone.objects.filter(original_headline=MARKET.headline).exists()
    result = ingest_page(PORT, MARKET, name="saved-again.txt", force=True)
    assert (result.created, result.skipped) == (0, 1)
    assert not Entry.objects.filter(original_headline=MARKET.headline).exists()


def test_merged_entry_stays_merged(editor_client, ingest_page):
    Place.objects.create(name="Krasnodar", slug="krasnodar")  # named in the duplicate alone
    duplicate = DraftEntry("09:54", "Hafen Noworossijsk stoppt Ölexporte", ["Doppelt gemeldet aus Krasnodar."])
    ingest_page(PORT, duplicate)
    survivor, other = Entry.objects.order_by("pk")
    place = Place.objects.create(name="Noworossijsk", slug="noworossijsk")
    EntryPlace.objects.create(entry=other, place=place)  # an editor's link
    response = editor_client.post(reverse("admin:tickerarchive_entry_changelist"), {
        "action": "merge_entries", "_selected_action": [survivor.pk, other.pk],
    })
    assert response.status_code == 302
    assert list(Entry.objects.all()) == [survivor]
    assert linked_names(survivor)[0] == {"Noworossijsk", "Krasnodar"}
    assert client_sees(editor_client, "/ort/noworossijsk/", survivor.headline)
    assert client_sees(editor_client, "/ort/krasnodar/", survivor.headline)
    call_command("relink", stdout=open("/dev/null", "w"))  # the duplicate's text is gone, its links stay
    assert linked_names(survivor)[0] == {"Noworossijsk", "Krasnodar"}
    ingest_page(PORT, duplicate, name="saved-again.txt", force=True)
    assert Entry.objects.count() == 1
    assert EntryTombstone.objects.get().merged_into == survivor


def test_history_shows_each_change_with_its_author(editor_client, editor, ingest_page):
    ingest_page(PORT)
    port = Entry.objects.get()
    edit_entry(editor_client, port, headline="Erste Korrektur")
    edit_entry(editor_client, port, headline="Zweite Korrektur")
    records = list(port.history.order_by("history_date"))
    assert [r.headline for r in records] == [PORT.headline, "Erste Korrektur", "Zweite Korrektur"]
    assert [r.history_user for r in records[1:]] == [editor, editor]
    page = editor_client.get(reverse("admin:tickerarchive_entry_history", args=[port.pk]))
    html = page.content.decode()
    assert "Zweite Korrektur" in html and "redakteurin" in html


def test_earlier_version_can_be_restored(editor_client, ingest_page):
    ingest_page(PORT)
    port = Entry.objects.get()
    edit_entry(editor_client, port, headline="Falsche Korrektur")
    first = port.history.order_by("history_date").first()
    url = reverse("admin:tickerarchive_entry_simple_history", args=[port.pk, first.history_id])
    page = editor_client.get(url)
    assert page.status_code == 200
    data = admin_form_data(page)
    assert editor_client.post(url, data).status_code == 302
    port.refresh_from_db()
    assert port.headline == PORT.headline
    assert port.edited_fields == []


def test_editor_cannot_delete_a_source_dump(editor_client, ingest_page):
    ingest_page(PORT)
    dump = SourceDump.objects.get()
    response = editor_client.post(reverse("admin:tickerarchive_sourcedump_delete", args=[dump.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert SourceDump.objects.filter(pk=dump.pk).exists()
    assert editor_client.get(reverse("admin:tickerarchive_sourcedump_change", args=[dump.pk])).status_code == 200


def test_admin_entry_search_uses_full_text(editor_client, ingest_page):
    ingest_page(PORT, MARKET)
    page = editor_client.get(reverse("admin:tickerarchive_entry_changelist"), {"q": "Ölexporte -Odessa"})
    assert page.status_code == 200
    assert [e.headline for e in page.context["cl"].result_list] == [PORT.headline]  # stemmed, exclusion honoured


def test_place_merge_moves_links_aliases_and_redirects(editor_client, ingest_page):
    from tickerarchive.models import PlaceAlias

    # The linker finds each spelling in an entry; an editor linked the duplicate to the market
    # and removed the survivor there, and linked the survivor to the tanker entry. (Both have
    # two entries: the older place survives.)
    survivor = Place.objects.create(name="Noworossijsk", slug="noworossijsk")
    duplicate = Place.objects.create(name="Novorossiysk", slug="novorossiysk")
    PlaceAlias.objects.create(place=duplicate, name="Novorossisk")
    tanker = DraftEntry("07:00", "Tanker vor Novorossiysk", ["Ein Tanker liegt vor Novorossisk."])
    ingest_page(PORT, MARKET, tanker)
    port, market = Entry.objects.get(original_headline=PORT.headline), Entry.objects.get(original_headline=MARKET.headline)
    EntryPlace.objects.create(entry=market, place=duplicate)
    EntryPlace.objects.create(entry=market, place=survivor, removed=True)  # stays removed
    EntryPlace.objects.create(entry=Entry.objects.get(original_headline=tanker.headline), place=survivor)
    response = editor_client.post(reverse("admin:tickerarchive_place_changelist"), {
        "action": "merge_selected", "_selected_action": [survivor.pk, duplicate.pk],
    })
    assert response.status_code == 302
    assert not Place.objects.filter(pk=duplicate.pk).exists()
    assert set(survivor.aliases.values_list("name", flat=True)) == {"Novorossiysk", "Novorossisk"}
    assert found_in(Entry.objects.get(original_headline=tanker.headline))[0] == {"Noworossijsk": 2}
    assert found_in(port)[0] == {"Noworossijsk": 2}
    assert set(EntryPlace.objects.filter(place=survivor).values_list("entry__original_headline", "removed")) == {
        (MARKET.headline, True), (tanker.headline, False),
    }
    assert client_sees(editor_client, "/ort/noworossijsk/", PORT.headline)
    assert client_sees(editor_client, "/ort/noworossijsk/", tanker.headline)
    assert not client_sees(editor_client, "/ort/noworossijsk/", MARKET.headline)  # its link stays removed
    assert editor_client.get("/ort/novorossiysk/")["Location"] == "/ort/noworossijsk/"


def test_admin_reingest_action_keeps_corrections(editor_client, ingest_page):
    ingest_page(PORT)
    port = Entry.objects.get()
    edit_entry(editor_client, port, headline="Korrigierte Überschrift")
    dump = SourceDump.objects.get()
    response = editor_client.post(reverse("admin:tickerarchive_sourcedump_changelist"), {
        "action": "reingest", "_selected_action": [dump.pk],
    }, follow=True)
    assert "0 neu, 0 aktualisiert, 1 unverändert" in response.content.decode()
    port.refresh_from_db()
    assert port.headline == "Korrigierte Überschrift" and Entry.objects.count() == 1


def test_place_list_counts_entries_once_when_several_aliases_match(editor_client, ingest_page):
    from tickerarchive.models import PlaceAlias

    ingest_page(PORT)
    place = Place.objects.create(name="Noworossijsk", slug="noworossijsk")
    PlaceAlias.objects.create(place=place, name="Novorossiysk")
    PlaceAlias.objects.create(place=place, name="Novorossiysk-Hafen")
    EntryPlace.objects.create(entry=Entry.objects.get(), place=place)
    page = editor_client.get(reverse("admin:tickerarchive_place_changelist"), {"q": "Novorossiysk"})
    [row] = page.context["cl"].result_list
    assert row.entry_total == 1
