"""What relinking costs: the whole archive (`manage.py relink`), and what an editor's new
spelling of a place relinks in the admin request (the entries that may name it, then those
linked again).

    make bench-relink BENCH_ARGS="--entries 100000 --rounds 3"

In a scratch database with the gazetteer and the generated corpus ingested. For the admin's
path, spellings of places the corpus names rarely, often and most often (chosen by their
entry counts): the time to find the entries that may name each (`ids_possibly_naming`) and
the time to link them again. Medians of the rounds go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

# Run inside Django in the scratch database: prints one JSON line per spelling.
ADMIN_PATH = """
import json, time
from django.db import transaction
from django.db.models import Count
from ingest.linker import Linker
from tickerarchive.models import Entry, Place

places = list(Place.objects.annotate(n=Count("entries")).filter(n__gt=0).order_by("n", "pk"))
chosen = {"rare": places[len(places) // 10], "common": places[len(places) * 9 // 10], "most": places[-1]}
for label, place in chosen.items():
    with transaction.atomic():
        started = time.perf_counter()
        ids = Entry.objects.ids_possibly_naming(place.spellings())
        found = time.perf_counter()
        linker = Linker.from_database()
        built = time.perf_counter()
        written = linker.relink(ids) if len(ids) <= 20000 else None
        done = time.perf_counter()
        transaction.set_rollback(True)  # each round starts from the same links
    print(json.dumps({"label": label, "place": place.name, "linked": place.n, "candidates": len(ids),
                      "find_s": found - started, "build_s": built - found,
                      "relink_s": done - built if written is not None else None, "written": written}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    corpus = common.corpus(args.entries)
    whole, spellings = [], {}
    with common.scratch_database(f"bench_relink_{args.entries}") as (env, _kept):
        common.manage_in(env, "ingest", str(corpus))
        for _ in range(args.rounds):
            wall, cpu, _rss = common.run_measured(common.manage_command("relink"), env)
            whole.append((wall, cpu))
            output = common.manage_in(env, "shell", "-c", ADMIN_PATH).stdout
            for line in output.splitlines():
                if line.startswith("{"):
                    row = json.loads(line)
                    spellings.setdefault(row["label"], []).append(row)

    wall = common.median(w for w, _ in whole)
    cpu = common.median(c for _, c in whole)
    lines = [
        f"## Relink, {args.entries:,} entries", "",
        f"{common.machine()}. `python bench/relink.py --entries {args.entries} --rounds {args.rounds}`, medians of "
        f"{args.rounds} rounds.", "",
        f"- Whole archive (`manage.py relink`): {wall:.1f} s wall, {cpu:.1f} s CPU of the command: "
        f"**{args.entries / wall:,.0f} entries/s**.",
        "- An editor's changed spelling, as the admin relinks it (candidates found by the text index and the "
        "captions, the linker built, the candidates linked again; rolled back after each round):", "",
        "| place | linked entries | candidates | find | build linker | relink |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label in ("rare", "common", "most"):
        rows = spellings.get(label, [])
        if not rows:
            continue
        relinks = [r["relink_s"] for r in rows if r["relink_s"] is not None]
        relink = f"{common.median(relinks) * 1000:,.0f} ms" if relinks else "(over 20,000: not run)"
        lines.append(
            f"| {rows[0]['place']} ({label}) | {rows[0]['linked']:,} | {rows[0]['candidates']:,} | "
            f"{common.median(r['find_s'] for r in rows) * 1000:,.0f} ms | "
            f"{common.median(r['build_s'] for r in rows) * 1000:,.0f} ms | {relink} |"
        )
    common.write_section(f"relink {args.entries}", "\n".join(lines))


if __name__ == "__main__":
    main()
