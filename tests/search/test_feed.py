"""The Atom feed of a search: its entries, its links, and dump text that stays text."""
import xml.etree.ElementTree as ET

import pytest

from support import assert_field_errors
from tickerarchive.models import Entry

pytestmark = pytest.mark.django_db

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def feed(client, **params):
    response = client.get("/feed/", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def titles(root) -> list[str]:
    return [e.findtext("a:title", namespaces=ATOM) for e in root.findall("a:entry", ATOM)]


def test_feed_has_the_search_hits_newest_first(client, archive):
    root = feed(client, q="Noworossijsk")
    assert titles(root) == ["Schwarzmeerhafen Noworossijsk stoppt Ölexport", "Hafen von Noworossijsk erneut getroffen"]
    assert root.findtext("a:title", namespaces=ATOM) == "Ticker-Archiv: „Noworossijsk“"
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}
    assert links["alternate"] == "http://testserver/?q=Noworossijsk"
    assert links["self"] == "http://testserver/feed/?q=Noworossijsk"


def test_feed_entry_fields(client, archive):
    root = feed(client, q="Markt")
    [item] = root.findall("a:entry", ATOM)
    entry = Entry.objects.get(headline="Tote nach Angriffen auf Markt")
    assert item.find("a:link", ATOM).get("href") == f"http://testserver/eintrag/{entry.pk}/"
    assert item.findtext("a:published", namespaces=ATOM) == "2025-11-14T12:25:00+01:00"
    assert item.findtext("a:updated", namespaces=ATOM) == "2025-11-14T12:25:00+01:00"
    assert item.findtext("a:author/a:name", namespaces=ATOM) == "Ukraine-Krieg im Liveticker"
    assert [c.get("term") for c in item.findall("a:category", ATOM)] == ["Tschornomorsk"]
    content = item.find("a:content", ATOM)
    assert (content.get("type"), content.text) == ("text", "In Tschornomorsk in der Region Odessa sterben zwei Menschen.")


def test_feed_filters_like_the_search(client, archive):
    root = feed(client, q="Kiew", region="ukraine", date_from="2025-11-14", date_to="2025-11-14")
    assert titles(root) == ["Luftalarm in Kiew"]
    assert root.findtext("a:title", namespaces=ATOM) == "Ticker-Archiv: „Kiew“ (Ukraine, ab 14.11.2025, bis 14.11.2025)"


@pytest.mark.parametrize("params", [
    {"person": "wladimir-putin"}, {"region": "region-odessa"}, {"ticker": "nahost-krieg-im-liveticker"},
    {"q": "Angriff", "date_to": "2025-11-14"}, {"q": "Kiew OR Gaza", "order": "relevance"}, {},
])
def test_feed_has_the_same_entries_as_the_api(client, archive, params):
    search = client.get("/api/entries/", {**params, "order": "newest"}).json()
    assert search["results"] and search["next"] is None
    assert titles(feed(client, **params)) == [r["headline"] for r in search["results"]]


def test_hostile_dump_text_arrives_as_text(client, hostile_archive):
    response = client.get("/feed/", {"ticker": "markup-test-im-liveticker"})
    root = ET.fromstring(response.content)  # well-formed despite the broken entities
    # No element from the dump: everything below an entry is Atom.
    assert {el.tag.split("}")[0] + "}" for el in root.iter()} == {"{http://www.w3.org/2005/Atom}"}
    assert b"<script" not in response.content and b"<img" not in response.content
    [newest, older] = root.findall("a:entry", ATOM)
    assert newest.findtext("a:title", namespaces=ATOM) == "<script>alert(1)</script> Hafen Noworossijsk &amp gesperrt"
    assert newest.find("a:content", ATOM).get("type") == "text"
    assert newest.findtext("a:content", namespaces=ATOM) == (
        'Ein Leser schickt <script>alert("body")</script> und einen Link javascript:alert(2) mit.\n\n'
        'Kaputte Zeichen: &amp &#x; &lt;b&gt; und <a href="javascript:alert(3)">klick</a> am Hafen.'
    )
    assert older.findtext("a:title", namespaces=ATOM) == "Angriff auf Tanker &#x; vor Noworossijsk"
    # Links are ours, never a javascript: URL from the text.
    assert all(link.get("href").startswith("http://testserver/") for link in root.iter("{http://www.w3.org/2005/Atom}link"))


def test_invalid_parameters_are_400_with_messages(client, archive):
    assert_field_errors(client, "/feed/", [({"date_from": "2025-13-40"}, "date_from"), ({"region": "atlantis"}, "region"),
                                           ({"order": "zufall"}, "order"), ({"date_from": "2025-11-14", "date_to": "2025-11-01"}, "date_to")])


def test_search_page_offers_the_feed(client, archive):
    page = client.get("/", {"q": "Noworossijsk", "region": "ukraine"}).content.decode()
    assert '<link rel="alternate" type="application/atom+xml" title="Feed dieser Suche" href="/feed/?q=Noworossijsk&amp;region=ukraine">' in page
    assert '<a href="/feed/?q=Noworossijsk&amp;region=ukraine" type="application/atom+xml">Feed abonnieren</a>' in page


def test_control_characters_do_not_break_the_feed(client, archive):
    """XML 1.0 cannot carry them; an editor's paste or an odd dump may hold them."""
    entry = Entry.objects.get(headline="Tote nach Angriffen auf Markt")
    Entry.objects.filter(pk=entry.pk).update(headline="Tote\x01 nach Angriffen\x1b auf Markt", body="Zwei\x0c Tote.")
    [item] = feed(client, q="Markt").findall("a:entry", ATOM)
    assert item.findtext("a:title", namespaces=ATOM) == "Tote nach Angriffen auf Markt"
    assert item.findtext("a:content", namespaces=ATOM) == "Zwei Tote."
