"""Load: 60 s at 32 concurrent clients on search, entry and day pages against gunicorn.

    .venv/bin/python -m tickerarchive.devdb exec -- .venv/bin/python bench/load.py   # or: make load

Builds a scratch database with 20,000 generated entries (generate_dumps --seed 7, ingest; the
gazetteer comes with the template copy), serves it with gunicorn on 127.0.0.1 (loopback only), warms up, then runs wrk
(`apt-get install wrk`) with load.lua rotating through search, entry and day URLs. Prints
requests served, errors (socket errors and every non-2xx answer) and the RSS of each
gunicorn worker before and after; exits 1 on any error. Stops its server and drops the
scratch database by itself.
"""
import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, scratch_database  # noqa: E402
from bench.common import manage_in as manage  # noqa: E402
from tickerarchive.serving import free_port, start_gunicorn  # noqa: E402

HERE = Path(__file__).resolve().parent
URLS_CODE = """
import random, re, django
from urllib.parse import quote
django.setup()
from tickerarchive.models import Entry
from tickerarchive.browse import local_day
rng = random.Random(7)
ids = list(Entry.objects.values_list("pk", flat=True))
sample = Entry.objects.select_related("ticker").filter(pk__in=rng.sample(ids, 300))
words = sorted({w for e in sample for w in re.findall(r"[A-Za-zÄÖÜäöüß]{6,}", e.headline)})
for e in sample:
    print(f"/eintrag/{e.pk}/")
    d = local_day(e.published_at)
    print(f"/{e.ticker.slug}/{d:%Y/%m/%d}/")
for n in range(300):
    a, b = (quote(w) for w in rng.sample(words, 2))
    print(rng.choice([f"/?q={a}", f"/?q={a}+{b}", f"/?q={a}&order=relevance", f"/?q=%22{a}%22", f"/?q={a}+-{b}"]))
"""


def worker_rss_mb(master: int) -> dict[int, float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    rss = {}
    for pid in map(int, children):
        status = Path(f"/proc/{pid}/status").read_text()
        rss[pid] = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024
    return rss


def median_ms(port: int, paths: list[str]) -> float:
    """One client alone: the median time of these pages, for reading the figures under load."""
    times = []
    for path in paths:
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
            response.read()
        times.append((time.monotonic() - started) * 1000)
    return statistics.median(times)


def wrk(port: int, seconds: int, clients: int, urls: Path, timeout: int, sample=None) -> str:
    """wrk's report; sample() is called every 10 s while it runs."""
    run = subprocess.Popen(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", f"{timeout}s",
                            "-s", str(HERE / "load.lua"), f"http://127.0.0.1:{port}", "--", str(urls)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while sample is not None:
        try:
            run.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            sample()
    stdout, stderr = run.communicate()
    if run.returncode != 0:
        raise SystemExit(f"wrk failed: {stdout}{stderr}")
    return stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=30, help="seconds of load before the measured run")
    parser.add_argument("--timeout", type=int, default=30,
                        help="seconds a client waits for an answer before wrk counts an error")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for the next run (which reuses it)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    name = f"tickerarchive_bench_load_{options.entries}"
    with tempfile.TemporaryDirectory() as tmp, scratch_database(name, keep=options.keep) as (env, kept):
        env = {**env, "DJANGO_SETTINGS_MODULE": "tickerarchive.settings"}
        started = time.monotonic()
        if not kept:
            manage(env, "generate_dumps", "--entries", str(options.entries), "--seed", "7", "--out", f"{tmp}/dumps")
            manage(env, "ingest", f"{tmp}/dumps")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        urls = Path(tmp) / "urls.txt"
        paths = subprocess.run([sys.executable, "-c", URLS_CODE], env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.split()
        random.Random(7).shuffle(paths)
        urls.write_text("\n".join(paths) + "\n")
        print(f"{options.entries} entries {'kept from the last run' if kept else 'ingested'}, "
              f"ready in {time.monotonic() - started:.0f} s; {len(paths)} URLs "
              f"({sum(p.startswith('/?') for p in paths)} searches, {sum(p.startswith('/eintrag/') for p in paths)} entries, "
              f"the rest day pages)")

        port = free_port()
        server = start_gunicorn(env, port, options.workers, Path(tmp) / "gunicorn.log")
        try:
            # warm-up: every worker has imported, compiled and cached what it needs
            wrk(port, options.warm_up, options.clients, urls, options.timeout)
            kinds = {"search": "/?", "entry": "/eintrag/", "day": "/"}
            alone = {kind: median_ms(port, [p for p in paths if p.startswith(prefix) and
                                            (kind != "day" or not p.startswith(("/?", "/eintrag/")))][:15])
                     for kind, prefix in kinds.items()}
            print("one client alone, median: " + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in alone.items()))
            before = worker_rss_mb(server.pid)
            series = [before]
            output = wrk(port, options.seconds, options.clients, urls, options.timeout,
                         sample=lambda: series.append(worker_rss_mb(server.pid)))
            after = worker_rss_mb(server.pid)
            series.append(after)
        finally:
            server.terminate()
            server.wait(timeout=30)
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        socket_errors = sum(map(int, re.findall(r"(?:connect|read|write|timeout) (\d+)", output)))
        non2xx = int(re.search(r"non-2xx: (\d+)", output).group(1))
        print(output.strip())
        print(f"requests served: {requests} in {options.seconds} s ({requests / options.seconds:.0f}/s) "
              f"at {options.clients} clients, {options.workers} gunicorn workers")
        print(f"errors: {socket_errors + non2xx} (socket errors {socket_errors}, non-2xx {non2xx})")
        for pid in sorted(before):
            every_10_s = " ".join(f"{sample.get(pid, float('nan')):.1f}" for sample in series)
            print(f"worker {pid}: RSS {before[pid]:.1f} MB before, {after.get(pid, float('nan')):.1f} MB after "
                  f"(every 10 s: {every_10_s})")
        print(f"workers replaced during the run: {len(set(after) - set(before))}")
        return 0 if socket_errors + non2xx == 0 and set(after) == set(before) else 1


if __name__ == "__main__":
    sys.exit(main())
