"""What checking the link rows' references costs: PostgreSQL's foreign keys (a check per row
and key at commit) against the statement triggers of migration 0005, and no check at all.

    python -m tickerarchive.devdb exec -- .venv/bin/python bench/link_checks.py --links 60000 --rounds 5

In a scratch database with the gazetteer, for committed entries: COPY of `--links` place
links in one statement and one transaction, and the same rows as ingest writes them, one
COPY and one commit per dump (`--per-dump` rows), into three copies of the link table that
take turns statement by statement. Medians of the rounds (after one warm-up round) go to
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

LINKS = "tickerarchive_entryplace"
CHECK_FUNCTION = "tickerarchive_entryplace_check_references"
PLACES_PER_ENTRY = 3
# Three copies of the link table with its indexes, written in turn so that the load of the
# shared machine falls on each alike: checked as before migration 0005, as after, not at all.
TABLES = {
    "foreign keys": "bench_links_foreign_keys",
    "triggers": "bench_links_triggers",
    "unchecked": "bench_links_unchecked",
}


def make_tables(conn: psycopg.Connection) -> None:
    for table in TABLES.values():
        conn.execute(f"CREATE TABLE {table} (LIKE {LINKS} INCLUDING ALL)")
    conn.execute(  # as Django created them before migration 0005
        f"ALTER TABLE {TABLES['foreign keys']} "
        "ADD FOREIGN KEY (entry_id) REFERENCES tickerarchive_entry (id) DEFERRABLE INITIALLY DEFERRED, "
        "ADD FOREIGN KEY (place_id) REFERENCES tickerarchive_place (id) DEFERRABLE INITIALLY DEFERRED")
    conn.execute(f"CREATE TRIGGER references_inserted AFTER INSERT ON {TABLES['triggers']} REFERENCING NEW TABLE "
                 f"AS new_links FOR EACH STATEMENT EXECUTE FUNCTION {CHECK_FUNCTION}()")
    conn.commit()


def make_entries(conn: psycopg.Connection, count: int) -> list[int]:
    ticker = conn.execute("INSERT INTO tickerarchive_ticker (title, slug, section, created_at) "
                          "VALUES ('Bench', 'bench', '', now()) RETURNING id").fetchone()[0]
    dump = conn.execute(
        "INSERT INTO tickerarchive_sourcedump (ticker_id, file_name, path, sha256, size, encoding, date_source, "
        "raw_text, parse_warnings, unparsed_lines, entry_count, ingested_at) "
        "VALUES (%s, 'bench.txt', 'bench.txt', 'bench', 0, 'utf-8', '', '', '[]', '[]', 0, now()) RETURNING id",
        [ticker]).fetchone()[0]
    conn.execute(
        "INSERT INTO tickerarchive_entry (ticker_id, published_at, headline, body, original_published_at, "
        "original_headline, original_body, edited_fields, source_dump_id, source_line, position_key, created_at, "
        "updated_at) SELECT %s, now() - g * interval '1 minute', 'Meldung ' || g, '', now() - g * interval '1 minute', "
        "'Meldung ' || g, '', '[]', %s, g, 0, now(), now() FROM generate_series(1, %s) g", [ticker, dump, count])
    conn.commit()
    return [row[0] for row in conn.execute("SELECT id FROM tickerarchive_entry ORDER BY id")]


def copy_rows(conn: psycopg.Connection, table: str, rows: list[str]) -> None:
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} (entry_id, place_id, mentions, origin, removed) FROM STDIN") as copy:
        copy.write("".join(rows))


def timed_copy(conn: psycopg.Connection, table: str, rows: list[str]) -> tuple[float, float]:
    """(COPY, commit) seconds."""
    started = time.perf_counter()
    copy_rows(conn, table, rows)
    copied = time.perf_counter()
    conn.commit()
    return copied - started, time.perf_counter() - copied


def one_round(conn: psycopg.Connection, rows: list[str], per_dump: int, order: list[str]) -> dict:
    """Per way of checking: all rows in one statement, then the same rows one dump at a time."""
    result = {mode: {} for mode in order}
    for mode in order:
        conn.execute(f"TRUNCATE {TABLES[mode]}")
        conn.commit()
        result[mode]["copy"], result[mode]["commit"] = timed_copy(conn, TABLES[mode], rows)
        result[mode]["one statement"] = result[mode]["copy"] + result[mode]["commit"]
    for mode in order:
        conn.execute(f"TRUNCATE {TABLES[mode]}")
        result[mode]["per dump"] = 0.0
    conn.commit()
    for first in range(0, len(rows), per_dump):
        for mode in order:
            result[mode]["per dump"] += sum(timed_copy(conn, TABLES[mode], rows[first:first + per_dump]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=60_000)
    parser.add_argument("--per-dump", type=int, default=130, help="link rows per dump (40 entries, 3.3 each)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs: list[dict] = []
    with common.scratch_database("bench_link_checks") as (env, _kept):
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            entries = make_entries(conn, args.links // PLACES_PER_ENTRY)
            make_tables(conn)
            places = [row[0] for row in conn.execute("SELECT id FROM tickerarchive_place")]
            rng = random.Random(1)
            rows = [f"{entry}\t{place}\t1\tauto\tf\n" for entry in entries
                    for place in rng.sample(places, PLACES_PER_ENTRY)]
            for round_number in range(args.rounds + 1):  # round 0 warms up
                order = list(TABLES) if round_number % 2 else list(TABLES)[::-1]
                result = one_round(conn, rows, args.per_dump, order)
                print(f"round {round_number}: {result}", flush=True)
                if round_number:
                    runs.append(result)

    def median(mode: str, part: str) -> float:
        return common.median(run[mode][part] for run in runs)

    unchecked = {shape: median("unchecked", shape) for shape in ("one statement", "per dump")}
    lines = [
        f"## Checking {args.links:,} link rows", "", common.machine(), "",
        f"`python -m tickerarchive.devdb exec -- .venv/bin/python bench/link_checks.py --links {args.links} "
        f"--per-dump {args.per_dump} --rounds {args.rounds}`", "",
        f"COPY of {args.links:,} place links ({PLACES_PER_ENTRY} per committed entry, places of the gazetteer) into "
        f"three copies of `{LINKS}` with its indexes, taking turns. *One statement*: one COPY, one commit (COPY / commit / total). *Per dump*: "
        f"one COPY and one commit per {args.per_dump} rows, as ingest writes them. The check is the time beyond "
        "*unchecked*. Seconds, medians of the rounds.", "",
        "| references checked by | one statement: COPY / commit / total | the check | per dump: total | the check |",
        "| --- | --- | --- | --- | --- |",
    ]
    for mode in TABLES:
        one, dumps = median(mode, "one statement"), median(mode, "per dump")
        lines.append(
            f"| {mode} | {median(mode, 'copy'):.2f} / {median(mode, 'commit'):.2f} "
            f"/ {one:.2f} | {one - unchecked['one statement']:+.2f} | {dumps:.2f} | {dumps - unchecked['per dump']:+.2f} |"
        )
    lines += ["", "Runs (s): " + "; ".join(
        f"{mode}, {shape}: " + ", ".join(f"{run[mode][shape]:.2f}" for run in runs)
        for mode in TABLES for shape in ("one statement", "per dump")
    )]
    common.write_section(f"link checks {args.links}", "\n".join(lines))


if __name__ == "__main__":
    main()
