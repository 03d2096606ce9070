"""A per-request statement timeout: a slow query is cut and answered with a friendly page."""
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client

from support import TESTS, subprocess_database_url
from tickerarchive.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow_site(settings):
    settings.ROOT_URLCONF = "slow_urls"
    settings.WEB_STATEMENT_TIMEOUT_MS = 300
    return Client(raise_request_exception=False)


def test_slow_query_is_cut_with_a_friendly_page(slow_site):
    page = slow_site.get("/langsam/")
    assert page.status_code == 503
    html = page.content.decode()
    assert "zu lange gedauert" in html and "Traceback" not in html and "pg_sleep" not in html
    assert page["Retry-After"]


def test_slow_api_query_is_cut_with_a_json_error(slow_site):
    answer = slow_site.get("/api/langsam/")
    assert answer.status_code == 503 and answer["Content-Type"] == "application/json"
    assert "zu lange gedauert" in answer.json()["errors"]["__all__"][0]


def test_the_timeout_ends_with_the_request(slow_site):
    assert slow_site.get("/").status_code == 200
    # Same connection, outside a request: a query longer than the web limit runs to the end.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.5), current_setting('statement_timeout')")
        assert cursor.fetchone()[1] == "0"


@pytest.mark.django_db(transaction=True)
def test_ingest_is_never_cut_off(tmp_path):
    # A limit of 1 ms would cut nearly every statement of a web request; ingest must not care.
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "WEB_STATEMENT_TIMEOUT_MS": "1"}
    run = subprocess.run([sys.executable, str(TESTS.parent / "manage.py"), "ingest", str(TESTS.parent / "samples" / "dumps")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert Entry.objects.count() == 35
