"""The archive's data version, which the page cache keys on, moves with every committed change
to what readers see, whoever makes it, and only then."""
from datetime import datetime

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from tickerarchive.models import Entry, EntryConflict, IngestEvent
from tickerarchive.pagecache import data_version

pytestmark = pytest.mark.django_db(transaction=True)

# Tables no reader page shows: changing them keeps every cached page.
NOT_SHOWN_TO_READERS = {IngestEvent, EntryConflict}
PORT = DraftEntry("09:53", "Hafen Noworossijsk stoppt Ölexport", ["Nach einem Drohnenangriff stoppt der Hafen den Export."])


def reader_tables() -> list[str]:
    return [model._meta.db_table for model in apps.get_app_config("tickerarchive").get_models()
            if model not in NOT_SHOWN_TO_READERS and model._meta.managed and not model.__name__.startswith("Historical")]


@pytest.mark.parametrize("table", reader_tables())
def test_a_statement_on_any_table_readers_see_moves_the_version(table):
    before = data_version()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE id < 0")  # a model added without its trigger fails here
    assert data_version() != before


@pytest.fixture
def dump(tmp_path):
    path = tmp_path / "page_2025-11-14.txt"
    path.write_text(render_dump(title="Ukraine-Krieg im Liveticker", entries=[PORT], page_datetime=datetime(2025, 11, 14, 12)))
    return path


def test_an_ingest_that_changes_nothing_keeps_the_version(dump):
    assert DumpLoader().load(dump).error is None
    version = data_version()
    assert DumpLoader().load(dump).status == IngestEvent.Status.UNCHANGED
    assert data_version() == version


def test_inside_a_transaction_pages_show_its_own_changes_and_after_a_rollback_none(dump):
    assert DumpLoader().load(dump).error is None
    port = Entry.objects.get()
    url = f"/eintrag/{port.pk}/"
    committed = Client().get(url)
    with pytest.raises(RuntimeError), transaction.atomic():
        Entry.objects.filter(pk=port.pk).update(headline="Erster Entwurf")
        assert "Erster Entwurf" in Client().get(url).content.decode()
        Entry.objects.filter(pk=port.pk).update(headline="Zweiter Entwurf")
        assert "Zweiter Entwurf" in Client().get(url).content.decode()
        raise RuntimeError("rolled back")
    again = Client().get(url)
    assert again.content == committed.content and again["ETag"] == committed["ETag"]
