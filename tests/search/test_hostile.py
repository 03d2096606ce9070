"""Any input gives a page or JSON, never a server error."""
import pytest

pytestmark = pytest.mark.django_db

HOSTILE = [
    '"', '""', '"unbalanced', "-", "--", "OR", "OR OR", "-Trump", "!!!", "&", "|", ":*", "a:* & b",
    "'; DROP TABLE tickerarchive_entry; --", "1=1", "\\", "%", "_", "(((", ")))", "<script>alert(1)</script>",
    "🙂🚀", "Kiew " * 2000, "x" * 10_000, "\u200b", "\u00a0", "Ölexport\u0301", "null", "undefined",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries(client, archive, q):
    for order in ("newest", "relevance"):
        page = client.get("/", {"q": q, "order": order})
        assert page.status_code in (200, 400)
        api = client.get("/api/entries/", {"q": q, "order": order})
        assert api.status_code in (200, 400) and api.json()


@pytest.mark.parametrize("params", [
    {"q": "a\x00b"}, {"nach": "nicht-base64!"}, {"vor": "AAAA"}, {"seite": "-5"}, {"seite": "x"},
    {"seite": "99999999999999999999"}, {"date_from": "9999-99-99"}, {"ticker": "../../etc"},
])
def test_hostile_parameters(client, archive, params):
    assert client.get("/", params).status_code in (200, 400)
    assert client.get("/api/entries/", params).status_code in (200, 400)


# Markup in a dump is text: it must reach the reader as the characters the dump holds.
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "javascript:alert(1)"
BROKEN_ENTITIES = "&amp &lt;b &#x3c;i&#62; &#99999999; &unbekannt; &"
HOSTILE_HEADLINE = f"{SCRIPT} Sabotageverdacht {IMG}"
HOSTILE_BODY = f"Sabotageverdacht am Hafen {JS_LINK} {BROKEN_ENTITIES} {IMG} Ende."
HOSTILE_CAPTION = f"Sabotageverdacht {SCRIPT} {JS_LINK} {BROKEN_ENTITIES}"


@pytest.fixture
def markup_entry(db, tmp_path):
    from datetime import datetime

    from ingest.loader import DumpLoader
    from ingest.render import DraftEntry, DraftPicture
    from search_pages import page
    from tickerarchive.models import Entry

    dump = tmp_path / "markup_2025-11-20.txt"
    dump.write_bytes(page("Markup-Liveticker", datetime(2025, 11, 20, 0, 10), DraftEntry(
        "12:00", HOSTILE_HEADLINE, [HOSTILE_BODY], [DraftPicture("Hafen-bei-Nacht", HOSTILE_CAPTION, "dpa")],
    )))
    assert DumpLoader().load(dump).error is None
    entry = Entry.objects.select_related("ticker").get()
    assert (entry.headline, entry.body, entry.pictures.get().caption) == (HOSTILE_HEADLINE, HOSTILE_BODY, HOSTILE_CAPTION)
    return entry


class PageReading:
    """What a browser makes of an HTML page: its text and attribute values, its scripts and handlers."""

    def __init__(self, html: str):
        from html.parser import HTMLParser

        reading = self
        self.text, self.attribute_values, self.inline_scripts, self.handlers, self.js_urls = [], [], [], [], []

        class Reader(HTMLParser):
            def handle_starttag(self, tag, attrs):
                for name, value in attrs:
                    reading.attribute_values.append(value or "")
                    if name.startswith("on"):
                        reading.handlers.append((tag, name))
                    if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith("javascript:"):
                        reading.js_urls.append(value)
                if tag == "script" and not dict(attrs).get("src"):
                    reading.inline_scripts.append(self.getpos())

            def handle_data(self, data):
                reading.text.append(data)

        Reader(convert_charrefs=True).feed(html)
        self.all_text = "".join(self.text)

    def assert_safe_and_shows(self, *literals):
        assert self.inline_scripts == [] and self.handlers == [] and self.js_urls == []
        for literal in literals:
            assert literal in self.all_text or any(literal in value for value in self.attribute_values), literal


def read(response) -> PageReading:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    return PageReading(response.content.decode())


def test_markup_from_dumps_shows_as_text_on_reader_pages(client, markup_entry):
    day = markup_entry.published_at.astimezone().strftime("%Y/%m/%d")
    read(client.get("/")).assert_safe_and_shows(SCRIPT, IMG)  # newest entries
    # The snippet highlights the word next to the markup: <mark> is ours, the rest stays text.
    found = client.get("/", {"q": "Sabotageverdacht"})
    assert "<mark>Sabotageverdacht</mark>" in found.content.decode()
    read(found).assert_safe_and_shows(SCRIPT, IMG)
    read(client.get("/", {"q": "Sabotageverdacht", "order": "relevance"})).assert_safe_and_shows(SCRIPT)
    read(client.get(f"/eintrag/{markup_entry.pk}/")).assert_safe_and_shows(SCRIPT, IMG, JS_LINK, BROKEN_ENTITIES, HOSTILE_CAPTION)
    read(client.get(f"/{markup_entry.ticker.slug}/{day}/")).assert_safe_and_shows(SCRIPT, IMG, BROKEN_ENTITIES, HOSTILE_CAPTION)
    read(client.get(f"/{markup_entry.ticker.slug}/")).assert_safe_and_shows(SCRIPT)


def test_markup_from_dumps_is_plain_json_in_the_api(client, markup_entry):
    listing = client.get("/api/entries/", {"q": "Sabotageverdacht"})
    assert listing["Content-Type"] == "application/json"
    [hit] = listing.json()["results"]
    assert hit["headline"] == HOSTILE_HEADLINE
    PageReading(hit["snippet"]).assert_safe_and_shows(IMG, BROKEN_ENTITIES)  # the snippet is HTML: escaped, with <mark>
    detail = client.get(f"/api/entries/{markup_entry.pk}/")
    assert detail["Content-Type"] == "application/json"
    assert detail.json()["pictures"][0]["caption"] == HOSTILE_CAPTION


def test_markup_from_dumps_shows_as_text_in_the_admin(client, markup_entry, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("chef", password="x"))
    read(client.get("/admin/tickerarchive/entry/")).assert_safe_and_shows(SCRIPT)
    read(client.get("/admin/tickerarchive/entry/", {"q": "Sabotageverdacht"})).assert_safe_and_shows(SCRIPT)
    form = read(client.get(f"/admin/tickerarchive/entry/{markup_entry.pk}/change/"))
    form.assert_safe_and_shows(HOSTILE_HEADLINE, HOSTILE_BODY, HOSTILE_CAPTION)


@pytest.mark.parametrize("url", ["/api/places/", "/api/people/"])
def test_nul_in_a_name_lookup_is_no_server_error(client, archive, url):
    # found by the long run of test_hostile_properties: PostgreSQL text cannot hold NUL
    answer = client.get(url, {"q": "Pu\x00tin"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
