"""A scratch database beside the one in DATABASE_URL, migrated, dropped afterwards: benchmarks never touch the archive."""
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@contextlib.contextmanager
def scratch_database(name: str, keep: bool = False):
    """Yields (environment for commands on the scratch database `name`, whether it was kept from before).

    keep: leave the database for the next run, which then reuses it as it is.
    """
    server = os.environ["DATABASE_URL"]
    admin_url = _with_database(server, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        kept = keep and admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if not kept:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": _with_database(server, name)}
    try:
        if not kept:
            manage(env, "migrate", "--noinput", "-v", "0")
        yield env, kept
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*MANAGE, *args], env=env, cwd=ROOT, check=check, capture_output=True, text=True)
