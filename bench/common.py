"""What the benchmarks share: generated corpora, databases made from one template, results.

Every benchmark works on the PostgreSQL server of DATABASE_URL but in databases of its
own (`bench_*`), so the development database is never touched.
"""
from __future__ import annotations

import contextlib
import functools
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
PYTHON = sys.executable
TEMPLATE = "bench_template"


def server_url(database: str) -> str:
    """DATABASE_URL with another database name."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{database}"))


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(server_url("postgres"), autocommit=True)


def manage(*args: str, database: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": server_url(database)}
    return subprocess.run(manage_command(*args), env=env, check=True, **kwargs)


def corpus(entries: int, seed: int = 1) -> Path:
    """A generated corpus in bench/out, written once (same seed, same bytes)."""
    path = OUT / f"corpus-{entries}-{seed}"
    done = path / ".complete"
    if not done.exists():
        started = time.monotonic()
        manage("generate_dumps", "--entries", str(entries), "--seed", str(seed), "--out", str(path), database="postgres")
        done.write_text(f"{time.monotonic() - started:.1f}\n")
    return path


def generation_seconds(path: Path) -> float:
    return float((path / ".complete").read_text())


@functools.cache
def template() -> str:
    """A migrated database with the gazetteer loaded; fresh ones are copied from it."""
    with admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE]).fetchone()
    if not exists:
        with admin_connection() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
    # Once per run: a template made before a new migration would give benchmarks the old schema.
    manage("migrate", "--noinput", "-v", "0", database=TEMPLATE)
    if not exists:
        manage("load_gazetteer", database=TEMPLATE, stdout=subprocess.DEVNULL)
    return TEMPLATE


def fresh_database(name: str) -> str:
    source = template()
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for attempt in range(60):  # another benchmark may be copying the template right now
            try:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(1)
        else:
            raise RuntimeError(f"the template {source} stays in use")
    return name


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def scratch_database(name: str, keep: bool = False):
    """Yields (environment for commands on the database `name`, whether it was kept from
    before): a fresh copy of the template, dropped afterwards unless `keep`, in which case the
    next run reuses it as it is."""
    with admin_connection() as conn:
        kept = keep and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    if not kept:
        fresh_database(name)
    try:
        yield {**os.environ, "DATABASE_URL": server_url(name)}, kept
    finally:
        if not keep:
            drop_database(name)


def manage_in(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """manage.py with the environment of a scratch database, its output captured."""
    return subprocess.run(manage_command(*args), env=env, cwd=ROOT, check=check, capture_output=True, text=True)


def manage_command(*args: str) -> list[str]:
    return [PYTHON, str(ROOT / "manage.py"), *args]


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run a command; (wall seconds, CPU seconds, peak RSS in MB) of that process alone.
    CPU time is what the process itself spent: on a machine shared with other jobs it varies
    far less than wall time."""
    started = time.monotonic()
    with (OUT / "last-run.log").open("wb") as log:  # the parser's warnings on generated quirks
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def postmaster_pid() -> int:
    with admin_connection() as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def children_cpu_seconds(parent: int) -> float:
    """CPU time of a process's children: those alive now, and those it has reaped (its
    cutime/cstime), so PostgreSQL backends that closed during a run still count."""
    def stat(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    total = sum(int(field) for field in stat(parent)[13:15])  # cutime, cstime
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        with contextlib.suppress(OSError):
            total += sum(int(field) for field in stat(int(child))[11:13])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def server_cpu() -> float | None:
    """CPU seconds the database server has used so far: what a command cost PostgreSQL,
    which its own CPU time leaves out. None when the server's files are out of reach
    (another machine)."""
    try:
        return children_cpu_seconds(postmaster_pid())
    except (OSError, ValueError, IndexError):
        return None


def machine() -> str:
    memory_kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
    with admin_connection() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in ("fsync", "shared_buffers")}
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `nproc` {os.cpu_count()}, {memory_kb / 2**20:.1f} GiB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {version} (fsync {settings['fsync']}, "
        f"shared_buffers {settings['shared_buffers']}), machine shared with other jobs"
    )


def median(values) -> float:
    return statistics.median(values)


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write_section(name: str, text: str) -> None:
    """Replace this benchmark's section of bench/RESULTS.md (between its markers)."""
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(current)
    print(text)
