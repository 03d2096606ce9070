"""The map's data: the places of the current result with coordinates and counts, handed to static JS."""
import json
import re
from datetime import datetime

import pytest

from ingest.loader import DumpLoader
from ingest.render import DraftEntry as E, render_dump
from tickerarchive.models import Entry, EntryPlace, Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def places_in_news(db, tmp_path):
    path = tmp_path / "ukraine_2025-11-14.txt"
    path.write_text(render_dump(title="Ukraine-Krieg im Liveticker", page_datetime=datetime(2025, 11, 14, 18, 0), entries=[
        E("17:00", "Angriff auf Kiew", ["Drohnen über Kiew."]),
        E("12:00", "Angriff auf Tschornomorsk", ["Tschornomorsk in der Region Odessa, auch Kiew meldet Alarm."]),
        E("09:00", "Angriff auf Kiew abgewehrt", ["Kiew meldet keine Schäden."]),
    ]))
    path2 = tmp_path / "ukraine_2025-11-12.txt"
    path2.write_text(render_dump(title="Ukraine-Krieg im Liveticker", page_datetime=datetime(2025, 11, 12, 18, 0), entries=[
        E("10:00", "Ruhe in Kiew", ["Kiew ist ruhig."]),
    ]))
    for dump in (path, path2):
        assert DumpLoader().load(dump).error is None
    ukraine = Place.objects.create(name="Ukraine", slug="ukraine", kind=Place.Kind.COUNTRY)
    odessa = Place.objects.create(name="Region Odessa", slug="region-odessa", kind=Place.Kind.REGION, parent=ukraine)
    kiew = Place.objects.create(name="Kiew", slug="kiew", kind=Place.Kind.CITY, parent=ukraine, latitude=50.45, longitude=30.52)
    port = Place.objects.create(name="Tschornomorsk", slug="tschornomorsk", kind=Place.Kind.CITY, parent=odessa,
                                latitude=46.3, longitude=30.65)
    for entry in Entry.objects.all():
        text = entry.headline + entry.body
        for place, word in ((kiew, "Kiew"), (port, "Tschornomorsk"), (odessa, "Odessa")):
            if word in text:
                EntryPlace.objects.create(entry=entry, place=place)
    # An editor removed a link: it must not count on the map either.
    EntryPlace.objects.filter(entry__headline="Angriff auf Kiew abgewehrt", place=kiew).update(removed=True)


def map_data(page) -> dict:
    html = page.content.decode()
    found = re.search(r'<script id="map-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_the_map_shows_the_places_of_the_result_with_their_counts(client, places_in_news):
    data = map_data(client.get("/", {"q": "Angriff"}))
    # The region has no coordinates (the list beside the results shows it); removed links do not count.
    assert data["places"] == [
        {"slug": "kiew", "name": "Kiew", "lat": 50.45, "lon": 30.52, "count": 2, "href": "?q=Angriff&region=kiew"},
        {"slug": "tschornomorsk", "name": "Tschornomorsk", "lat": 46.3, "lon": 30.65, "count": 1,
         "href": "?q=Angriff&region=tschornomorsk"},
    ]
    assert data["tiles"] == "" and data["outline"].endswith("geo/europe.geojson")


def test_map_counts_follow_the_filters_and_a_marker_link_filters_by_its_place(client, places_in_news):
    page = client.get("/", {"date_from": "2025-11-12", "date_to": "2025-11-12"})
    assert [(p["slug"], p["count"]) for p in map_data(page)["places"]] == [("kiew", 1)]
    followed = client.get("/" + map_data(client.get("/", {"q": "Angriff"}))["places"][1]["href"])
    assert [e.headline for e in followed.context["result"].page.entries] == ["Angriff auf Tschornomorsk"]


def test_the_map_runs_from_static_files_only(client, places_in_news, settings):
    settings.MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    page = client.get("/", {"q": "Angriff"})
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    # No inline code (a strict Content-Security-Policy allows only our own files) and no CDN.
    assert all('src="/static/' in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert 'src="/static/leaflet/leaflet.js"' in html and 'href="/static/leaflet/leaflet.css"' in html
    assert map_data(page)["tiles"] == "https://tiles.example/{z}/{x}/{y}.png"
    assert ' style="' not in html


def test_no_places_no_map(client, places_in_news):
    html = client.get("/", {"q": "Ruhe", "date_from": "2025-11-14"}).content.decode()
    assert 'id="map"' not in html and "leaflet.js" not in html
