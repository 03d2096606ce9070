"""The timeline above the results: hits per Berlin day (per hour for a day or two), bars that narrow the search."""
import re
from datetime import date, datetime

import pytest

from ingest.loader import DumpLoader
from ingest.render import DraftEntry as E, render_dump
from tickerarchive import search
from tickerarchive.models import Entry, EntryPlace, Place

pytestmark = pytest.mark.django_db
TICKER = "Ukraine-Krieg im Liveticker"


def load(tmp_path, name, opened, *entries):
    path = tmp_path / name
    path.write_text(render_dump(title=TICKER, entries=list(entries), page_datetime=opened))
    assert DumpLoader().load(path).error is None


@pytest.fixture
def around_midnight(db, tmp_path):
    """Hits on both sides of a Berlin midnight: 00:20 in Berlin is still the 13th in UTC."""
    load(tmp_path, "a_2025-11-14.txt", datetime(2025, 11, 14, 9, 30),
         E("09:00", "Angriff auf Kiew am Morgen", ["Text."]),
         E("01:10", "Angriff in der Nacht", ["Text."]),
         E("00:20", "Angriff nach Mitternacht", ["Text."]),
         E("23:50", "Angriff vor Mitternacht", ["Text."]),
         E("22:30", "Angriff am Abend auf Kiew", ["Text."]))
    load(tmp_path, "b_2025-11-16.txt", datetime(2025, 11, 16, 12, 30), E("12:00", "Ruhiger Sonntag", ["Text."]))
    kiew = Place.objects.create(name="Kiew", slug="kiew", kind=Place.Kind.CITY, latitude=50.45, longitude=30.52)
    for entry in Entry.objects.filter(headline__contains="Kiew"):
        EntryPlace.objects.create(entry=entry, place=kiew)


def bars(page) -> dict:
    timeline = page.context["result"].timeline
    return {bar.start: bar.count for bar in timeline.bars}


def bar_links(html: str) -> dict[str, str]:
    """aria-label → href of every bar the page draws."""
    return {label: href.replace("&amp;", "&") for href, label in
            re.findall(r'<a href="([^"]*)" aria-label="([^"]*)"><title>', html)}


def test_hits_are_counted_per_berlin_day_across_midnight(client, around_midnight):
    page = client.get("/")
    assert page.context["result"].timeline.unit == "day"
    # The day without hits is drawn as a gap, not left out.
    assert bars(page) == {datetime(2025, 11, 13): 2, datetime(2025, 11, 14): 3,
                          datetime(2025, 11, 15): 0, datetime(2025, 11, 16): 1}
    links = bar_links(page.content.decode())
    assert links == {
        "Do, 13.11.2025: 2 Einträge": "?date_from=2025-11-13&date_to=2025-11-13",
        "Fr, 14.11.2025: 3 Einträge": "?date_from=2025-11-14&date_to=2025-11-14",
        "So, 16.11.2025: 1 Eintrag": "?date_from=2025-11-16&date_to=2025-11-16",
    }
    assert "Treffer pro Tag" in page.content.decode()


def test_bar_heights_follow_the_counts(client, around_midnight):
    html = client.get("/").content.decode()
    heights = [float(h) for h in re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/>', html)]
    assert len(heights) == 3  # SVG numbers are written with a decimal point, whatever the locale
    assert heights[1] == max(heights) and heights[0] == pytest.approx(heights[1] * 2 / 3, abs=0.01) and heights[2] == pytest.approx(heights[1] / 3, abs=0.01)


def test_following_a_day_bar_shows_that_days_hits_per_hour(client, around_midnight):
    page = client.get("/?date_from=2025-11-14&date_to=2025-11-14")
    timeline = page.context["result"].timeline
    assert timeline.unit == "hour" and len(timeline.bars) == 24
    assert {bar.start.hour: bar.count for bar in timeline.bars if bar.count} == {0: 1, 1: 1, 9: 1}
    assert page.context["result"].count == 3
    links = bar_links(page.content.decode())
    # An hour bar narrows to its day: the search has no time-of-day filter.
    assert links["Fr, 14.11.2025, 0–1 Uhr: 1 Eintrag"] == "?date_from=2025-11-14&date_to=2025-11-14"
    assert len(links) == 3 and "Treffer pro Stunde" in page.content.decode()


def test_hits_spanning_two_days_are_drawn_per_hour(client, around_midnight):
    timeline = client.get("/", {"q": "Angriff"}).context["result"].timeline
    assert timeline.unit == "hour" and len(timeline.bars) == 48
    assert [(bar.start, bar.count) for bar in timeline.bars if bar.count] == [
        (datetime(2025, 11, 13, 22), 1), (datetime(2025, 11, 13, 23), 1),
        (datetime(2025, 11, 14, 0), 1), (datetime(2025, 11, 14, 1), 1), (datetime(2025, 11, 14, 9), 1)]


def test_bar_links_keep_the_query_and_the_region(client, around_midnight):
    page = client.get("/", {"q": "Angriff", "region": "kiew", "date_from": "2025-11-01", "date_to": "2025-11-30"})
    timeline = page.context["result"].timeline
    # A short asked range is drawn whole, its empty days included.
    assert timeline.unit == "day" and len(timeline.bars) == 30
    assert {bar.start.day: bar.count for bar in timeline.bars if bar.count} == {13: 1, 14: 1}
    links = bar_links(page.content.decode())
    assert links["Fr, 14.11.2025: 1 Eintrag"] == "?q=Angriff&region=kiew&date_from=2025-11-14&date_to=2025-11-14"
    followed = client.get("/" + links["Fr, 14.11.2025: 1 Eintrag"])
    assert [e.headline for e in followed.context["result"].page.entries] == ["Angriff auf Kiew am Morgen"]


def test_a_long_span_is_drawn_per_month(client, around_midnight, tmp_path):
    load(tmp_path, "c_2026-03-02.txt", datetime(2026, 3, 2, 10, 0), E("09:00", "Frühling", ["Text."]))
    page = client.get("/")
    timeline = page.context["result"].timeline
    assert timeline.unit == "month"
    assert [(bar.date_from, bar.date_to, bar.count) for bar in timeline.bars] == [
        (date(2025, 11, 1), date(2025, 11, 30), 6), (date(2025, 12, 1), date(2025, 12, 31), 0),
        (date(2026, 1, 1), date(2026, 1, 31), 0), (date(2026, 2, 1), date(2026, 2, 28), 0),
        (date(2026, 3, 1), date(2026, 3, 31), 1)]
    assert bar_links(page.content.decode())["März 2026: 1 Eintrag"] == "?date_from=2026-03-01&date_to=2026-03-31"


def test_a_huge_result_counts_only_its_newest_hits_and_says_so(client, around_midnight):
    timeline = search.timeline_of(search.NewestHits.read(Entry.objects.all(), 2), search.Criteria(), sample=2)
    assert {bar.start.date(): bar.count for bar in timeline.bars if bar.count} == {date(2025, 11, 14): 1, date(2025, 11, 16): 1}
    assert timeline.sample == 2


def test_no_hits_no_timeline(client, around_midnight):
    page = client.get("/", {"q": "Waffenstillstand"})
    assert page.context["result"].timeline is None and "<svg" not in page.content.decode()
