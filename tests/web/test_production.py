"""Production settings: deploy check, secret key rule, CSP, our own error pages, login throttling."""
import os
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client

from support import TESTS

MANAGE = str(TESTS.parent / "manage.py")


def manage(*args, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_changes)
    return subprocess.run([sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "archiv.example.org",
    "DJANGO_SECURE": "1",
}


def test_deploy_check_is_clean_with_production_settings():
    run = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_deploy_check_names_what_is_missing_without_the_https_switch():
    run = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DJANGO_SECURE": "0"})
    assert run.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert check in run.stderr


def test_no_start_without_a_secret_key_outside_development():
    production = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    refused = manage("check", **production)
    assert refused.returncode != 0 and "DJANGO_SECRET_KEY is not set" in refused.stderr
    assert manage("check", **production, DJANGO_DEVELOPMENT="1").returncode == 0


def test_map_tiles_host_is_allowed_for_images_when_set():
    show = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])"
    tiles = manage("shell", "-c", show, DJANGO_DEVELOPMENT="1", MAP_TILE_URL="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert tiles.stdout.splitlines()[-1] == "[\"'self'\", 'https://*.tile.openstreetmap.org']", tiles.stderr
    assert manage("shell", "-c", show, DJANGO_DEVELOPMENT="1").stdout.splitlines()[-1] == "[\"'self'\"]"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/api/entries/", "/gibt-es-nicht/", "/admin/login/", "/eintrag/999999/"])
def test_every_response_has_a_content_security_policy(client, url):
    response = client.get(url)
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_not_found_is_our_german_page(client):
    for url in ("/gibt-es-nicht/", "/eintrag/999999/", "/ort/nirgendwo/", "/kein-ticker/2025/01/01/x/"):
        page = client.get(url)
        assert page.status_code == 404 and "Seite nicht gefunden" in page.content.decode(), url


@pytest.mark.django_db
def test_server_error_is_our_german_page_without_a_traceback(settings):
    settings.ROOT_URLCONF = "slow_urls"
    page = Client(raise_request_exception=False).get("/kaputt/")
    assert page.status_code == 500
    html = page.content.decode()
    assert "Ein Fehler ist aufgetreten" in html
    assert "Traceback" not in html and "RuntimeError" not in html and "a bug" not in html


def login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.mark.django_db
def test_admin_login_is_throttled_per_user_and_address(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    User.objects.create_superuser("redaktion", password="richtiges-Passwort-42")
    User.objects.create_superuser("andere", password="anderes-Passwort-42")
    guesser = Client()
    statuses = [login(guesser, "redaktion", f"rate-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the form again four times, then locked
    locked = login(guesser, "redaktion", "richtiges-Passwort-42")
    assert locked.status_code == 429 and "Anmeldung vorübergehend gesperrt" in locked.content.decode()
    # Another account from the same address is not locked out by someone guessing this one.
    assert login(Client(), "andere", "anderes-Passwort-42").status_code == 302
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))  # the cool-off passes
    after = login(Client(), "redaktion", "richtiges-Passwort-42")
    assert after.status_code == 302 and after["Location"] == "/admin/"


def test_a_served_worker_keeps_its_long_lived_objects_out_of_garbage_collection():
    """The WSGI application is loaded with every view and its objects frozen: the collector's
    oldest generation no longer walks Django's tens of thousands of objects in the middle of a
    request (25-45 ms each time before)."""
    probe = ("import gc, sys; import tickerarchive.wsgi; "
             "print(gc.get_freeze_count(), 'tickerarchive.search' in sys.modules, len(gc.get_objects()))")
    run = subprocess.run([sys.executable, "-c", probe], env=os.environ, cwd=TESTS.parent,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    frozen, views_loaded, collectable = run.stdout.split()
    assert int(frozen) > 50_000 and views_loaded == "True" and int(collectable) < 1_000
