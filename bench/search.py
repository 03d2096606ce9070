"""Search benchmark: a fixed query mix through the API's code path, beside tantivy.

    python -m tickerarchive.devdb exec -- .venv/bin/python bench/search.py --entries 1000000 --repeat 15

The archive is the generated corpus of that size ingested (with linking) into the database
`bench_search_<entries>` (made once; later runs reuse it). Each query of the mix runs through
the FilterSet and `run_search` as /api/entries/ does (count and page), and again with facets
as the search page shows them; then the same query in a tantivy index of the same entries
(German stemming, the same filters as fast fields), with count and the same facets as
aggregations. p50 and p95 over the repetitions, after one warm-up run. Then the place and
person lookups of /api/places/ and /api/people/, through their views.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

# (label, API parameters). Rare, medium and very frequent words of the generated vocabulary,
# phrases, exclusions and OR, with and without filters, both orders. Dates are filled in
# relative to the newest entry. The rare words are from the vocabulary's long tail (ranks
# 20,000 and 5,000 of ingest.generator.vocabulary(): about 150 and 900 entries in a million).
QUERIES = [
    ("rare word", {"q": "Militärsicherheitsterminal"}),
    ("uncommon word", {"q": "Hilfseinsatzgipfel"}),
    ("town", {"q": "Tschornomorsk"}),
    ("common word", {"q": "Umspannwerk"}),
    ("medium word", {"q": "Drohnenangriff"}),
    ("frequent word", {"q": "Angriff"}),
    ("very frequent word", {"q": "Ukraine"}),
    ("two words", {"q": "Hafen Drohnen"}),
    ("phrase", {"q": '"Region Odessa"'}),
    ("rare phrase", {"q": '"Angriff Drohnen"'}),
    ("exclusion", {"q": "Putin -Trump"}),
    ("OR", {"q": "Kraftwerk OR Umspannwerk"}),
    ("frequent + last 30 days", {"q": "Angriff", "date_from": "{month_ago}", "date_to": "{newest}"}),
    ("rare + region", {"q": "Hafen Umspannwerk", "region": "region-odessa"}),
    ("frequent + region", {"q": "Angriff", "region": "region-odessa"}),
    ("frequent + person", {"q": "Angriff", "person": "wolodymyr-selenskyj"}),
    ("region only", {"region": "region-kursk"}),
    ("person + 30 days", {"person": "wladimir-putin", "date_from": "{month_ago}", "date_to": "{newest}"}),
    ("no query (newest)", {}),
]
ORDERS = ("newest", "relevance")
# (label, API path, q) of /api/places/ and /api/people/: names, a genitive, a typo, a prefix.
LOOKUPS = [
    ("city", "/api/places/", "Kiew"),
    ("city and region", "/api/places/", "Odessa"),
    ("typo", "/api/places/", "Noworosijsk"),
    ("prefix", "/api/places/", "Sapor"),
    ("person", "/api/people/", "Selenskyj"),
    ("genitive", "/api/people/", "Putins"),
]


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = common.server_url(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tickerarchive.settings")
    sys.path.insert(0, str(common.ROOT))
    importlib.import_module("tickerarchive.wsgi")  # Django set up as in a served worker, long-lived objects frozen


def prepare_archive(entries: int) -> str:
    database = f"bench_search_{entries}"
    with common.admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    if not exists:
        corpus = common.corpus(entries)
        common.fresh_database(database)
        common.manage("ingest", str(corpus), database=database, stdout=open(common.OUT / "last-run.log", "wb"))
        # A tantivy index built from an earlier archive may know other ids for the same places.
        shutil.rmtree(common.OUT / f"tantivy-{entries}", ignore_errors=True)
    return database


def timed(function, repeat: int) -> tuple[list[float], object]:
    function()  # warm-up: caches and the planner's statistics as a running server has them
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


# --- the archive's code path ------------------------------------------------------------
def archive_search(params: dict, with_facets: bool):
    from django.http import QueryDict

    from tickerarchive.filters import EntryFilter
    from tickerarchive.models import Entry
    from tickerarchive.search import run_search

    query = QueryDict(mutable=True)
    query.update(params)
    filterset = EntryFilter(query, queryset=Entry.objects.all())
    assert filterset.is_valid(), filterset.error_messages()
    result = run_search(filterset.criteria, filterset.qs, with_facets=with_facets)
    return result.count if result.count_is_exact else f">{result.count:,}"


def archive_lookup(path: str, q: str) -> int:
    """A place or person lookup as /api/places/ and /api/people/ answer it: the number of results."""
    import json

    from django.test import RequestFactory

    from tickerarchive import api

    view = api.places if path == "/api/places/" else api.people
    return len(json.loads(view(RequestFactory().get(path, {"q": q})).content)["results"])


# --- tantivy --------------------------------------------------------------------------------
class TantivyArchive:
    """The same entries in tantivy: headline and body German-stemmed, filters as fast fields.
    A place link counts for the place and the places above it, so a region is one term."""

    def __init__(self, path: Path):
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        for name in ("headline", "body"):
            builder.add_text_field(name, stored=False, tokenizer_name="german")
        builder.add_integer_field("id", stored=True, fast=True)
        builder.add_integer_field("published", indexed=True, fast=True)
        builder.add_integer_field("day", indexed=True, fast=True)
        for name in ("ticker", "place", "region", "country", "person"):
            builder.add_integer_field(name, indexed=True, fast=True)
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        fresh = not (path / "meta.json").exists()
        self.index = tantivy.Index(self.schema, path=str(path))
        self.index.register_tokenizer("german", (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("german")).build()
        ))
        self.build_seconds = self._build() if fresh else None
        self.index.reload()
        self.searcher = self.index.searcher()

    def _build(self) -> float:
        from django.db import connection

        from tickerarchive.models import PlaceUnit

        started = time.monotonic()
        writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        units = {pk: (region, country) for pk, region, country in
                 PlaceUnit.objects.values_list("place_id", "region_id", "country_id")}
        with connection.cursor() as cursor:
            # The links readers see: the entries' arrays (see Entry).
            cursor.execute("SELECT id, ticker_id, published_at, headline, body, place_ids, person_ids FROM tickerarchive_entry")
            while rows := cursor.fetchmany(5000):
                for entry_id, ticker_id, published, headline, body, place_ids, person_ids in rows:
                    linked = [(pk, *units[pk]) for pk in place_ids]
                    writer.add_document(self.tantivy.Document(
                        id=entry_id, published=int(published.timestamp()), day=int(published.timestamp()) // 86400,
                        ticker=ticker_id, headline=headline, body=body,
                        place=[p for p, _, _ in linked], region=sorted({r for _, r, _ in linked if r}),
                        country=sorted({c for _, _, c in linked if c}), person=list(person_ids),
                    ))
        writer.commit()
        writer.wait_merging_threads()
        return time.monotonic() - started

    def query(self, params: dict):
        """The API's parameters as a tantivy query (region: the place and its towns)."""
        from tickerarchive.models import Person, Place
        from tickerarchive.search import place_and_descendants

        tantivy = self.tantivy
        Query, Occur, Field = tantivy.Query, tantivy.Occur, tantivy.FieldType
        clauses = []
        if params.get("q"):
            clauses.append((Occur.Must, self.index.parse_query(
                params["q"], ["headline", "body"], field_boosts={"headline": 2.0}, conjunction_by_default=True,
            )))
        if params.get("date_from") or params.get("date_to"):
            start = end = None
            if params.get("date_from"):
                start = int(datetime.fromisoformat(params["date_from"]).replace(tzinfo=timezone.utc).timestamp())
            if params.get("date_to"):
                end = int((datetime.fromisoformat(params["date_to"]) + timedelta(days=1)).replace(tzinfo=timezone.utc).timestamp()) - 1
            clauses.append((Occur.Must, Query.range_query(self.schema, "published", Field.Integer, start, end)))
        if params.get("region"):
            ids = place_and_descendants(Place.objects.get(slug=params["region"]))
            clauses.append((Occur.Must, Query.term_set_query(self.schema, "place", ids)))
        if params.get("person"):
            person = Person.objects.get(slug=params["person"])
            clauses.append((Occur.Must, Query.term_query(self.schema, "person", person.pk)))
        return Query.boolean_query(clauses) if clauses else Query.all_query()

    def search(self, params: dict, order: str, with_facets: bool):
        query = self.query(params)
        if order == "relevance" and params.get("q"):
            result = self.searcher.search(query, 21, count=True)
        else:
            result = self.searcher.search(query, 21, count=True, order_by_field="published")
        ids = [self.searcher.doc(address)["id"][0] for _score, address in result.hits]
        if with_facets:
            terms = {"size": 10}
            self.searcher.aggregate(query, {
                "tickers": {"terms": {"field": "ticker", **terms}},
                "countries": {"terms": {"field": "country", **terms}},
                "regions": {"terms": {"field": "region", **terms}},
                "people": {"terms": {"field": "person", **terms}},
                "days": {"terms": {"field": "day", "size": 31, "order": {"_key": "desc"}}},
            })
        return result.count, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    database = prepare_archive(args.entries)
    setup_django(database)
    from django.db import connection

    from tickerarchive.models import Entry
    from tickerarchive.search import COUNT_CAP

    newest = Entry.objects.order_by("-published_at").values_list("published_at", flat=True).first()
    total = Entry.objects.count()
    dates = {"newest": newest.date().isoformat(), "month_ago": (newest - timedelta(days=30)).date().isoformat()}
    engine = TantivyArchive(common.OUT / f"tantivy-{args.entries}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    lines = [
        f"## Search, {args.entries:,} entries", "", common.machine(), "",
        f"`python -m tickerarchive.devdb exec -- .venv/bin/python bench/search.py --entries {args.entries} --repeat {args.repeat}`",
        "", f"{total:,} entries (database {size}); tantivy index "
        + (f"built in {engine.build_seconds:.0f} s" if engine.build_seconds else "reused") + ". "
        f"Milliseconds, p50 / p95 of the repetitions, after one round of the whole mix that filled the caches. "
        f"*API*: FilterSet + `run_search` (count capped at {COUNT_CAP:,}, page of 20 with highlighted snippets, "
        "places and people), as `/api/entries/`; *+ facets*: the same with the facets of the search page. tantivy: "
        "count, top 20 and the same five facets as aggregations (over all hits; the archive counts facets over the "
        f"newest {COUNT_CAP:,}).", "",
        "| query | order | hits | API p50 / p95 | API + facets p50 / p95 | tantivy + facets p50 / p95 | p95 ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    worst = {"newest": 0.0, "relevance": 0.0}
    mix = [(label, {k: v.format(**dates) for k, v in template.items()}, order)
           for label, template in QUERIES for order in ORDERS if order == "newest" or template.get("q")]
    for _label, params, order in mix:  # the first query of a cold run would otherwise pay for reading the disk
        archive_search({**params, "order": order}, with_facets=True)
        engine.search(params, order, with_facets=True)
    for label, params, order in mix:
        query = {**params, "order": order}
        api, hits = timed(lambda: archive_search(query, with_facets=False), args.repeat)
        page, _ = timed(lambda: archive_search(query, with_facets=True), args.repeat)
        engine_times, (engine_hits, _ids) = timed(lambda: engine.search(params, order, with_facets=True), args.repeat)
        p95 = common.percentile(page, 0.95)
        worst[order] = max(worst[order], p95)
        lines.append(
            f"| {label} `{' '.join(f'{k}={v}' for k, v in params.items())}` | {order} | {hits} ({engine_hits:,}) | "
            f"{common.median(api):.0f} / {common.percentile(api, 0.95):.0f} | {common.median(page):.0f} / {p95:.0f} | "
            f"{common.median(engine_times):.1f} / {common.percentile(engine_times, 0.95):.1f} | "
            f"{p95 / max(common.percentile(engine_times, 0.95), 0.1):.0f}x |"
        )
        print(lines[-1], flush=True)
    lines += [
        "", f"Worst p95 with facets: newest first {worst['newest']:.0f} ms (target 50), "
        f"by relevance {worst['relevance']:.0f} ms (target 150). Hits: the archive's capped count "
        "(tantivy's exact count in brackets).",
    ]
    lines += [
        "", "Place and person lookups through their API views (names and aliases folded, typos ranked, "
        "entry counts), milliseconds:", "",
        "| lookup | results | p50 / p95 |", "| --- | --- | --- |",
    ]
    for label, path, q in LOOKUPS:
        times, results = timed(lambda: archive_lookup(path, q), args.repeat)
        lines.append(f"| {label} `{path}?q={q}` | {results} | {common.median(times):.0f} / {common.percentile(times, 0.95):.0f} |")
        print(lines[-1], flush=True)
    common.write_section(f"search {args.entries}", "\n".join(lines))


if __name__ == "__main__":
    main()
