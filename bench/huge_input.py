"""Huge input for `ingest`: a 200 MB dump is refused by name before it is read; 50,000 entries in one dump ingest.

    .venv/bin/python -m tickerarchive.devdb exec -- .venv/bin/python bench/huge_input.py

Prints exit code, message, wall time and the peak RSS of each ingest process. Works on a
scratch database, dropped at the end.
"""
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, manage_command, scratch_database  # noqa: E402
from ingest.render import DraftEntry, render_dump  # noqa: E402


def measured_ingest(env, path) -> tuple[int, str, float, float]:
    """One ingest process: exit code, output, wall seconds and its own peak RSS in MB (from wait4)."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.monotonic()
        process = subprocess.Popen(manage_command("ingest", "--no-link", str(path)), env=env, cwd=ROOT,
                                   stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        output.seek(0)
        return os.waitstatus_to_exitcode(status), output.read().strip(), seconds, usage.ru_maxrss / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, scratch_database("tickerarchive_bench_huge") as (env, _):
        big = Path(tmp) / "riesig_2025-11-14.txt"
        with big.open("wb") as f:
            f.truncate(200 * 10**6)  # sparse: 200 MB on paper, no disk used
        code, output, seconds, peak = measured_ingest(env, big)
        print(f"200 MB dump: exit {code} in {seconds:.1f} s, peak RSS {peak:.0f} MB")
        print("  " + output.replace("\n", "\n  "))

        newest = datetime(2025, 11, 14, 23, 59)
        entries = [DraftEntry(f"{newest - timedelta(minutes=n):%H:%M}", f"Meldung Nummer {n} zur Lage an der Front",
                              [f"Text der Meldung {n}: Drohnen, Hafen, Energie und Gespräche in Kiew und Odessa."])
                   for n in range(50_000)]
        long_dump = Path(tmp) / "lang_2025-11-14.txt"
        long_dump.write_text(render_dump(title="Test-Liveticker", entries=entries, page_datetime=newest.replace(hour=0, minute=10)))
        code, output, seconds, peak = measured_ingest(env, long_dump)
        size = long_dump.stat().st_size / 2**20
        print(f"50,000 entries in one dump ({size:.1f} MiB): exit {code} in {seconds:.1f} s, peak RSS {peak:.0f} MB")
        print("  " + output.splitlines()[-1])  # the summary (above it: one warning per minute of the clock change)


if __name__ == "__main__":
    main()
