"""The JSON API's shape."""
import pytest

from tickerarchive.models import Entry

pytestmark = pytest.mark.django_db


def test_list_shape(client, archive):
    data = client.get("/api/entries/", {"q": "Markt"}).json()
    assert set(data) == {"count", "count_is_exact", "ranked_among_newest", "suggestion", "word_beginnings",
                         "known_names", "next", "previous", "results"}
    assert (data["count"], data["count_is_exact"], data["next"], data["previous"]) == (1, True, None, None)
    assert data["ranked_among_newest"] is None  # newest first: nothing ranked
    # Found as typed, and no known name: nothing for the page to say above the hits.
    assert (data["suggestion"], data["word_beginnings"], data["known_names"]) == (None, False, [])
    [item] = data["results"]
    assert set(item) == {"id", "url", "ticker", "published_at", "headline", "snippet", "places", "people"}
    entry = Entry.objects.get(pk=item["id"])
    assert item["url"] == f"http://testserver/eintrag/{entry.pk}/"
    assert item["ticker"] == "ukraine-krieg-im-liveticker"
    assert item["published_at"] == "2025-11-14T12:25:00+01:00"
    assert item["places"] == [{"slug": "tschornomorsk", "name": "Tschornomorsk"}]


def test_detail_has_body_pictures_and_provenance(client, archive):
    entry = Entry.objects.get(headline="Luftalarm in Kiew")
    data = client.get(f"/api/entries/{entry.pk}/").json()
    assert data["body"] == "Kurz nach Mitternacht heulen in Kiew die Sirenen."
    assert data["published_at"] == "2025-11-14T00:20:00+01:00"
    assert data["provenance"]["source_dump"] == "ukraine_2025-11-14.txt"
    assert data["provenance"]["line"] == entry.source_line
    assert {"line": entry.source_line, "text": "+++ 00:20 Luftalarm in Kiew +++"} in data["provenance"]["raw_lines"]
    assert data["pictures"] == []
    assert client.get("/api/entries/999999/").status_code == 404
