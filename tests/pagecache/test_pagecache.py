"""Anonymous readers get pages from the page cache, and never one older than the archive.

The tests commit, as ingest and the admin do in production (transactional database): the
data version moves when a change commits. Editors work through the admin as signed-in users.
"""
from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from support import admin_form_data, found_in
from tickerarchive.models import Entry, Place
from tickerarchive.pagecache import VERSION_SQL

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Ukraine-Krieg im Liveticker"
PORT = DraftEntry("09:53", "Hafen Noworossijsk stoppt Ölexport", ["Nach einem Drohnenangriff stoppt der Hafen den Export."])
MARKET = DraftEntry("08:10", "Angriff auf Markt in Odessa", ["Zwei Menschen sterben."])
LATER = DraftEntry("11:20", "Neuer Angriff auf den Hafen Noworossijsk", ["Wieder brennt ein Tanker."])
# What only the version read and the statement timeout's reset cost: no query of the page itself.
VERSION_ONLY = {VERSION_SQL, "RESET statement_timeout"}


def ingest(tmp_path, *entries, name="page_2025-11-14.txt"):
    path = tmp_path / name
    path.write_text(render_dump(title=TITLE, entries=list(entries), page_datetime=datetime(2025, 11, 14, 12, 0)))
    result = DumpLoader().load(path)
    assert result.error is None, result.error


@pytest.fixture
def archive(tmp_path):
    russia = Place.objects.create(name="Russland", slug="russland", kind=Place.Kind.COUNTRY)
    noworossijsk = Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY, parent=russia,
                                        latitude=44.72, longitude=37.77)
    ingest(tmp_path, PORT, MARKET)
    port = Entry.objects.get(headline=PORT.headline)
    assert "Noworossijsk" in found_in(port)[0]  # linked by ingest
    return {"port": port, "place": noworossijsk}


def reader_get(path: str, **headers):
    """An anonymous reader's request: (response, the SQL it ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(path, headers=headers)
    return response, [query["sql"] for query in queries.captured_queries]


def text(response) -> str:
    return response.content.decode()


def edit_in_admin(client, url: str, **changes):
    data = admin_form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response


def reader_urls(archive) -> list[str]:
    port = archive["port"]
    return ["/?q=Hafen", f"/eintrag/{port.pk}/", "/ukraine-krieg-im-liveticker/", "/ukraine-krieg-im-liveticker/2025/11/14/",
            "/ort/noworossijsk/", "/api/entries/?q=Hafen", f"/api/entries/{port.pk}/", "/feed/?q=Hafen",
            "/api/places/?q=Noworossijsk"]


def test_a_page_asked_again_is_served_without_reading_the_archive(archive):
    for url in reader_urls(archive):
        first, first_queries = reader_get(url)
        assert first.status_code == 200, url
        assert rendered(first_queries), url
        again, queries = reader_get(url)
        assert again.status_code == 200 and again.content == first.content, url
        assert set(queries) <= VERSION_ONLY and VERSION_SQL in queries, (url, queries)
        assert again["ETag"] == first["ETag"] and again["Content-Type"] == first["Content-Type"]
        assert (first["X-Page-Cache"], again["X-Page-Cache"]) == ("miss", "hit")


def test_a_new_dump_shows_on_the_next_request(archive, tmp_path):
    before, _ = reader_get("/?q=Hafen")
    assert LATER.headline not in text(before)
    ingest(tmp_path, LATER, PORT, MARKET, name="page_2025-11-14_later.txt")
    after, _ = reader_get("/?q=Hafen")
    assert "Neuer Angriff auf den" in text(after) and after["ETag"] != before["ETag"]  # "Hafen" is highlighted
    assert LATER.headline in text(reader_get("/ukraine-krieg-im-liveticker/2025/11/14/")[0])


def headlines_shown(port) -> tuple[str, list[str], str]:
    """The headline on the entry page, which version the search results show ("Hafen" in them
    is highlighted), and the headline in the API."""
    entry_page = text(reader_get(f"/eintrag/{port.pk}/")[0])
    search_page = text(reader_get("/?q=Hafen")[0])
    return (entry_page.split("<h1>")[1].split("</h1>")[0],
            [words for words in ("stoppt Ölexport", "setzt Ölexport aus") if words in search_page],
            reader_get(f"/api/entries/{port.pk}/")[0].json()["headline"])


def test_an_editors_headline_change_shows_on_the_next_request(archive, admin_client):
    port = archive["port"]
    assert headlines_shown(port) == (PORT.headline, ["stoppt Ölexport"], PORT.headline)
    corrected = "Hafen Noworossijsk setzt Ölexport aus"
    edit_in_admin(admin_client, reverse("admin:tickerarchive_entry_change", args=[port.pk]), headline=corrected)
    assert headlines_shown(port) == (corrected, ["setzt Ölexport aus"], corrected)


def test_a_removed_link_disappears_on_the_next_request(archive, admin_client):
    port = archive["port"]
    assert 'href="/ort/noworossijsk/"' in text(reader_get(f"/eintrag/{port.pk}/")[0])
    assert PORT.headline in text(reader_get("/ort/noworossijsk/")[0])
    edit_in_admin(admin_client, reverse("admin:tickerarchive_entry_change", args=[port.pk]),
                  remove_places=[str(archive["place"].pk)])
    assert 'href="/ort/noworossijsk/"' not in text(reader_get(f"/eintrag/{port.pk}/")[0])
    assert PORT.headline not in text(reader_get("/ort/noworossijsk/")[0])


def test_a_renamed_place_shows_its_new_name_on_the_next_request(archive, admin_client):
    port = archive["port"]
    assert ">Noworossijsk</a>" in text(reader_get(f"/eintrag/{port.pk}/")[0])
    assert '"name": "Noworossijsk"' in text(reader_get("/?q=Hafen")[0])
    edit_in_admin(admin_client, reverse("admin:tickerarchive_place_change", args=[archive["place"].pk]),
                  name="Noworossijsk (Hafen)")
    assert ">Noworossijsk (Hafen)</a>" in text(reader_get(f"/eintrag/{port.pk}/")[0])
    assert "Noworossijsk (Hafen)" in text(reader_get("/ort/noworossijsk/")[0])
    search_page = text(reader_get("/?q=Hafen")[0])  # its region facet and map name the place from the gazetteer
    assert ">Noworossijsk (Hafen)</a>" in search_page and '"name": "Noworossijsk (Hafen)"' in search_page


def rendered(queries: list[str]) -> bool:
    return not set(queries) <= VERSION_ONLY


def test_staff_pages_are_rendered_for_them_and_kept_by_no_one(archive, admin_client):
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get("/?q=Hafen")
        assert page.status_code == 200 and not page.has_header("ETag")
        assert rendered([q["sql"] for q in queries.captured_queries])  # each time
        assert "private" in page["Cache-Control"]
    # Nor did the staff member's page fill the cache for readers.
    assert rendered(reader_get("/?q=Hafen")[1])


def test_a_reader_revalidating_gets_304_until_the_archive_changes(archive, admin_client):
    port = archive["port"]
    url = f"/eintrag/{port.pk}/"
    first, _ = reader_get(url)
    assert first["ETag"] and "no-cache" in first["Cache-Control"]
    unchanged, queries = reader_get(url, if_none_match=first["ETag"])
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == first["ETag"]
    assert set(queries) <= VERSION_ONLY
    # Another URL's ETag does not match this one.
    assert reader_get("/?q=Hafen", if_none_match=first["ETag"])[0].status_code == 200

    edit_in_admin(admin_client, reverse("admin:tickerarchive_entry_change", args=[port.pk]),
                  headline="Hafen Noworossijsk setzt Ölexport aus")
    changed, _ = reader_get(url, if_none_match=first["ETag"])
    assert changed.status_code == 200 and "setzt Ölexport aus" in text(changed)
    assert changed["ETag"] != first["ETag"]


def test_with_the_page_cache_off_every_request_renders(archive, settings):
    settings.PAGE_CACHE = False
    for _ in range(2):
        page, queries = reader_get("/?q=Hafen")
        assert page.status_code == 200 and not page.has_header("ETag") and not page.has_header("X-Page-Cache")
        assert rendered(queries)
