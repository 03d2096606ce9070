"""HTTP benchmark: the search page and the entry page under gunicorn, 16 concurrent clients.

    python -m tickerarchive.devdb exec -- .venv/bin/python bench/web.py --entries 1000000 --seconds 60

Serves the archive of bench/search.py (database `bench_search_<entries>`, made by that
benchmark) with gunicorn as `make run` does, on 127.0.0.1:8500, and runs wrk (apt package
`wrk`) with bench/rotate.lua, which rotates through the query mix of bench/search.py
(search page, with facets) and through entry pages of random entries. Requests per second,
p50/p95/p99 and errors go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
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


def search_paths() -> list[str]:
    from tickerarchive.models import Entry

    newest = Entry.objects.order_by("-published_at").values_list("published_at", flat=True).first()
    dates = {"newest": newest.date().isoformat(), "month_ago": (newest - timedelta(days=30)).date().isoformat()}
    paths = []
    for _label, template in search.QUERIES:
        params = {k: v.format(**dates) for k, v in template.items()}
        for order in search.ORDERS:
            if order == "newest" or params.get("q"):
                paths.append("/?" + urlencode({**params, "order": order}))
    return paths


def entry_paths(count: int = 2000) -> list[str]:
    from tickerarchive.models import Entry

    low, high = Entry.objects.order_by("pk").values_list("pk", flat=True).first(), Entry.objects.order_by("-pk").values_list("pk", flat=True).first()
    chosen = random.Random(1).sample(range(low, high + 1), min(count, high - low + 1))
    existing = set(Entry.objects.filter(pk__in=chosen).values_list("pk", flat=True))
    return [f"/eintrag/{pk}/" for pk in chosen if pk in existing]


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
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (make run uses 3)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    database = search.prepare_archive(args.entries)
    search.setup_django(database)
    pages = {"search page": search_paths(), "entry page": entry_paths()}
    env = {**os.environ, "DATABASE_URL": common.server_url(database), "DJANGO_DEBUG": "0"}
    subprocess.run([common.PYTHON, str(common.ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"], env=env, check=True)
    server = subprocess.Popen(
        [str(Path(common.PYTHON).parent / "gunicorn"), "tickerarchive.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(args.workers), "--chdir", str(common.ROOT)],
        env=env, stdout=subprocess.DEVNULL, stderr=open(common.OUT / "gunicorn.log", "wb"),
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/eintrag/{pages['entry page'][0].split('/')[2]}/", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        for paths in pages.values():  # warm-up: every worker connected, caches filled
            wrk(paths, 5, args.clients)
        results = {name: [wrk(paths, args.seconds, args.clients) for _ in range(args.rounds)] for name, paths in pages.items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = [
        f"## HTTP, {args.entries:,} entries", "", common.machine(), "",
        f"`python -m tickerarchive.devdb exec -- .venv/bin/python bench/web.py --entries {args.entries} "
        f"--seconds {args.seconds} --clients {args.clients} --workers {args.workers} --rounds {args.rounds}`", "",
        f"gunicorn with {args.workers} sync workers (as `make run`), wrk with {args.clients} connections for "
        f"{args.seconds} s per round, paths rotating: the search page over the {len(pages['search page'])} queries "
        f"of the search mix (facets included), the entry page over {len(pages['entry page'])} random entries. "
        "Median of the rounds.", "",
        "| page | requests/s | p50 | p95 | p99 | errors (connect/read/write/status/timeout) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, runs in results.items():
        lines.append(
            f"| {name} | {common.median(r['rate'] for r in runs):.1f} | {common.median(r['p50_ms'] for r in runs):.0f} ms | "
            f"{common.median(r['p95_ms'] for r in runs):.0f} ms | {common.median(r['p99_ms'] for r in runs):.0f} ms | "
            + ", ".join(f"{r['errors']} ({r['connect']}/{r['read']}/{r['write']}/{r['status']}/{r['timeout']})" for r in runs)
            + " |"
        )
    common.write_section(f"http {args.entries}", "\n".join(lines))


if __name__ == "__main__":
    main()
