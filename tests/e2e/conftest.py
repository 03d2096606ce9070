"""Real-browser tests: Playwright's Python API driving Debian's Chromium against a live server.

One browser and one ingested archive (the sample dumps and the gazetteer) serve the whole
module; the server runs in a thread against the test database. Skipped without Chromium.
"""
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from browser_support import CHROMIUM, EDITOR, SCREENSHOTS

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dumps"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(config, items):
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        for item in items:
            if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would take the ORM calls
    # of the fixtures (the archive's flush) for calls from async code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The archive served on a real port, filled once; emptied again afterwards, so that the
    other tests find the test database as migrate left it (flush re-runs post_migrate)."""
    from django.contrib.auth.models import Group, User
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from pytest_django.live_server_helper import LiveServer

    from tickerarchive.roles import EDITORS

    with django_db_blocker.unblock():
        # Never fill or flush a real database: the tests' django_db mark makes pytest-django create the test one.
        assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
        call_command("load_gazetteer", verbosity=0)
        call_command("ingest", str(SAMPLES), verbosity=0)
        editor = User.objects.create_user(EDITOR[0], password=EDITOR[1], is_staff=True)
        editor.groups.add(Group.objects.get(name=EDITORS))
        server = LiveServer(f"127.0.0.1:{os.environ.get('E2E_PORT', '0')}")
        try:
            yield server.url
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            ContentType.objects.clear_cache()  # flush gave the content types new ids
            # While Playwright's loop ran, Django kept connections per async context; one may be
            # left open and would stop pytest-django from dropping the test database.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def page(site, browser):
    """A fresh browser tab on the live archive; its screenshot is saved as <test name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=site, locale="de-DE", viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    # A route handler may still be fetching what the browser asked for after the test's last
    # step (the tab's icon); closing under it raises in the next test's setup.
    tab.unroute_all(behavior="ignoreErrors")
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
