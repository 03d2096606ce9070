"""A primary and a streaming replica on loopback, the archive served by gunicorn on top.

Everything as in production: dumps ingested on the primary with `manage.py`, the web
process configured only through DATABASE_URL and DATABASE_REPLICA_URLS. Which server ran a
reader's query is read from the servers' own statement logs (log_statement=all): every
search carries a unique word, so a log that contains it executed that search.
"""
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from tickerarchive.devdb import machine_bin_dir
from support import FIXTURE_DUMPS, TESTS
from tickerarchive.replicaset import ReplicaSet
from tickerarchive.serving import free_port

ROOT = TESTS.parent
DUMPS = FIXTURE_DUMPS
HEALTH_CHECK_INTERVAL = 0.5
MAX_LAG = 3
EDITOR, EDITOR_PASSWORD = "redakteurin", "pw-redaktion"

pytestmark = pytest.mark.skipif(machine_bin_dir() is None, reason="needs the machine's PostgreSQL binaries")


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Archive:
    """The archive behind the replica set, seen from outside as a reader or an editor; the
    editor signs in on the first web process and may be served by either."""

    def __init__(self, replica_set: ReplicaSet, base_url: str, other_url: str):
        self.replica_set, self.base_url, self.other_url = replica_set, base_url, other_url
        self.editor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, opener=None, base_url: str | None = None) -> tuple[int, str]:
        try:
            with (opener or urllib.request.build_opener()).open((base_url or self.base_url) + path, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def etag(self, path: str) -> str:
        """The ETag an anonymous reader gets: the page cache's data version of the database that served it."""
        with urllib.request.urlopen(self.base_url + path, timeout=20) as response:
            return response.headers["ETag"]

    def log_in_editor(self) -> None:
        _, form = self.get("/admin/login/", self.editor)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"username": EDITOR, "password": EDITOR_PASSWORD,
                                       "csrfmiddlewaretoken": token, "next": "/admin/"}).encode()
        with self.editor.open(self.base_url + "/admin/login/", data=data, timeout=20) as response:
            assert response.url.endswith("/admin/"), "login failed"

    def search(self, words: str) -> tuple[int, str, str]:
        """Search as an anonymous reader; the marker word shows in the statement log of the
        server that ran the search."""
        marker = "probe" + uuid.uuid4().hex[:12]
        status, body = self.get("/?" + urllib.parse.urlencode({"q": f"{words} OR {marker}"}))
        return status, body, marker

    def served_by(self, marker: str) -> set[str]:
        return {cluster.name for cluster in (self.replica_set.primary, self.replica_set.replica)
                if marker in cluster.logfile.read_text(errors="replace")}

    def health(self) -> tuple[int, dict]:
        status, body = self.get("/healthz")
        return status, {db["alias"]: db for db in json.loads(body)["databases"]}


def wait_for(condition, timeout: float = 15, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message}")


@pytest.fixture(scope="module")
def archive():
    directory = Path(tempfile.mkdtemp(prefix="tickerarchive-replicas-"))
    replica_set = ReplicaSet(directory, free_port(range(54440, 54450)), free_port(range(54445, 54455)), settings=("log_statement=all",))
    servers = []
    try:
        replica_set.create()
        primary_only = {**os.environ, "DATABASE_URL": replica_set.primary.url}
        primary_only.pop("DATABASE_REPLICA_URLS", None)
        manage(primary_only, "migrate", "--noinput")
        manage(primary_only, "ingest", str(DUMPS / "picture-mid-body.txt"), str(DUMPS / "picture-credit-line.txt"))
        manage(primary_only, "shell", "-c",  # one process for both: each start of Django costs seconds
               "from django.contrib.auth.models import User, Group; from django.core.management import call_command; "
               f"u = User.objects.create_user('{EDITOR}', password='{EDITOR_PASSWORD}', is_staff=True); "
               "u.groups.add(Group.objects.get(name='editors')); "
               "call_command('collectstatic', interactive=False, verbosity=0)")
        replica_set.wait_until_replayed()
        web_env = {**primary_only, **replica_set.environment(), "DJANGO_DEBUG": "0",
                   "DATABASE_HEALTH_CHECK_INTERVAL": str(HEALTH_CHECK_INTERVAL), "DATABASE_REPLICA_MAX_LAG": str(MAX_LAG)}
        # Two web processes, as behind a load balancer: nothing but the databases is shared.
        ports = [free_port(range(8440, 8450)), free_port(range(8445, 8455))]
        for port in ports:
            log = directory / f"gunicorn-{port}.log"
            servers.append((subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "tickerarchive.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", "--log-file", str(log)], cwd=ROOT, env=web_env), log))
        web = Archive(replica_set, *(f"http://127.0.0.1:{port}" for port in ports))
        for (server, log), url in zip(servers, (web.base_url, web.other_url)):
            wait_for(lambda: _answers(url, server, log), message="gunicorn")
        yield web
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=10)
        replica_set.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _answers(url: str, server: subprocess.Popen, log: Path) -> bool:
    if server.poll() is not None:
        raise AssertionError("gunicorn exited:\n" + log.read_text(errors="replace")[-3000:])
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def entry_id(web: Archive, words: str) -> int:
    status, body = web.get("/api/entries/?" + urllib.parse.urlencode({"q": words}))
    assert status == 200, body
    return json.loads(body)["results"][0]["id"]


def test_readers_read_the_entries_ingested_on_the_primary_from_the_replica(archive):
    status, page, marker = archive.search("Wadephul")
    assert status == 200
    assert "reist nach Brüssel</a>" in page  # the search word itself is highlighted
    assert archive.served_by(marker) == {"replica"}

    status, entry_page = archive.get(f"/eintrag/{entry_id(archive, 'Macron Selenskyj')}/")
    assert status == 200 and "Macron empfängt Selenskyj in Paris" in entry_page

    # Exports stream after the view has returned, the feed renders in its own class: both read the replica too.
    for path in ("/api/entries.csv", "/api/entries.jsonl", "/feed/"):
        marker = "probe" + uuid.uuid4().hex[:12]
        status, body = archive.get(path + "?" + urllib.parse.urlencode({"q": f"Wadephul OR {marker}"}))
        assert status == 200 and "Brüssel" in body, path
        assert archive.served_by(marker) == {"replica"}, path

    status, health = archive.health()
    assert status == 200
    assert health["default"]["role"] == "primary" and health["default"]["state"] == "up"
    assert health["replica1"]["role"] == "replica" and health["replica1"]["state"] == "up"
    assert health["replica1"]["lag_seconds"] == 0 and health["replica1"]["serves_reads"]


def test_an_editor_sees_a_correction_at_once_and_readers_once_the_replica_is_too_far_behind(archive):
    primary, replica = archive.replica_set.primary, archive.replica_set.replica
    pk = entry_id(archive, "Wadephul")
    archive.log_in_editor()
    archive.replica_set.wait_until_replayed()  # the replica is current up to the correction
    replica.psql("SELECT pg_wal_replay_pause()")
    try:
        replica_page = archive.etag(f"/eintrag/{pk}/")
        primary.psql(f"UPDATE tickerarchive_entry SET headline = 'Wadephul reist nach Luxemburg' WHERE id = {pk}")
        # The page cache reads the data version where the page is read: the replica's has not moved.
        assert archive.etag(f"/eintrag/{pk}/") == replica_page

        assert "Wadephul reist nach Luxemburg" in archive.get(f"/eintrag/{pk}/", archive.editor)[1]
        # Signed in on one web process, signed in on the other: the session is in the database.
        assert "Wadephul reist nach Luxemburg" in archive.get(f"/eintrag/{pk}/", archive.editor, archive.other_url)[1]
        # A reader may see the replica a moment behind ...
        assert "Wadephul reist nach Brüssel" in archive.get(f"/eintrag/{pk}/")[1]
        # ... but not more than DATABASE_REPLICA_MAX_LAG: then the primary answers.
        wait_for(lambda: "Wadephul reist nach Luxemburg" in archive.get(f"/eintrag/{pk}/")[1],
                 timeout=MAX_LAG + 10, message="readers to fall back to the primary")
        assert archive.etag(f"/eintrag/{pk}/") != replica_page
        status, health = archive.health()
        assert status == 200 and health["replica1"]["state"] == "up"
        assert health["replica1"]["lag_seconds"] > MAX_LAG and not health["replica1"]["serves_reads"]
        status, _, marker = archive.search("Wadephul")
        assert status == 200 and archive.served_by(marker) == {"primary"}
    finally:
        replica.psql("SELECT pg_wal_replay_resume()")
    archive.replica_set.wait_until_replayed()
    wait_for(lambda: archive.served_by(archive.search("Wadephul")[2]) == {"replica"},
             message="reads to return to the caught-up replica")


def test_reads_fall_back_to_the_primary_while_the_replica_is_down_and_return_after(archive):
    replica_set = archive.replica_set
    replica_set.replica.stop()
    try:
        # At once: if the health check has not noticed yet, the failed read is repeated on the primary.
        status, page, marker = archive.search("Wadephul")
        assert status == 200 and "reist nach" in page
        assert archive.served_by(marker) == {"primary"}
        status, health = archive.health()
        assert status == 200 and health["replica1"]["state"] == "down" and not health["replica1"]["serves_reads"]
        status, page, marker = archive.search("Macron")
        assert status == 200 and "empfängt Selenskyj in Paris</a>" in page and archive.served_by(marker) == {"primary"}
    finally:
        replica_set.start_replica()
    wait_for(lambda: archive.served_by(archive.search("Wadephul")[2]) == {"replica"},
             message="reads to return to the restarted replica")
    assert archive.health()[1]["replica1"]["state"] == "up"


def test_health_is_503_while_the_primary_is_down_and_readers_still_get_pages(archive):
    replica_set = archive.replica_set
    replica_set.primary.stop()
    try:
        wait_for(lambda: archive.health()[0] == 503, message="/healthz to report the primary down")
        status, health = archive.health()
        assert health["default"]["state"] == "down" and health["replica1"]["state"] == "up"
        status, page, marker = archive.search("Wadephul")
        assert status == 200 and "reist nach" in page and archive.served_by(marker) == {"replica"}
    finally:
        replica_set.start_primary()
