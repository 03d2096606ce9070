"""One search reads its newest hits once: the page with facets and timeline costs a fixed,
small number of queries, however the result is filtered or ordered."""
import pytest

pytestmark = pytest.mark.django_db

# The form's choices 2, named_in 4 (2 more when the query is a name), the newest hits 1, the page's
# details 3 (entries, places, people), tickers 1, place links 1, gazetteer 2 (its data version and,
# once per version, the places), person links 1, and the relevance page 1, and the page cache's
# data version, read before and after rendering, 2.
# Reading the match set once per facet and for the timeline took 20 and more.
PAGE_QUERIES = 19


@pytest.mark.parametrize("params", [
    {"q": "Angriff"},
    {"q": "Angriff", "order": "relevance"},
    {"q": "Kiew"},
    {"region": "region-odessa"},
    {},
])
def test_the_search_page_reads_the_match_set_once(client, archive, django_assert_max_num_queries, params):
    with django_assert_max_num_queries(PAGE_QUERIES):
        page = client.get("/", params)
    result = page.context["result"]
    assert result.count and result.facets.tickers and result.timeline.bars


def test_the_api_without_facets_stays_count_and_page(client, archive, django_assert_max_num_queries):
    # named_in 4, the capped count 1, the page 1, its details 3, the data version twice (page
    # cache) and a spare one: no facet query.
    with django_assert_max_num_queries(12):
        data = client.get("/api/entries/", {"q": "Angriff"}).json()
    assert data["count"] and data["results"]
