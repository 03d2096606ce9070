"""An experiment for the newest-first searches that miss issue #6's target: the time and the
links as words of the text index, and the newest hits read month by month.

    make bench-month-walk BENCH_ARGS="--entries 1000000 --rounds 7"

Not the archive's code path. In the search benchmark's archive (`bench_search_<N>`, built by
bench/search.py if missing) a copy of each entry's tsvector gets three more kinds of words:
`m202511` for its month (Berlin time), `p<id>` for each linked person, `o<id>` for each linked
place; one GIN index over it. Then the statement that reads a search's newest 1,001 hits (what
the count, the page and the facets come from) three ways, each in turn per round:

- *as now*: the archive's tables, `search_vector @@ q` (and `person_ids && ...`), newest first,
  planned by PostgreSQL;
- *one index*: the copy, with the person as a word (`q & p1`), one bitmap scan, then sorted;
- *month walk*: the copy, `q & m<month>` for one month after another, newest first, until
  1,001 hits: GIN's scan of an AND skips through a frequent word's postings to the few entries
  of one month, so no month costs more than its own hits.

All three must return the same ids in the same order. Medians go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import search as search_bench  # noqa: E402

TABLE = "bench_month_walk"
WANTED = 1001  # the archive's COUNT_CAP + 1
# (label, websearch text, person id lexeme or "", the same filter on the archive's tables)
CASES = [
    ("town", "Tschornomorsk", None),
    ("common word", "Umspannwerk", None),
    ("two words", "Hafen Drohnen", None),
    ("phrase", '"Region Odessa"', None),
    ("frequent word", "Angriff", None),
    ("frequent word + person", "Angriff", "wolodymyr-selenskyj"),
]
BUILD = f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} AS
SELECT id, published_at, search_vector || to_tsvector('simple',
    'm' || to_char(published_at AT TIME ZONE 'Europe/Berlin', 'YYYYMM')
    || coalesce((SELECT ' ' || string_agg('p' || x, ' ') FROM unnest(person_ids) AS x), '')
    || coalesce((SELECT ' ' || string_agg('o' || x, ' ') FROM unnest(place_ids) AS x), '')) AS words
FROM tickerarchive_entry;
CREATE INDEX {TABLE}_words ON {TABLE} USING gin (words) WITH (fastupdate = off);
CREATE INDEX {TABLE}_time ON {TABLE} (published_at DESC, id DESC);
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    database = search_bench.prepare_archive(args.entries)
    with psycopg.connect(common.server_url(database), options="-c work_mem=32MB", autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for statement in BUILD.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        build_seconds = time.monotonic() - started
        months = [row[0] for row in conn.execute(
            f"SELECT DISTINCT to_char(published_at AT TIME ZONE 'Europe/Berlin', 'YYYYMM') AS month FROM {TABLE} "
            "ORDER BY month DESC")]
        words = conn.execute(f"SELECT avg(length(words)), avg(length(e.search_vector)) FROM {TABLE} "
                             "JOIN tickerarchive_entry AS e USING (id) WHERE id % 100 = 0").fetchone()

        def as_now(text: str, person: int | None):
            conn.execute("RESET enable_indexscan")
            linked = "AND person_ids && ARRAY[%s]::bigint[]" if person else ""
            return conn.execute(
                f"SELECT id FROM tickerarchive_entry WHERE search_vector @@ websearch_to_tsquery('german', %s) {linked} "
                f"ORDER BY published_at DESC, id DESC LIMIT {WANTED}", [text, *([person] if person else [])]).fetchall()

        def query(text: str, person: int | None, month: str | None = None) -> tuple[str, list]:
            extra = "".join(f" && %s::tsquery" for _ in filter(None, (person, month)))
            values = [f"p{person}"] if person else []
            values += [f"m{month}"] if month else []
            return f"websearch_to_tsquery('german', %s){extra}", [text, *values]

        def one_index(text: str, person: int | None):
            conn.execute("SET enable_indexscan = off")  # the bitmap scan, not a walk along the time index
            tsquery, values = query(text, person)
            return conn.execute(f"SELECT id FROM {TABLE} WHERE words @@ ({tsquery}) "
                                f"ORDER BY published_at DESC, id DESC LIMIT {WANTED}", values).fetchall()

        def month_walk(text: str, person: int | None, walked: list | None = None):
            conn.execute("SET enable_indexscan = off")
            rows = []
            for number, month in enumerate(months, start=1):
                tsquery, values = query(text, person, month)
                rows += conn.execute(f"SELECT id FROM {TABLE} WHERE words @@ ({tsquery}) "
                                     "ORDER BY published_at DESC, id DESC LIMIT %s", [*values, WANTED - len(rows)]).fetchall()
                if len(rows) >= WANTED:
                    break
            if walked is not None:
                walked.append(number)
            return rows

        lines = [
            f"## Newest hits by month, {args.entries:,} entries (an experiment)", "",
            common.machine(), "",
            f"`python bench/month_walk.py --entries {args.entries} --rounds {args.rounds}`. The copy with "
            f"month, person and place words built in {build_seconds:.0f} s; {words[0]:.1f} words per entry "
            f"against {words[1]:.1f}. Milliseconds to read the newest {WANTED:,} hits, medians of "
            f"{args.rounds} rounds (32 MB `work_mem`):", "",
            "| search | as now | one index | month walk (months read) |",
            "| --- | --- | --- | --- |",
        ]
        for label, text, slug in CASES:
            person = conn.execute("SELECT id FROM tickerarchive_person WHERE slug = %s", [slug]).fetchone()[0] if slug else None
            expected = as_now(text, person)
            assert one_index(text, person) == expected and month_walk(text, person) == expected, label
            times = {"as now": [], "one index": [], "month walk": []}
            walked = []
            for _ in range(args.rounds):
                for name, read in (("as now", as_now), ("one index", one_index), ("month walk", month_walk)):
                    started = time.perf_counter()
                    read(text, person, walked) if name == "month walk" else read(text, person)
                    times[name].append((time.perf_counter() - started) * 1000)
            shown = f"{label} `{text}`" + (f" with `person={slug}`" if slug else "")
            lines.append(f"| {shown} | {statistics.median(times['as now']):.1f} | {statistics.median(times['one index']):.1f} | "
                         f"{statistics.median(times['month walk']):.1f} ({walked[0]}) |")
            print(lines[-1], flush=True)
        conn.execute(f"DROP TABLE {TABLE}")
    common.write_section(f"month walk {args.entries}", "\n".join(lines))


if __name__ == "__main__":
    main()
