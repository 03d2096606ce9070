"""Ingest benchmark: entries per second end to end, with and without linking, beside the
COPY ceiling measured in the same run, and the peak memory of the ingest process.

    python -m tickerarchive.devdb exec -- .venv/bin/python bench/ingest.py --entries 100000 1000000 --rounds 3

Per size and round, in alternating order: `manage.py ingest` of the generated corpus into a
fresh database (with linking, and with `--no-link`), and the ceiling: COPY of the very rows
ingest stored into a bare table with the same generated tsvector and no index. Results
(medians of the rounds) go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ENTRY_COLUMNS = (
    "id, ticker_id, published_at, headline, body, original_published_at, original_headline, original_body, "
    "edited_fields, source_dump_id, source_line, position_key, created_at, updated_at"
)
COPY_BLOCK = 1 << 20


# Seconds spent in each trigger function (pg_stat_user_functions), per ingest: what the link
# tables' triggers cost, apart from the rows and their indexes.
FUNCTION_TIMES = "SELECT funcname, total_time / 1000 FROM pg_stat_user_functions"


def ingest(corpus: Path, database: str, link: bool, setup_sql: str = "") -> dict:
    common.fresh_database(database)
    with common.admin_connection() as conn:
        conn.execute(f"ALTER DATABASE {database} SET track_functions = 'pl'")
    if setup_sql:  # a variant: the archive changed before the ingest (see --variant)
        with psycopg.connect(common.server_url(database), autocommit=True) as conn:
            conn.execute(setup_sql)
    command = [common.PYTHON, str(common.ROOT / "manage.py"), "ingest", str(corpus)] + ([] if link else ["--no-link"])
    server_before = common.server_cpu()
    seconds, cpu, rss = common.run_measured(command, env={**os.environ, "DATABASE_URL": common.server_url(database)})
    server_after = common.server_cpu()
    entries, functions = _stored(database)
    database_cpu = server_after - server_before if server_before is not None and server_after is not None else None
    return {"seconds": seconds, "cpu": cpu, "database_cpu": database_cpu, "rss": rss, "entries": entries,
            "rate": entries / seconds, "functions": functions}


def _stored(database: str) -> tuple[int, dict[str, float]]:
    """(entries stored, seconds per trigger function), read once the ingest's backends are gone:
    each reports its function times as it exits."""
    with psycopg.connect(common.server_url(database), autocommit=True) as conn:
        for _ in range(100):
            others = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND pid <> pg_backend_pid()").fetchone()[0]
            if not others:
                break
            time.sleep(0.1)
        entries = conn.execute("SELECT count(*) FROM tickerarchive_entry").fetchone()[0]
        return entries, dict(conn.execute(FUNCTION_TIMES).fetchall())


def save_rows(database: str, path: Path) -> None:
    """The rows ingest stored, in COPY text format: the ceiling loads exactly these."""
    with psycopg.connect(common.server_url(database)) as conn, conn.cursor() as cursor, path.open("wb") as out:
        with cursor.copy(f"COPY (SELECT {ENTRY_COLUMNS} FROM tickerarchive_entry ORDER BY id) TO STDOUT") as copy:
            for block in copy:
                out.write(block)


def ceiling(rows: Path, database: str, entries: int) -> dict:
    """COPY of the same rows into a bare table computing the same stored tsvector."""
    common.fresh_database(database)
    with psycopg.connect(common.server_url(database)) as conn:
        conn.execute("CREATE TABLE bare_entry (LIKE tickerarchive_entry INCLUDING GENERATED INCLUDING DEFAULTS)")
        conn.commit()
        started = time.monotonic()
        with conn.cursor() as cursor, rows.open("rb") as source:
            with cursor.copy(f"COPY bare_entry ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                while block := source.read(COPY_BLOCK):
                    copy.write(block)
        conn.commit()
        seconds = time.monotonic() - started
        copied = conn.execute("SELECT count(*) FROM bare_entry WHERE search_vector IS NOT NULL").fetchone()[0]
    assert copied == entries, (copied, entries)
    return {"seconds": seconds, "rate": entries / seconds}


def _function_medians(runs: list[dict]) -> list[tuple[str, float]]:
    """Median seconds per trigger function over the rounds (0 where a round never called it),
    the costliest first; those under 0.05 s left out."""
    names = {name for r in runs for name in r["functions"]}
    medians = [(name, common.median(r["functions"].get(name, 0.0) for r in runs)) for name in names]
    return sorted(((n, s) for n, s in medians if s >= 0.05), key=lambda item: -item[1])


def modes_title(modes: str) -> str:
    """`link,nolink` as a section title says it: one section per size and order of modes."""
    named = {"link": "with linking", "nolink": "without linking"}
    return ", then ".join(named[mode] for mode in modes.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="link,nolink", help="which ingests to run: link, nolink or both")
    parser.add_argument("--keep-for-search", action="store_true",
                        help="keep the last ingest with linking as bench_search_<entries>, the archive that "
                             "bench/search.py and bench/web.py read (saves ingesting the corpus again)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=SQL",
                        help="also ingest with linking into an archive changed by SQL first, to see what a part "
                             "costs (e.g. no-array-gin='DROP INDEX entry_place_ids, entry_person_ids'); repeatable")
    args = parser.parse_args()
    variants = dict(variant.split("=", 1) for variant in args.variant)
    modes = args.modes.split(",") + list(variants)
    lines = [
        f"## Ingest, {' and '.join(f'{n:,}' for n in args.entries)} entries ({modes_title(args.modes)})"
        + (f", variants {', '.join(variants)}" if variants else ""), "",
        common.machine(), "",
        f"`python -m tickerarchive.devdb exec -- .venv/bin/python bench/ingest.py --entries "
        f"{' '.join(map(str, args.entries))} --rounds {args.rounds} --modes {args.modes}"
        + "".join(f" --variant {name}='{sql}'" for name, sql in variants.items()) + "`", "",
        "| entries | generate | ingest with linking | ingest `--no-link` | linking adds (wall) | linking adds "
        "(CPU of the ingest process) | COPY ceiling | ingest / ceiling | peak RSS (link / no link) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for size in args.entries:
        corpus = common.corpus(size)
        rows = common.OUT / f"rows-{size}.copy"
        runs: dict[str, list[dict]] = {"link": [], "nolink": [], **{name: [] for name in variants}, "ceiling": []}
        for round_number in range(args.rounds):
            order = modes if round_number % 2 == 0 else modes[::-1]
            for mode in order:
                keep = args.keep_for_search and mode == "link" and round_number == args.rounds - 1
                database = f"bench_search_{size}" if keep else "bench_ingest"
                result = ingest(corpus, database, link=mode != "nolink", setup_sql=variants.get(mode, ""))
                runs[mode].append(result)
                print(f"{size} round {round_number + 1} {mode}: {result}", flush=True)
                if not rows.exists():
                    save_rows(database, rows)
            result = ceiling(rows, "bench_ingest", runs[modes[0]][-1]["entries"])
            runs["ceiling"].append(result)
            print(f"{size} round {round_number + 1} ceiling: {result}", flush=True)
        common.drop_database("bench_ingest")

        def rate(mode: str) -> float | None:
            return common.median(r["rate"] for r in runs[mode]) if runs[mode] else None

        def cpu(mode: str) -> float | None:
            return common.median(r["cpu"] for r in runs[mode]) if runs[mode] else None

        def rss(mode: str) -> str:
            return f"{max(r['rss'] for r in runs[mode])} MB" if runs[mode] else "-"

        link, nolink, top = rate("link"), rate("nolink"), rate("ceiling")
        best = link or nolink
        both = link and nolink
        lines.append(
            f"| {size:,} | {common.generation_seconds(corpus):.0f} s | "
            + (f"{link:,.0f}/s" if link else "-") + " | " + (f"{nolink:,.0f}/s" if nolink else "-") + " | "
            + (f"{nolink / link - 1:+.0%}" if both else "-") + " | "
            + (f"{cpu('link') / cpu('nolink') - 1:+.0%} ({cpu('link'):.0f} s vs {cpu('nolink'):.0f} s)" if both else "-")
            + f" | {top:,.0f}/s | {best / top:.0%} | {rss('link')} / {rss('nolink')} |"
        )
        notes += [
            f"Variant `{name}` (with linking, after `{sql}`): {rate(name):,.0f}/s"
            + (f", {nolink / rate(name) - 1:+.0%} over `--no-link`" if nolink else "")
            + f"; database CPU {common.median(r['database_cpu'] or 0 for r in runs[name]):.1f} s (median)."
            for name, sql in variants.items()
        ]
        notes.append(
            f"Runs for {size:,} (entries/s): "
            + "; ".join(f"{mode} " + ", ".join(f"{r['rate']:,.0f}" for r in runs[mode]) for mode in runs if runs[mode])
            + "; ingest CPU s: " + "; ".join(
                f"{mode} " + ", ".join(f"{r['cpu']:.1f}" for r in runs[mode]) for mode in modes if runs[mode]
            )
            + ("; database CPU s: " + "; ".join(
                f"{mode} " + ", ".join(f"{r['database_cpu']:.1f}" for r in runs[mode]) for mode in modes if runs[mode]
            ) if all(r["database_cpu"] is not None for mode in modes for r in runs[mode]) else "")
            + "; in trigger functions, s (median): " + "; ".join(
                f"{mode} " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in _function_medians(runs[mode]))
                for mode in modes if runs[mode]
            )
        )
    lines += ["", *notes, ""]
    lines.append(
        "Entries/s counts the entries stored (repeats on overlapping pages are stored once) over the wall time of "
        "the whole `manage.py ingest` process (start-up and the gazetteer automaton included). The ceiling is "
        "`COPY` of those same rows from the client into a table made with `LIKE tickerarchive_entry INCLUDING "
        "GENERATED` (the same stored tsvector, no index, no constraint). Medians of the rounds. Database CPU is "
        "what the PostgreSQL server's processes spent during the ingest (its backend, and autovacuum)."
    )
    # A run with variants has a section of its own: it must not replace the plain run's figures.
    section = f"ingest {' '.join(map(str, args.entries))} {args.modes}" + (f" variants {','.join(variants)}" if variants else "")
    common.write_section(section, "\n".join(lines))


if __name__ == "__main__":
    main()
