"""CSV and JSON Lines exports of a whole search result."""
import csv
import io
import json
from datetime import datetime

import pytest

from support import assert_field_errors
from tickerarchive.models import Entry

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "permalink", "ticker", "published_at", "headline", "body", "places", "people",
           "source_dump", "source_line"]


def download(client, extension, params):
    response = client.get(f"/api/entries.{extension}", params)
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content).decode()


def api_rows(client, params) -> list[dict]:
    """Every hit as the JSON API lists it, page after page."""
    rows, url, query = [], "/api/entries/", {**params, "order": "newest"}
    while url:
        data = client.get(url, query).json()
        rows += data["results"]
        url, query = data["next"], None
    return rows


SEARCHES = [
    {"q": "Kiew"}, {"q": "Angriff", "date_to": "2025-11-14"}, {"region": "region-odessa"},
    {"person": "wladimir-putin"}, {"ticker": "ukraine-krieg-im-liveticker", "order": "relevance", "q": "Putin"}, {},
]


@pytest.mark.parametrize("params", SEARCHES)
def test_csv_has_the_rows_of_the_search(client, archive, params):
    response, text = download(client, "csv", params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = api_rows(client, params)
    assert client.get("/api/entries/", params).json()["count"] == len(rows) == len(expected) > 0
    assert [int(r["id"]) for r in rows] == [e["id"] for e in expected]  # newest first, like the search
    for row, hit in zip(rows, expected):
        assert (row["permalink"], row["ticker"], row["published_at"], row["headline"]) == (
            hit["url"], hit["ticker"], hit["published_at"], hit["headline"])
        assert row["places"].split() == sorted(p["slug"] for p in hit["places"])
        assert row["people"].split() == sorted(p["slug"] for p in hit["people"])


def test_csv_columns_and_provenance(client, archive):
    _, text = download(client, "csv", {"q": "Markt"})
    header, line = list(csv.reader(io.StringIO(text)))
    assert header == COLUMNS
    entry = Entry.objects.get(headline="Tote nach Angriffen auf Markt")
    assert line == [
        str(entry.pk), f"http://testserver/eintrag/{entry.pk}/", "ukraine-krieg-im-liveticker", "2025-11-14T12:25:00+01:00",
        "Tote nach Angriffen auf Markt", "In Tschornomorsk in der Region Odessa sterben zwei Menschen.",
        "tschornomorsk", "", "ukraine_2025-11-14.txt", str(entry.source_line),
    ]


def test_csv_keeps_hostile_text_and_line_breaks(client, hostile_archive):
    _, text = download(client, "csv", {"ticker": "markup-test-im-liveticker"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["headline"] for r in rows] == [
        "<script>alert(1)</script> Hafen Noworossijsk &amp gesperrt", "Angriff auf Tanker &#x; vor Noworossijsk",
    ]
    assert rows[0]["body"] == Entry.objects.get(pk=rows[0]["id"]).body and "\n\n" in rows[0]["body"]


@pytest.mark.parametrize("params", SEARCHES)
def test_jsonl_lines_parse_with_iso_times(client, archive, params):
    response, text = download(client, "jsonl", params)
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert text.endswith("\n")
    rows = [json.loads(line) for line in text.splitlines()]
    expected = api_rows(client, params)
    assert [r["id"] for r in rows] == [e["id"] for e in expected]
    for row, hit in zip(rows, expected):
        assert list(row) == COLUMNS
        moment = datetime.fromisoformat(row["published_at"])
        assert moment.utcoffset() is not None and row["published_at"] == hit["published_at"]
        assert row["permalink"] == hit["url"]
        assert row["places"] == sorted(p["slug"] for p in hit["places"])
        assert row["source_dump"].endswith(".txt") and row["source_line"] > 0


def test_jsonl_whole_body(client, hostile_archive):
    _, text = download(client, "jsonl", {"q": "Tanker"})
    [row] = [json.loads(line) for line in text.splitlines()]
    assert row["body"] == "<img src=x onerror=alert(4)> Der Tanker brennt."
    assert row["published_at"] == "2025-11-20T09:15:00+01:00"


def test_summer_time_offset(client, db, tmp_path):
    from ingest.loader import DumpLoader
    from search_pages import E, page

    (tmp_path / "sommer_2025-07-01.txt").write_bytes(page("Sommer-Ticker", datetime(2025, 7, 1, 8, 0), E("07:45", "Hitze", ["Heiß."])))
    assert DumpLoader().load(tmp_path / "sommer_2025-07-01.txt").error is None
    _, text = download(client, "jsonl", {})
    assert json.loads(text)["published_at"] == "2025-07-01T07:45:00+02:00"


def test_empty_result_is_a_header_only(client, archive):
    _, csv_text = download(client, "csv", {"q": "Mondlandung"})
    assert list(csv.reader(io.StringIO(csv_text))) == [COLUMNS]
    assert download(client, "jsonl", {"q": "Mondlandung"})[1] == ""


def test_file_names(client, archive):
    response = client.get("/api/entries.csv", {"q": "Angriff auf Öl"})
    assert response["Content-Disposition"].startswith('attachment; filename="ticker-archiv-angriff-auf-ol-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert client.get("/api/entries.jsonl")["Content-Disposition"].endswith('.jsonl"')


@pytest.mark.parametrize("extension", ["csv", "jsonl"])
def test_invalid_parameters_are_400_with_messages(client, archive, extension):
    assert_field_errors(client, f"/api/entries.{extension}", [
        ({"date_from": "gestern"}, "date_from"), ({"person": "niemand"}, "person"), ({"ticker": "../../etc"}, "ticker"),
        ({"order": "zufall"}, "order"), ({"date_from": "2025-11-14", "date_to": "2025-11-01"}, "date_to"),
    ])


def test_search_page_links_the_exports(client, archive):
    page = client.get("/", {"q": "Kiew", "person": "wladimir-putin"}).content.decode()
    assert '<a href="/api/entries.csv?q=Kiew&amp;person=wladimir-putin" type="text/csv" download>Als CSV</a>' in page
    assert '<a href="/api/entries.jsonl?q=Kiew&amp;person=wladimir-putin" type="application/jsonl" download>Als JSON Lines</a>' in page


def test_links_are_read_in_one_query_not_one_per_row(client, archive, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        _, text = download(client, "jsonl", {})
    assert len(text.splitlines()) == Entry.objects.count() > 5
