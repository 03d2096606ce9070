"""Arbitrary query strings on every public URL never give a server error (hypothesis).

The default suite runs HOSTILE_EXAMPLES (default 30) query strings per URL; the long run is
`make fuzz` (see the Makefile for its count). A new public URL is one more line in PUBLIC_URLS.
"""
import os
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickerarchive.models import Entry

pytestmark = pytest.mark.django_db

# {entry}, {ticker}, {day}, {place}, {person} are filled from the test archive.
PUBLIC_URLS = [
    "/",
    "/api/entries/",
    "/api/entries/{entry}/",
    "/api/places/",
    "/api/people/",
    "/eintrag/{entry}/",
    "/{ticker}/",
    "/{ticker}/{day}/",
    "/ort/{place}/",
    "/person/{person}/",
]
HOSTILE_EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", 30))

KNOWN_KEYS = ["q", "order", "date_from", "date_to", "ticker", "region", "person", "seite", "nach", "vor"]
RAW_ESCAPES = ["%", "%G", "%zz", "%FF", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%00", "%0A", "%25", "+", "&", "=", ";"]
CONTROL = st.text(st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\u200b\u202e\ufeff\ud800"), max_size=20)
value = st.one_of(
    st.text(max_size=60),
    CONTROL,
    st.sampled_from(["", "0", "-1", "1e309", "99999999999999999999", "9999-12-31", "0001-01-01", "2025-02-30",
                     "relevance", "newest", "NaN", "true", "[]", "{}", "../..", "' OR 1=1 --", "\"", "<script>"]),
    st.tuples(st.text(min_size=1, max_size=3), st.integers(1000, 20_000)).map(lambda t: t[0] * t[1]),  # huge
)


def encode(text: str) -> str:
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


pair = st.tuples(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10)), value).map(
    lambda kv: f"{encode(kv[0])}={encode(kv[1])}"
)
query_string = st.lists(
    st.one_of(pair, pair, st.sampled_from(RAW_ESCAPES), st.sampled_from(KNOWN_KEYS).map(lambda k: f"{k}={k}" * 3)),
    max_size=12,
).flatmap(lambda parts: st.sampled_from(["&", "&&", ";"]).map(lambda sep: sep.join(parts)))


@pytest.fixture
def public_urls(archive):
    entry = Entry.objects.select_related("ticker").order_by("published_at").first()
    day = entry.published_at.astimezone().strftime("%Y/%m/%d")
    values = {"entry": entry.pk, "ticker": entry.ticker.slug, "day": day,
              "place": archive["odessa_region"].slug, "person": archive["putin"].slug}
    return {url: url.format(**values) for url in PUBLIC_URLS}


def test_arbitrary_query_strings_on_every_public_url_never_give_a_server_error(client, public_urls):
    # One archive for all URLs: its set-up costs more than the examples.
    assert {url: client.get(path).status_code for url, path in public_urls.items()} == dict.fromkeys(public_urls, 200)
    tried = dict.fromkeys(public_urls, 0)
    for url, path in public_urls.items():

        @settings(max_examples=HOSTILE_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(query_string)
        def check(raw):
            tried[url] += 1
            response = client.get(f"{path}?{raw}")
            assert response.status_code < 500, (url, raw[:200])
            if path.startswith("/api/") and response.status_code in (200, 400):
                assert response["Content-Type"] == "application/json"

        check()
    print(f"\n{sum(tried.values())} query strings, none answered 5xx: {tried}")  # shown by `make fuzz-web` (-s)
