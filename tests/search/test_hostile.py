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
