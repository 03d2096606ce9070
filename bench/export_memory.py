"""Peak memory of the CSV and JSON Lines exports: the same for 20,000 rows as for 200,000.

    .venv/bin/python -m tickerarchive.devdb exec -- .venv/bin/python bench/export_memory.py

Works in its own database (`<name>_bench` next to DATABASE_URL's): creates it, migrates,
loads the gazetteer, generates and ingests `--entries` entries once (about 1,000 a second;
later runs reuse them). Each export then runs in a fresh process that requests it through
the Django test client and reads the streamed response piece by piece, as a WSGI server
would; that process reports its peak RSS (ru_maxrss). The control row holds the same rows
in a list instead, which is what the export avoids: its peak grows with the row count.
Then a gunicorn worker (one, threaded, as `make run` starts them, on --port) serves the smaller
and then the whole export over HTTP; its high-water mark (VmHWM) is read after each.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def bench_database_url() -> str:
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=url.path.rstrip("/") + "_bench"))


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tickerarchive.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_database(database_url: str) -> None:
    import psycopg

    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def prepare(entries: int, seed: int) -> None:
    """Migrate, load places and people, ingest the generated dumps (skipped when done before)."""
    from django.core.management import call_command

    from tickerarchive.models import Entry, Place

    call_command("migrate", verbosity=0, interactive=False)
    if not Place.objects.exists():
        call_command("load_gazetteer")
    dumps = OUT / f"dumps-{entries}-{seed}"
    if not dumps.exists():
        call_command("generate_dumps", entries=entries, seed=seed, out=dumps)
    if Entry.objects.count() < entries:
        print(f"ingesting {dumps} (about {entries // 1000} s) …", flush=True)
        call_command("ingest", str(dumps))


def date_from_for(rows: int) -> tuple[str, int]:
    """The first day of a date_from filter that leaves about `rows` of the newest entries, and their count."""
    from tickerarchive.browse import local_day
    from tickerarchive.filters import EntryFilter
    from tickerarchive.models import Entry

    moment = Entry.objects.order_by("-published_at", "-pk").values_list("published_at", flat=True)[rows - 1]
    day = local_day(moment).isoformat()
    return day, EntryFilter({"date_from": day}, queryset=Entry.objects.all()).qs.count()


def consume(kind: str, params: dict) -> dict:
    """In the measuring process: one export, read as a server would send it; the peak RSS afterwards."""
    from django.test import Client

    from tickerarchive.export import export_queryset
    from tickerarchive.filters import EntryFilter
    from tickerarchive.models import Entry

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    size = lines = 0
    if kind == "list":  # the control: every row in memory at once
        rows = list(export_queryset(EntryFilter(params, queryset=Entry.objects.all()).qs))
        lines = len(rows)
    else:
        response = Client(HTTP_HOST="localhost").get(f"/api/entries.{kind}", params)
        assert response.status_code == 200, response.status_code
        end_of_line = b"\r\n" if kind == "csv" else b"\n"  # csv: bodies hold \n, rows end in \r\n
        for piece in response.streaming_content:
            size += len(piece)
            lines += piece.count(end_of_line)
        response.close()
    return {"seconds": time.perf_counter() - started, "bytes": size, "lines": lines,
            "rss_before_kib": before, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def measure(kind: str, params: dict, database_url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--consume", kind, json.dumps(params)],
        check=True, capture_output=True, text=True, env={**os.environ, "DATABASE_URL": database_url},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def worker_high_water_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def download(url: str) -> int:
    size = 0
    with urllib.request.urlopen(url, timeout=600) as response:
        while piece := response.read(2**20):
            size += len(piece)
    return size


def gunicorn_worker(kind: str, cases: list, port: int, database_url: str) -> list[tuple[str, float, float]]:
    """(case, MiB received, worker VmHWM in MiB after it) for the cases in order, one fresh worker."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tickerarchive.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url}, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                download(f"{base}/api/openapi.json")
                break
            except OSError:
                time.sleep(0.2)
        [worker] = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        results = [("(started)", 0.0, worker_high_water_mib(int(worker)))]
        for _, label, params in cases:
            size = download(f"{base}/api/entries.{kind}?{urlencode(params)}")
            results.append((label, size / 2**20, worker_high_water_mib(int(worker))))
        return results
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000, help="entries in the bench database")
    parser.add_argument("--small", type=int, default=20_000, help="rows of the smaller export")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; medians are shown")
    parser.add_argument("--port", type=int, default=8100, help="port for the gunicorn worker")
    parser.add_argument("--consume", nargs=2, metavar=("KIND", "PARAMS"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.consume:  # the measuring process
        django_setup(os.environ["DATABASE_URL"])
        print(json.dumps(consume(args.consume[0], json.loads(args.consume[1]))))
        return

    database_url = bench_database_url()
    create_database(database_url)
    django_setup(database_url)
    prepare(args.entries, args.seed)
    from tickerarchive.models import Entry

    total = Entry.objects.count()
    day, small = date_from_for(args.small)
    cases = [(small, f"{small:,} rows (date_from={day})", {"date_from": day}), (total, f"{total:,} rows (all)", {})]
    print(f"bench database: {total:,} entries; runs per case: {args.repeat}, medians shown\n")
    print(f"{'export':<8} {'result':<34} {'MiB sent':>9} {'seconds':>8} {'rows/s':>8} {'peak RSS MiB':>13} {'before':>7}")
    peaks = {}
    for kind in ("csv", "jsonl", "list"):
        for rows, label, params in cases:
            runs = [measure(kind, params, database_url) for _ in range(args.repeat)]
            seconds = statistics.median(r["seconds"] for r in runs)
            peak = statistics.median(r["peak_rss_kib"] for r in runs) / 1024
            before = statistics.median(r["rss_before_kib"] for r in runs) / 1024
            assert runs[0]["lines"] == rows + (1 if kind == "csv" else 0), runs[0]  # csv: and a header
            peaks[kind, bool(params)] = peak
            print(f"{kind if kind != 'list' else 'control':<8} {label:<34} {runs[0]['bytes'] / 2**20:>9.1f} "
                  f"{seconds:>8.1f} {rows / seconds:>8,.0f} {peak:>13.1f} {before:>7.1f}")
    print("\npeak RSS, all rows / fewer rows:")
    for kind in ("csv", "jsonl", "list"):
        print(f"  {kind if kind != 'list' else 'control (list)':<15} {peaks[kind, False] / peaks[kind, True]:.2f}")

    print(f"\ngunicorn worker over HTTP (port {args.port}), high-water mark after each request:")
    for kind in ("csv", "jsonl"):
        for label, received, high_water in gunicorn_worker(kind, cases, args.port, database_url):
            print(f"  {kind:<6} {label:<34} {received:>7.1f} MiB received   VmHWM {high_water:>6.1f} MiB")


if __name__ == "__main__":
    main()

