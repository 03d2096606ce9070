"""Facets, capped counts and keyset pages."""
from datetime import datetime, timedelta

import pytest
from django.core.cache import caches

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from tickerarchive import search
from tickerarchive.pagecache import CACHE

pytestmark = pytest.mark.django_db


def test_facets_count_the_current_result_and_link_to_narrower_searches(client, archive):
    page = client.get("/", {"q": "Kiew OR Angriff OR Tschornomorsk"})
    facets = page.context["result"].facets
    assert {t["slug"]: t["count"] for t in facets.tickers} == {"ukraine-krieg-im-liveticker": 5, "nahost-krieg-im-liveticker": 1}
    # A region counts its towns; a town directly in a country counts for itself; countries count everything in them.
    assert facets.regions == [{"slug": "kiew", "name": "Kiew", "count": 2},
                              {"slug": "region-odessa", "name": "Region Odessa", "count": 1}]
    assert facets.countries == [{"slug": "ukraine", "name": "Ukraine", "count": 3}]
    assert {d["date"].isoformat(): d["count"] for d in facets.days} == {"2025-11-14": 5, "2025-11-13": 1}
    html = page.content.decode()
    assert "?q=Kiew+OR+Angriff+OR+Tschornomorsk&amp;ticker=nahost-krieg-im-liveticker" in html
    assert "region=region-odessa" in html and "date_from=2025-11-13&amp;date_to=2025-11-13" in html


def test_person_facet(client, archive):
    facets = client.get("/", {"q": "Putin"}).context["result"].facets
    assert facets.people == [{"slug": "wladimir-putin", "name": "Wladimir Putin", "count": 3}]


def test_ordering_by_relevance_changes_the_page_not_the_facets(client, archive):
    q = "Kiew OR Angriff OR Putin"
    newest = client.get("/", {"q": q}).context["result"]
    ranked = client.get("/", {"q": q, "order": "relevance"}).context["result"]
    assert ranked.facets.people and ranked.facets.regions and ranked.facets.days
    assert ranked.facets == newest.facets and ranked.count == newest.count
    assert {e.pk for e in ranked.page.entries} == {e.pk for e in newest.page.entries}


@pytest.fixture
def long_ticker(db, tmp_path):
    newest = datetime(2025, 6, 30, 23, 0)
    entries = [DraftEntry(f"{newest - timedelta(minutes=7 * n):%H:%M}", f"Meldung {n}", [f"Text {n}."]) for n in range(45)]
    path = tmp_path / "long_2025-06-30.txt"
    path.write_text(render_dump(title="Langer Ticker", entries=entries, page_datetime=datetime(2025, 6, 30, 0, 10)))
    assert DumpLoader().load(path).created == 45


@pytest.mark.parametrize("cap", [None, 30], ids=["pages of all hits read at once", "pages read by keyset"])
def test_keyset_pages_walk_forward_and_back_without_gaps(client, long_ticker, monkeypatch, cap):
    if cap:
        monkeypatch.setattr(search, "COUNT_CAP", cap)
    seen, url, previous_urls = [], "/api/entries/?ticker=langer-ticker", []
    while url:
        data = client.get(url).json()
        assert data["count"] == (None if cap else 45) and data["count_is_exact"] is not bool(cap)
        seen += [r["headline"] for r in data["results"]]
        previous_urls.append(data["previous"])
        url = data["next"]
    assert seen == [f"Meldung {n}" for n in range(45)]
    assert previous_urls[0] is None and all(previous_urls[1:])
    back = client.get(previous_urls[-1]).json()
    assert [r["headline"] for r in back["results"]] == [f"Meldung {n}" for n in range(20, 40)]


def test_count_is_capped(client, long_ticker, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 45)
    assert client.get("/api/entries/", {"ticker": "langer-ticker"}).json()["count"] == 45
    monkeypatch.setattr(search, "COUNT_CAP", 44)
    caches[CACHE].clear()  # the same URL, answered under another cap: not the cached page
    data = client.get("/api/entries/", {"ticker": "langer-ticker"}).json()
    assert data["count"] is None and data["count_is_exact"] is False


def test_capped_count_shows_more_than_on_the_page_and_null_in_the_api(client, long_ticker, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 30)
    assert "Mehr als 30 Einträge" in client.get("/", {"ticker": "langer-ticker"}).content.decode()
    data = client.get("/api/entries/", {"ticker": "langer-ticker"}).json()
    assert data["count"] is None and data["count_is_exact"] is False


def test_relevance_pages_are_numbered(client, long_ticker):
    first = client.get("/api/entries/", {"q": "Meldung", "order": "relevance"}).json()
    assert first["next"].endswith("seite=2") and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 20 and second["previous"].endswith("seite=1")


def test_facets_of_a_huge_result_count_only_its_newest_hits(client, long_ticker, monkeypatch):
    from tickerarchive.models import Entry

    newest = search.NewestHits.read(Entry.objects.all(), search.COUNT_CAP, links=True)
    capped = search.facets_of(newest.newest(10), sample=10)
    assert capped.sample == 10 and capped.tickers == [{"slug": "langer-ticker", "name": "Langer Ticker", "count": 10}]
    assert search.facets_of(newest).tickers[0]["count"] == 45
    monkeypatch.setattr(search, "COUNT_CAP", 30)
    page = client.get("/", {"ticker": "langer-ticker"})
    assert page.context["result"].facets.tickers[0]["count"] == 30
    assert "Gezählt in den neuesten 30 Treffern" in page.content.decode()


def test_large_counts_are_grouped_in_threes():
    from tickerarchive.templatetags.archive import zahl

    assert zahl(10_000) == "10\u202f000" and zahl(999) == "999" and zahl("x") == "x"


def test_active_filters_are_named_and_can_be_lifted(client, archive):
    html = client.get("/", {"q": "Angriff", "region": "region-odessa", "person": "wladimir-putin",
                            "date_from": "2025-11-14", "date_to": "2025-11-14"}).content.decode()
    assert "Eingegrenzt auf:" in html
    assert 'href="?q=Angriff&amp;person=wladimir-putin&amp;date_from=2025-11-14&amp;date_to=2025-11-14"' in html
    assert ">Region Odessa <" in html and ">Wladimir Putin <" in html and "14.11.2025" in html
    assert 'href="?q=Angriff&amp;region=region-odessa&amp;person=wladimir-putin"' in html  # dates lifted


@pytest.fixture
def ranked_ticker(db, tmp_path):
    """15 entries a minute apart, newest first; the oldest names the search word most often."""
    newest = datetime(2025, 6, 30, 23, 0)
    entries = [DraftEntry(f"{newest - timedelta(minutes=n):%H:%M}", f"Meldung {n}", [f"Text {n} zur Lage."]) for n in range(14)]
    entries.append(DraftEntry(f"{newest - timedelta(minutes=14):%H:%M}", "Lage, Lage, Lage", ["Die Lage zur Lage."]))
    path = tmp_path / "lage_2025-06-30.txt"
    path.write_text(render_dump(title="Lageticker", entries=entries, page_datetime=datetime(2025, 6, 30, 0, 10)))
    assert DumpLoader().load(path).created == 15


def test_relevance_ranks_the_newest_hits_and_says_when_there_were_more(client, ranked_ticker, monkeypatch):
    search_by_relevance = {"q": "Lage", "order": "relevance"}
    data = client.get("/api/entries/", search_by_relevance).json()
    assert data["results"][0]["headline"] == "Lage, Lage, Lage" and data["ranked_among_newest"] is None
    monkeypatch.setattr(search, "COUNT_CAP", 10)  # the best match is not among the newest 10
    caches[CACHE].clear()  # the same URL, answered under another cap: not the cached page
    data = client.get("/api/entries/", search_by_relevance).json()
    assert data["ranked_among_newest"] == 10 and data["count"] is None
    assert {r["headline"] for r in data["results"]} == {f"Meldung {n}" for n in range(10)}
    assert "nach Relevanz unter den neuesten 10 Treffern" in client.get("/", search_by_relevance).content.decode()
    assert client.get("/api/entries/", {"q": "Lage"}).json()["ranked_among_newest"] is None  # newest first


def test_a_phrase_with_few_hits_is_paged_newest_first(client, ranked_ticker, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 20)
    data = client.get("/api/entries/", {"q": '"zur Lage"'}).json()
    assert data["count"] == 15 and data["count_is_exact"]
    page = client.get("/", {"q": '"zur Lage"'}).context["result"]
    assert [e.headline for e in page.page.entries] == [f"Meldung {n}" for n in range(14)] + ["Lage, Lage, Lage"]
    assert page.facets.tickers == [{"slug": "lageticker", "name": "Lageticker", "count": 15}]
