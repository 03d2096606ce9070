"""Edges found by fuzzing: the ends of the date range, forged cursors, sentinel characters in dump text."""
import base64

import pytest

from tickerarchive.models import Entry
from tickerarchive.search import decode_cursor

pytestmark = pytest.mark.django_db


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("params", [
    {"date_to": "9999-12-31"}, {"date_from": "9999-12-31"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"},
])
def test_the_ends_of_the_date_range(client, archive, params):
    assert client.get("/", params).status_code == 200
    assert client.get("/api/entries/", params).status_code == 200


def test_date_to_at_the_end_of_time_means_no_upper_bound(client, archive):
    data = client.get("/api/entries/", {"date_to": "9999-12-31"}).json()
    assert data["count"] == Entry.objects.count()


@pytest.mark.parametrize("path", ["/ukraine-krieg-im-liveticker/9999/12/31/", "/ukraine-krieg-im-liveticker/0000/01/01/"])
def test_day_pages_at_the_end_of_time_are_not_found(client, archive, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("cursor", [
    forged("2025-11-14T12:00:00|5"),  # naive time
    forged("2025-11-14T12:00:00+01:00|99999999999999999999999"),
    forged("2025-11-14T12:00:00+01:00|-1"),
    forged("0001-01-01T00:00:00+14:00|1"),
    forged("x|y|z"), "%%%", "a" * 5000,
])
def test_forged_cursors_are_ignored_or_harmless(client, archive, cursor):
    for key in ("nach", "vor"):
        assert client.get("/api/entries/", {key: cursor}).status_code == 200
        assert client.get("/", {key: cursor}).status_code == 200


def test_only_cursors_we_write_are_read():
    assert decode_cursor(forged("2025-11-14T12:00:00|5")) is None
    assert decode_cursor(forged("2025-11-14T12:00:00+01:00|5"))[1] == 5


def test_sentinel_characters_in_dump_text_cannot_open_tags(client, archive):
    entry = Entry.objects.get(headline="Waffenruhe in Gaza hält")
    Entry.objects.filter(pk=entry.pk).update(
        body="Waffenruhe \x02<img src=x onerror=alert(1)>\x03 Vermittler \x02 offen",
    )
    page = client.get("/", {"q": "Vermittler"}).content.decode()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<mark>") == page.count("</mark>")
    [item] = client.get("/api/entries/", {"q": "Vermittler"}).json()["results"]
    assert item["snippet"].count("<mark>") == 1 and "\x02" not in item["snippet"] and "<img" not in item["snippet"]
