"""The database goes away under a running gunicorn and comes back: 503 meanwhile, then it recovers."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

from tickerarchive.serving import free_port, start_gunicorn
from support import TESTS

ROOT = TESTS.parent


class ThrowAwayDatabase:
    """A cluster of its own (tickerarchive.devdb in another directory), so stopping it hurts no one."""

    def __init__(self):
        # /var/tmp: reachable for the postgres user that runs the machine's binaries as root
        self.directory = tempfile.mkdtemp(prefix="tickerarchive-faults-", dir="/var/tmp")
        os.chmod(self.directory, 0o755)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.env = {**os.environ, "DEVDB_DIR": self.directory, "DEVDB_PORT": str(port)}
        self.env.pop("DATABASE_URL", None)

    def devdb(self, command: str) -> str:
        run = subprocess.run([sys.executable, "-m", "tickerarchive.devdb", command], env=self.env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    def remove(self):
        self.devdb("stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def site(tmp_path):
    database = ThrowAwayDatabase()
    try:
        url = database.devdb("start")
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEVELOPMENT": "1"}
        manage = [sys.executable, str(ROOT / "manage.py")]
        steps = (["migrate", "--noinput"], ["ingest", str(ROOT / "samples" / "dumps")], ["collectstatic", "--noinput", "-v", "0"])
        for step in steps:
            run = subprocess.run(manage + step, env=env, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr
        port = free_port(range(8390, 8400))
        server = start_gunicorn(env, port, workers=1, log=tmp_path / "gunicorn.log")
        try:
            yield database, f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        database.remove()  # even when a step failed: no cluster is left running


def test_database_down_gives_503_and_the_site_recovers_by_itself(site):
    database, base = site
    status, _, html = get(base + "/?q=Angriff")
    assert status == 200 and "Angriff" in html
    assert get(base + "/api/entries/")[0] == 200

    database.devdb("stop")
    for _ in range(3):  # every request, not only the first after the loss
        status, headers, html = get(base + "/?q=Angriff")
        assert status == 503 and int(headers["Retry-After"]) > 0
        assert "Vorübergehend nicht erreichbar" in html and "Traceback" not in html
        assert "Content-Security-Policy" in headers
        status, headers, body = get(base + "/api/entries/")
        assert status == 503 and headers["Content-Type"] == "application/json"
        assert "nicht erreichbar" in body

    database.devdb("start")
    status, _, html = get(base + "/?q=Angriff")  # the very next request, no restart of gunicorn
    assert status == 200 and "Angriff" in html
    assert get(base + "/api/entries/")[0] == 200
