"""Two editors (or an editor and relink) changing the links of one entry at the same time:
the entry's array of linked places ends up with both changes."""
import threading
import time

import pytest
from django.db import connection, transaction

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from tickerarchive.models import Entry, EntryPlace, Place


def place_ids(entry: Entry) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT place_ids FROM tickerarchive_entry WHERE id = %s", [entry.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_links_added_by_two_transactions_at_once_are_both_kept(tmp_path):
    path = tmp_path / "page_2025-06-30.txt"
    path.write_text(render_dump(title="Ticker", entries=[DraftEntry("12:00", "Meldung", ["Text."])]))
    assert DumpLoader(link=False).load(path).created == 1
    entry = Entry.objects.get()
    first, second = (Place.objects.create(name=name, slug=name.lower()) for name in ("Erstort", "Zweitort"))
    first_linked = threading.Event()

    def link_first_and_commit_late():
        try:
            with transaction.atomic():
                EntryPlace.objects.create(entry=entry, place=first)
                first_linked.set()
                time.sleep(0.5)  # the other transaction links now, and must see this link once committed
        finally:
            connection.close()

    other = threading.Thread(target=link_first_and_commit_late)
    other.start()
    assert first_linked.wait(10)
    with transaction.atomic():
        EntryPlace.objects.create(entry=entry, place=second)
    other.join()
    assert place_ids(entry) == sorted([first.pk, second.pk])
