"""Day pages, permalinks, ticker, place and person pages."""
import re

import pytest

from tickerarchive.models import Entry, Place

pytestmark = pytest.mark.django_db


def test_day_page_shows_the_day_with_neighbours_and_calendar(client, archive):
    page = client.get("/ukraine-krieg-im-liveticker/2025/11/14/")
    assert page.status_code == 200
    html = page.content.decode()
    assert [e.headline for e in page.context["entries"]] == [
        "Kreml: Warnungen sind Panikmache", "Pistorius verurteilt Putins Angriffe auf Energieinfrastruktur",
        "Tote nach Angriffen auf Markt", "Schwarzmeerhafen Noworossijsk stoppt Ölexport", "Luftalarm in Kiew",
    ]
    assert 'href="/ukraine-krieg-im-liveticker/2025/11/13/"' in html  # previous day held
    assert 'href="/ukraine-krieg-im-liveticker/2025/11/12/"' in html  # in the calendar
    assert 'aria-current="date"' in html
    earlier = client.get("/ukraine-krieg-im-liveticker/2025/11/13/")
    assert earlier.context["earlier"].isoformat() == "2025-11-12" and earlier.context["later"].isoformat() == "2025-11-14"
    assert client.get("/ukraine-krieg-im-liveticker/2025/02/30/").status_code == 404
    assert client.get("/ukraine-krieg-im-liveticker/2025/11/20/").status_code == 404


def test_permalink_shows_everything_and_survives_reingest(client, archive, tmp_path):
    entry = Entry.objects.get(headline="Tote nach Angriffen auf Markt")
    url = f"/eintrag/{entry.pk}/"
    html = client.get(url).content.decode()
    for text in ("Tote nach Angriffen auf Markt", "In Tschornomorsk in der Region Odessa", "Tschornomorsk",
                 "ukraine_2025-11-14.txt", "Zeile 13", "+++ 12:25 Tote nach Angriffen auf Markt +++",
                 "Pistorius verurteilt", "Schwarzmeerhafen Noworossijsk"):
        assert text in html, text
    from ingest.loader import DumpLoader
    DumpLoader(force=True).load(next(tmp_path.glob("ukraine_2025-11-14.txt")))
    assert client.get(url).status_code == 200
    assert Entry.objects.get(headline="Tote nach Angriffen auf Markt").pk == entry.pk


def test_two_entries_in_the_same_minute_have_their_own_permalinks(client, db, tmp_path):
    from datetime import datetime

    from ingest.loader import DumpLoader
    from ingest.render import DraftEntry, render_dump

    path = tmp_path / "p.txt"
    path.write_text(render_dump(title="T", page_datetime=datetime(2025, 1, 2, 0, 10), entries=[
        DraftEntry("12:00", "Erste Meldung", ["a"]), DraftEntry("12:00", "Zweite Meldung", ["b"])]))
    DumpLoader().load(path)
    first, second = Entry.objects.order_by("position_key")
    assert first.get_absolute_url() != second.get_absolute_url()
    assert "Erste Meldung" in client.get(first.get_absolute_url()).content.decode()


def test_entry_page_links_the_tickers_entries_before_and_after_it_in_time(client, db, tmp_path):
    """Newest first on the page: 12:05, then two at 12:00 (ties go by id), then 11:55."""
    from datetime import datetime

    from ingest.loader import DumpLoader
    from ingest.render import DraftEntry, render_dump

    path = tmp_path / "p.txt"
    path.write_text(render_dump(title="T", page_datetime=datetime(2025, 1, 2, 13, 0), entries=[
        DraftEntry("12:05", "Spätere Meldung", ["a"]), DraftEntry("12:00", "Zweite Meldung", ["b"]),
        DraftEntry("12:00", "Erste Meldung", ["c"]), DraftEntry("11:55", "Frühe Meldung", ["d"])]))
    DumpLoader().load(path)
    by_headline = {e.headline: e for e in Entry.objects.all()}
    same_minute = sorted([by_headline["Zweite Meldung"], by_headline["Erste Meldung"]], key=lambda e: e.pk)

    def neighbours(entry):
        html = client.get(entry.get_absolute_url()).content.decode()
        older = re.search(r'<a rel="prev" href="([^"]+)"', html)
        newer = re.search(r'<a rel="next" href="([^"]+)"', html)
        return older and older[1], newer and newer[1]

    assert neighbours(by_headline["Frühe Meldung"]) == (None, same_minute[0].get_absolute_url())
    assert neighbours(same_minute[0]) == (by_headline["Frühe Meldung"].get_absolute_url(), same_minute[1].get_absolute_url())
    assert neighbours(same_minute[1]) == (same_minute[0].get_absolute_url(), by_headline["Spätere Meldung"].get_absolute_url())
    assert neighbours(by_headline["Spätere Meldung"]) == (same_minute[1].get_absolute_url(), None)


def test_ticker_place_and_person_pages(client, archive):
    assert "Luftalarm in Kiew" in client.get("/ukraine-krieg-im-liveticker/").content.decode()
    region = client.get("/ort/region-odessa/").content.decode()
    assert "Tote nach Angriffen auf Markt" in region and "Tschornomorsk" in region
    assert "Trump und Putin telefonieren" in client.get("/person/wladimir-putin/").content.decode()
    assert client.get("/ort/atlantis/").status_code == 404


def test_merged_place_url_redirects_to_the_survivor(client, archive):
    duplicate = Place.objects.create(name="Tschornomorsk (alt)", slug="tschornomorsk-alt")
    archive["tschornomorsk"].merge([duplicate])
    response = client.get("/ort/tschornomorsk-alt/")
    assert response.status_code == 301 and response["Location"] == "/ort/tschornomorsk/"


def test_pages_work_without_javascript_and_have_landmarks_and_labels(client, archive):
    html = client.get("/", {"q": "Kiew"}).content.decode()
    assert "<script" not in html.replace("&lt;script", "")
    assert 'role="search"' in html and "<main" in html and 'lang="de"' in html
    assert '<label for="id_q">' in html and '<label for="id_date_from">' in html


def test_links_an_editor_removed_are_not_shown(client, archive):
    from tickerarchive.models import EntryPlace

    entry = Entry.objects.get(headline="Tote nach Angriffen auf Markt")
    assert "/ort/tschornomorsk/" in client.get(f"/eintrag/{entry.pk}/").content.decode()
    EntryPlace.objects.filter(entry=entry).update(removed=True)
    assert "/ort/tschornomorsk/" not in client.get(f"/eintrag/{entry.pk}/").content.decode()
    assert client.get(f"/api/entries/{entry.pk}/").json()["places"] == []
    [item] = client.get("/api/entries/", {"q": "Markt"}).json()["results"]
    assert item["places"] == []
    assert client.get("/api/entries/", {"region": "region-odessa"}).json()["count"] == 0
