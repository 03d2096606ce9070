"""HTTP benchmark: the search page and the entry page under gunicorn, 16 concurrent clients,
with the page cache on (steady state) and off (every page rendered).

    python -m tickerarchive.devdb exec -- .venv/bin/python bench/web.py --entries 1000000 --seconds 60

Serves the archive of bench/search.py (database `bench_search_<entries>`, made by that
benchmark) with gunicorn as `make run` does (gunicorn.conf.py; --gunicorn adds options), on 127.0.0.1:8500, and
runs wrk (apt package `wrk`) with bench/rotate.lua. The search page gets a mix of
--search-urls distinct URLs: the query mix of bench/search.py and generated searches (words
of the archive's headlines, phrases, exclusions, OR, relevance order and its second page,
regions, people, date ranges), asked with Zipf popularity (a few often, most rarely), as readers do.
The entry page gets --entry-urls random entries, the same way.

With the cache on, wrk first warms it up (rounds over every distinct URL until one is almost
all hits: each gunicorn worker keeps its own copy), then measures; the hit rate is what the
answers' X-Page-Cache header said. With it off (PAGE_CACHE=0) every request renders. Requests
per second, p50/p95/p99, errors and the CPU per request of the gunicorn workers and of the
PostgreSQL server go to bench/RESULTS.md.

--code DIR serves another checkout (an export of an earlier commit, for before/after figures
in one session) on the same database; --modes off measures only the uncached path.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import runpy
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import search  # noqa: E402

PORT = 8500
SEQUENCE_LENGTH = 20_000  # requests in the popularity-weighted order wrk rotates through
ZIPF_EXPONENT = 1.0
WARM_UP_SECONDS = 10
WARM_HIT_RATE = 0.98
WARM_UP_ROUNDS = 40


def search_paths() -> list[str]:
    """The query mix of bench/search.py, as search page URLs."""
    paths = []
    for _label, params in search_params():
        for order in search.ORDERS:
            if order == "newest" or params.get("q"):
                paths.append("/?" + urlencode({**params, "order": order}))
    return paths


def search_params() -> list[tuple[str, dict]]:
    from tickerarchive.models import Entry

    newest = Entry.objects.order_by("-published_at").values_list("published_at", flat=True).first()
    dates = {"newest": newest.date().isoformat(), "month_ago": (newest - timedelta(days=30)).date().isoformat()}
    return [(label, {k: v.format(**dates) for k, v in template.items()}) for label, template in search.QUERIES]


def search_mix(distinct: int, seed: int = 1) -> list[str]:
    """The query mix of bench/search.py, then generated searches of the kinds readers make,
    up to `distinct` different URLs."""
    from django.db import connection

    from tickerarchive.models import Entry, Person, Place

    rng = random.Random(seed)
    paths = dict.fromkeys(search_paths())
    ids = list(Entry.objects.values_list("pk", flat=True)[:200_000])
    headlines = Entry.objects.filter(pk__in=rng.sample(ids, min(400, len(ids)))).values_list("headline", flat=True)
    words = sorted({w.strip(".,:;!?\"'()") for h in headlines for w in h.split() if len(w.strip(".,:;!?\"'()")) >= 6})
    with connection.cursor() as cursor:  # the places and people some entry is linked to
        cursor.execute("SELECT array(SELECT DISTINCT unnest(place_ids) FROM tickerarchive_entry), "
                       "array(SELECT DISTINCT unnest(person_ids) FROM tickerarchive_entry)")
        linked_places, linked_people = cursor.fetchone()
    regions = list(Place.objects.filter(kind=Place.Kind.REGION, pk__in=linked_places)
                   .order_by("slug").values_list("slug", flat=True))
    people = list(Person.objects.filter(pk__in=linked_people).order_by("slug").values_list("slug", flat=True))
    newest = Entry.objects.order_by("-published_at").values_list("published_at", flat=True).first()

    def day(back: int) -> str:
        return (newest - timedelta(days=back)).date().isoformat()

    def one_day() -> dict:
        back = rng.randint(0, 60)
        return {"date_from": day(back), "date_to": day(back)}

    kinds = [
        (30, lambda: {"q": rng.choice(words)}),
        (10, lambda: {"q": " ".join(rng.sample(words, 2))}),
        (8, lambda: {"q": rng.choice(words), "order": "relevance"}),
        (5, lambda: {"q": '"' + " ".join(rng.sample(words, 2)) + '"'}),
        (5, lambda: {"q": f"{rng.choice(words)} -{rng.choice(words)}"}),
        (5, lambda: {"q": f"{rng.choice(words)} OR {rng.choice(words)}"}),
        (10, lambda: {"q": rng.choice(words), "region": rng.choice(regions)}),
        (5, lambda: {"q": rng.choice(words), "person": rng.choice(people)}),
        (8, lambda: {"q": rng.choice(words), "date_from": day(rng.randint(7, 90)), "date_to": day(0)}),
        (5, lambda: {"region": rng.choice(regions)}),
        (4, lambda: {"person": rng.choice(people), "date_from": day(30), "date_to": day(0)}),
        (5, one_day),
        (3, lambda: {"q": rng.choice(words), "order": "relevance", "seite": "2"}),
    ]
    weights = [weight for weight, _ in kinds]
    while len(paths) < distinct:
        params = rng.choices(kinds, weights)[0][1]()
        paths["/?" + urlencode(params)] = None
    return list(paths)[:distinct]


def entry_paths(count: int) -> list[str]:
    from tickerarchive.models import Entry

    low, high = Entry.objects.order_by("pk").values_list("pk", flat=True).first(), Entry.objects.order_by("-pk").values_list("pk", flat=True).first()
    chosen = random.Random(1).sample(range(low, high + 1), min(count, high - low + 1))
    existing = set(Entry.objects.filter(pk__in=chosen).values_list("pk", flat=True))
    return [f"/eintrag/{pk}/" for pk in chosen if pk in existing]


def by_popularity(paths: list[str], length: int = SEQUENCE_LENGTH, seed: int = 1) -> list[str]:
    """`length` requests over the paths with Zipf popularity: the path of rank r is asked in
    proportion to 1/r (ranks drawn at random, so popular and rare searches are of every kind)."""
    rng = random.Random(seed)
    ranked = rng.sample(paths, len(paths))
    weights = [1 / (rank ** ZIPF_EXPONENT) for rank in range(1, len(ranked) + 1)]
    return rng.choices(ranked, weights, k=length)


def wrk(paths: list[str], seconds: int, clients: int) -> dict:
    urls = common.OUT / "wrk-paths.txt"
    urls.write_text("\n".join(paths) + "\n")
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(common.ROOT / "bench" / "rotate.lua"), f"http://127.0.0.1:{PORT}"],
        env={**os.environ, "URLS_FILE": str(urls)}, check=True, capture_output=True, text=True,
    ).stdout
    result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    result["rate"] = result["requests"] / result["seconds"]
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    result["hit_rate"] = result["hits"] / result["requests"] if result["requests"] else 0.0
    return result


def warm_up(paths: list[str], clients: int) -> tuple[int, float]:
    """Rounds over every distinct path until one round is almost all hits; (rounds, seconds)."""
    started = time.monotonic()
    for rounds in range(1, WARM_UP_ROUNDS + 1):
        if wrk(paths, WARM_UP_SECONDS, clients)["hit_rate"] >= WARM_HIT_RATE:
            break
    return rounds, time.monotonic() - started


# --- CPU of the server side -------------------------------------------------------------
def measured(run, master: int) -> dict:
    """run() with the CPU time the gunicorn workers and PostgreSQL (the benchmark's own
    server: nothing else uses it meanwhile) spent in it."""
    postmaster = common.postmaster_pid()
    before_web, before_db = common.children_cpu_seconds(master), common.children_cpu_seconds(postmaster)
    result = run()
    result["web_cpu_s"] = common.children_cpu_seconds(master) - before_web
    result["db_cpu_s"] = common.children_cpu_seconds(postmaster) - before_db
    return result


@contextlib.contextmanager
def serving(code: Path, env: dict, options: list[str]):
    """gunicorn started in the checkout, so that it reads that checkout's gunicorn.conf.py (as
    `make run`; an older checkout without one gets gunicorn's defaults), these options over it."""
    server = subprocess.Popen(
        [str(Path(common.PYTHON).parent / "gunicorn"), "tickerarchive.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         *options],
        cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=open(common.OUT / "gunicorn.log", "wb"),
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--gunicorn", default="", help="gunicorn options over gunicorn.conf.py, e.g. '--threads 4 "
                        "--worker-connections 1000 --keep-alive 2' (the threaded set-up before gunicorn.conf.py)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--search-urls", type=int, default=300, help="distinct search page URLs of the mix")
    parser.add_argument("--entry-urls", type=int, default=2000, help="distinct entry pages of the mix")
    parser.add_argument("--modes", default="on,off", help="page cache on, off, or both")
    parser.add_argument("--pages", default="search,entry", help="search, entry, or both")
    parser.add_argument("--code", type=Path, default=common.ROOT, help="the checkout to serve")
    parser.add_argument("--label", default="", help="named in the results (e.g. the commit of --code)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    code = args.code.resolve()
    database = search.prepare_archive(args.entries)
    search.setup_django(database)
    pages = args.pages.split(",")
    mixes = {**({"search page": search_mix(args.search_urls)} if "search" in pages else {}),
             **({"entry page": entry_paths(args.entry_urls)} if "entry" in pages else {})}
    sequences = {name: by_popularity(paths) for name, paths in mixes.items()}
    env = {**os.environ, "DATABASE_URL": common.server_url(database), "DJANGO_DEBUG": "0"}
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([common.PYTHON, str(code / "manage.py"), *command], env=env, cwd=code, check=True)
    modes = args.modes.split(",")
    results, warm = {}, {}
    for mode in modes:
        with serving(code, {**env, "PAGE_CACHE": "1" if mode == "on" else "0"}, args.gunicorn.split()) as server:
            for name, paths in mixes.items():
                if mode == "on":
                    warm[name] = warm_up(paths, args.clients)
                else:
                    wrk(paths, 5, args.clients)  # every worker connected, PostgreSQL's buffers filled
                results[(name, mode)] = [measured(lambda: wrk(sequences[name], args.seconds, args.clients), server.pid)
                                         for _ in range(args.rounds)]
    write_results(args, code, modes, mixes, results, warm)


MIX_TEXT = {
    "search page": "{count} distinct search page URLs (the {fixed} of the search mix and generated ones, facets included)",
    "entry page": "{count} entry pages",
}


def configured_workers(code: Path) -> int | str:
    """The workers the checkout's gunicorn.conf.py asks for (its own computation, not a copy)."""
    config = code / "gunicorn.conf.py"
    return runpy.run_path(str(config))["workers"] if config.exists() else "gunicorn's default of 1"


def write_results(args, code: Path, modes: list[str], mixes: dict, results: dict, warm: dict) -> None:
    served = f", serving {args.label or code}" if code != common.ROOT else ""
    lines = [
        f"## HTTP, {args.entries:,} entries{' (' + args.label + ')' if args.label else ''}", "", common.machine(), "",
        f"`python -m tickerarchive.devdb exec -- .venv/bin/python bench/web.py --entries {args.entries} "
        f"--seconds {args.seconds} --clients {args.clients} " + (f"--gunicorn '{args.gunicorn}' " if args.gunicorn else "")
        + f"--rounds {args.rounds} --search-urls {args.search_urls} --entry-urls {args.entry_urls} --modes {args.modes}"
        + (f" --code {code}" if code != common.ROOT else "") + "`" + served, "",
        "gunicorn as `make run` serves (gunicorn.conf.py" + (f", with `{args.gunicorn}` over it" if args.gunicorn else "")
        + f"; {configured_workers(code)} workers), wrk with {args.clients} "
        f"connections for {args.seconds} s per round over {SEQUENCE_LENGTH:,} requests in Zipf order (exponent "
        f"{ZIPF_EXPONENT:g}) of "
        + " and of ".join(MIX_TEXT[name].format(count=len(paths), fixed=len(search_paths())) for name, paths in mixes.items())
        + ". "
        "Cache on: measured after warm-up rounds of "
        f"{WARM_UP_SECONDS} s over every distinct URL until one was {WARM_HIT_RATE:.0%} hits"
        + "".join(f"; {name}: {rounds} rounds, {seconds:.0f} s" for name, (rounds, seconds) in warm.items())
        + ". Hit rate: answers with `X-Page-Cache: hit`. CPU per request: of the gunicorn workers and of the "
        "PostgreSQL server (its processes, closed backends included), over the measured run. Median of the rounds.", "",
        "| page | page cache | requests/s | p50 | p95 | p99 | hit rate | CPU ms per request (web + PostgreSQL) "
        "| errors (connect/read/write/status/timeout) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    median = common.median
    for name, mode in itertools.product(mixes, modes):
        runs = results[(name, mode)]
        requests = [r["requests"] for r in runs]
        web = median(r["web_cpu_s"] * 1000 / n for r, n in zip(runs, requests))
        db = median(r["db_cpu_s"] * 1000 / n for r, n in zip(runs, requests))
        lines.append(
            f"| {name} | {mode} | {median(r['rate'] for r in runs):.1f} | {median(r['p50_ms'] for r in runs):.0f} ms | "
            f"{median(r['p95_ms'] for r in runs):.0f} ms | {median(r['p99_ms'] for r in runs):.0f} ms | "
            f"{median(r['hit_rate'] for r in runs):.1%} | {web + db:.1f} ({web:.1f} + {db:.1f}) | "
            + ", ".join(f"{r['errors']} ({r['connect']}/{r['read']}/{r['write']}/{r['status']}/{r['timeout']})" for r in runs)
            + " |"
        )
    section = f"http {args.entries}" + (f" {args.label}" if args.label else "")
    common.write_section(section, "\n".join(lines))


if __name__ == "__main__":
    main()
