"""SIGKILL during `ingest`, then a re-run: exactly the archive of one clean run."""
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from ingest.render import DraftEntry, DraftPicture, render_dump
from support import TESTS, subprocess_database_url
from tickerarchive.models import Entry, IngestEvent, Picture, SourceDump, Ticker

WORDS = "Angriff Drohnen Hafen Kiew Region Odessa Waffenruhe Gespräche Ministerium Front Energie Nacht".split()


def write_corpus(directory, dumps: int, entries_per_dump: int) -> None:
    rng = random.Random(7)
    for day in range(dumps):
        opened = datetime(2025, 1, 1, 0, 10) + timedelta(days=day)
        minutes = sorted(rng.sample(range(60, 24 * 60), entries_per_dump), reverse=True)
        entries = [
            DraftEntry(f"{m // 60:02d}:{m % 60:02d}", f"Meldung {day}-{n}: " + " ".join(rng.choices(WORDS, k=5)),
                       [" ".join(rng.choices(WORDS, k=40)) + "."],
                       [DraftPicture(None, f"Bild {day}-{n}: " + " ".join(rng.choices(WORDS, k=6)) + ".", "dpa")] if n % 5 == 0 else [])
            for n, m in enumerate(minutes)
        ]
        text = render_dump(title="Test-Liveticker", entries=entries, page_datetime=opened)
        (directory / f"test-ticker_{opened:%Y-%m-%d}.txt").write_text(text, encoding="utf-8")


def ingest_process(directory):
    env = {**os.environ, "DATABASE_URL": subprocess_database_url()}
    return subprocess.Popen(
        [sys.executable, str(TESTS.parent / "manage.py"), "ingest", str(directory)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def snapshot():
    entries = sorted(Entry.objects.values_list("ticker__slug", "published_at", "headline", "body", "source_dump__sha256"))
    pictures = sorted(Picture.objects.values_list("entry__published_at", "caption", "credit"))
    return entries, pictures


def purge():
    Picture.objects.all().delete()
    Entry.objects.all().delete()
    SourceDump.objects.all().delete()
    Ticker.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_killed_ingest_rerun_equals_clean_run(tmp_path):
    dumps = 200
    write_corpus(tmp_path, dumps=dumps, entries_per_dump=25)
    clean = ingest_process(tmp_path)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    expected = snapshot()
    assert len(expected[0]) == dumps * 25 and len(expected[1]) == dumps * 5

    interrupted = []
    for loaded_before_kill in (1, dumps // 2, dumps - 40):
        purge()
        process = ingest_process(tmp_path)
        while SourceDump.objects.count() < loaded_before_kill and process.poll() is None:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        interrupted.append(SourceDump.objects.count())
        rerun = ingest_process(tmp_path)
        assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()
        assert snapshot() == expected
    # Each kill landed mid-run: some dumps, but not all, were in before the re-run.
    assert all(0 < n < dumps for n in interrupted), interrupted


@pytest.mark.django_db(transaction=True)
def test_two_ingests_of_the_same_files_at_once_both_finish_without_duplicates(tmp_path):
    write_corpus(tmp_path, dumps=40, entries_per_dump=25)
    first, second = ingest_process(tmp_path), ingest_process(tmp_path)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert second.wait(timeout=300) == 0, second.stderr.read().decode()
    assert Entry.objects.count() == 40 * 25
    assert SourceDump.objects.count() == 40
    statuses = sorted(IngestEvent.objects.values_list("status", flat=True))
    assert statuses.count(IngestEvent.Status.LOADED) == 40
    assert statuses.count(IngestEvent.Status.UNCHANGED) == 40
