"""Links never point at nothing: the database checks every writer (COPY, ORM, plain SQL), and
a place or person deleted or merged by an editor while an ingest links to it costs no dump."""
import threading
import time
from datetime import datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, connections, transaction

from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from support import subprocess_database_url
from tickerarchive.models import Entry, EntryPerson, EntryPlace, IngestEvent, LinkOrigin, Person, Place, SourceDump

KINDS = {
    # kind: (model, link model, link field, survivor, duplicate the editor deletes or merges away)
    "place": (Place, EntryPlace, "place", "Atlantis", "Atlantida"),
    "person": (Person, EntryPerson, "person", "Oleh Kiper", "Oleg Kiper"),
}
ENTRIES = [
    DraftEntry("12:00", "Sturm über Atlantida", ["Oleg Kiper meldet Schäden, auch Lemurien ist betroffen."]),
    DraftEntry("11:00", "Hilfe für Lemurien", ["Maria Sacharowa sagt Hilfe zu."]),
    DraftEntry("10:00", "Atlantida zählt die Schäden", ["Oleg Kiper und Maria Sacharowa besuchen die Küste."]),
]
NAMING_THE_DUPLICATES = 2  # entries mentioning Atlantida and Oleg Kiper
WAIT = 15  # seconds: a lock wait that would never end fails the test instead of hanging it


def make_gazetteer():
    for name in ("Atlantis", "Atlantida", "Lemurien"):
        Place.objects.create(name=name, slug=name.lower(), kind=Place.Kind.CITY)
    for name in ("Oleh Kiper", "Oleg Kiper", "Maria Sacharowa"):
        Person.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def write_dump(tmp_path, name="atlantis_2025-11-14.txt"):
    path = tmp_path / name
    path.write_text(render_dump(title="Atlantis-Ticker", entries=ENTRIES, page_datetime=datetime(2025, 11, 14, 0, 10)))
    return path


def dangling_links() -> int:
    """Links whose entry, place or person does not exist: editors' rows, what the linker found
    in entries, and the arrays readers use."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT (SELECT count(*) FROM tickerarchive_entryplace l WHERE NOT EXISTS
                        (SELECT 1 FROM tickerarchive_place p WHERE p.id = l.place_id)
                     OR NOT EXISTS (SELECT 1 FROM tickerarchive_entry e WHERE e.id = l.entry_id))
                 + (SELECT count(*) FROM tickerarchive_entryperson l WHERE NOT EXISTS
                        (SELECT 1 FROM tickerarchive_person p WHERE p.id = l.person_id)
                     OR NOT EXISTS (SELECT 1 FROM tickerarchive_entry e WHERE e.id = l.entry_id))
                 + (SELECT count(*) FROM tickerarchive_entry e,
                        LATERAL (SELECT key::bigint FROM jsonb_object_keys(e.auto_places) AS key
                                 UNION ALL SELECT unnest(e.place_ids)) AS linked (id)
                    WHERE NOT EXISTS (SELECT 1 FROM tickerarchive_place p WHERE p.id = linked.id))
                 + (SELECT count(*) FROM tickerarchive_entry e,
                        LATERAL (SELECT key::bigint FROM jsonb_object_keys(e.auto_people) AS key
                                 UNION ALL SELECT unnest(e.person_ids)) AS linked (id)
                    WHERE NOT EXISTS (SELECT 1 FROM tickerarchive_person p WHERE p.id = linked.id))
        """)
        return cursor.fetchone()[0]


def linked_names(kind: str) -> dict[str, int]:
    """Name of each place (or person) → the number of entries readers see linked to it."""
    model = KINDS[kind][0]
    names: dict[str, int] = {}
    for places, people in Entry.objects.linked_ids(Entry.objects.values_list("pk", flat=True)).values():
        for pk in places if kind == "place" else people:
            name = model.objects.get(pk=pk).name
            names[name] = names.get(name, 0) + 1
    return names


def editor_action(kind: str, action: str):
    model, _link_model, _field, survivor, duplicate = KINDS[kind]
    if action == "delete":
        return lambda: model.objects.get(name=duplicate).delete()  # as the admin's delete view does
    return lambda: model.objects.get(name=survivor).merge([model.objects.get(name=duplicate)])


def expected_links(kind: str, action: str) -> dict[str, int]:
    """What the archive shows after the editor's action and the ingest, whichever came first:
    a deleted duplicate has no links, a merged one's links belong to the survivor."""
    if kind == "place":
        return {"Lemurien": 2} | ({"Atlantis": NAMING_THE_DUPLICATES} if action == "merge" else {})
    return {"Maria Sacharowa": 2} | ({"Oleh Kiper": NAMING_THE_DUPLICATES} if action == "merge" else {})


# --- every writer is checked ----------------------------------------------------------------

@pytest.fixture
def linked_entry(tmp_path, db):
    make_gazetteer()
    assert DumpLoader().load(write_dump(tmp_path)).error is None
    return Entry.objects.get(headline="Hilfe für Lemurien")


MISSING = 10**9


@pytest.mark.parametrize("link_model, field", [(EntryPlace, "place"), (EntryPerson, "person")])
@pytest.mark.parametrize("missing", ["entry", "target"])
@pytest.mark.parametrize("path", ["copy", "insert", "update"])
def test_a_link_to_a_missing_entry_place_or_person_is_refused(linked_entry, link_model, field, missing, path):
    target = (Place if field == "place" else Person).objects.get(name__in=["Lemurien", "Maria Sacharowa"])
    entry_id, target_id = (MISSING, target.pk) if missing == "entry" else (linked_entry.pk, MISSING)
    if path == "update":  # an editor's row to change
        link_model.objects.create(entry=linked_entry, **{field: target})
    before = list(link_model.objects.order_by("pk").values_list("pk", "entry_id", f"{field}_id"))
    with pytest.raises(IntegrityError, match="is not present in table"), transaction.atomic():
        if path == "copy":  # COPY fires the statement triggers too
            with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {link_model._meta.db_table} (entry_id, {field}_id, mentions, origin, removed) FROM STDIN"
            ) as copy:
                copy.write(f"{entry_id}\t{target_id}\t1\t{LinkOrigin.AUTOMATIC.value}\tf\n")
        elif path == "insert":  # as the admin and relink write them
            link_model.objects.create(entry_id=entry_id, **{f"{field}_id": target_id})
        else:
            link_model.objects.filter(entry=linked_entry).update(
                **({"entry_id": entry_id} if missing == "entry" else {f"{field}_id": target_id}))
    assert list(link_model.objects.order_by("pk").values_list("pk", "entry_id", f"{field}_id")) == before


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_linker_found_cannot_name_a_missing_place_or_person(linked_entry, kind):
    """Relinking stored entries (Linker.link) writes what it found with the same check."""
    found = {"place": ({MISSING: 1}, {}), "person": ({}, {MISSING: 1})}[kind]
    before = Entry.objects.found_links([linked_entry.pk])
    with pytest.raises(IntegrityError, match="is not present in table"), transaction.atomic(), connection.wrap_database_errors:
        Entry.objects.store_found_links({linked_entry.pk: found})
    assert Entry.objects.found_links([linked_entry.pk]) == before and dangling_links() == 0


def test_after_an_ingest_the_rest_of_its_transaction_is_checked_as_ever(db, tmp_path):
    """Ingest's statement checks the places and people it links itself; a link row an editor
    writes after it in the same transaction is checked by the triggers as ever."""
    make_gazetteer()
    with transaction.atomic():
        assert DumpLoader().load(write_dump(tmp_path)).error is None
        entry = Entry.objects.get(headline="Hilfe für Lemurien")
        with pytest.raises(IntegrityError, match="is not present in table"), transaction.atomic():
            EntryPlace.objects.create(entry=entry, place_id=MISSING)
        atlantis = Place.objects.get(name="Atlantis")
        EntryPlace.objects.create(entry=entry, place=atlantis)
        with connection.cursor() as cursor:
            cursor.execute("SELECT place_ids FROM tickerarchive_entry WHERE id = %s", [entry.pk])
            assert atlantis.pk in cursor.fetchone()[0]


@pytest.mark.parametrize("kind", KINDS)
def test_deleting_a_place_or_person_in_plain_sql_deletes_its_links(linked_entry, kind):
    model, _link_model, _field, _survivor, duplicate = KINDS[kind]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE name = %s", [duplicate])
    assert dangling_links() == 0
    assert linked_names(kind) == expected_links(kind, "delete")


def test_deleting_entries_in_plain_sql_deletes_their_links(linked_entry):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickerarchive_entry WHERE id = %s", [linked_entry.pk])
    assert dangling_links() == 0
    # The other entries keep theirs.
    assert linked_names("place") == {"Atlantida": 2, "Lemurien": 1}
    assert linked_names("person") == {"Oleg Kiper": 2, "Maria Sacharowa": 1}


def test_truncating_linked_people_is_refused_and_ids_do_not_change(linked_entry):
    with pytest.raises(IntegrityError, match="links refer to it"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickerarchive_person, tickerarchive_personalias, tickerarchive_personredirect")
    with pytest.raises(IntegrityError, match="does not change"), transaction.atomic():
        Place.objects.filter(name="Lemurien").update(id=MISSING)
    assert dangling_links() == 0 and Person.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_delete_under_repeatable_read_is_refused(linked_entry):
    # Its snapshot could not see links committed while it waited for their ingest.
    with psycopg.connect(subprocess_database_url()) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="READ COMMITTED"):
            conn.execute("DELETE FROM tickerarchive_place WHERE name = 'Atlantida'")
    assert Place.objects.filter(name="Atlantida").exists()


@pytest.mark.django_db(transaction=True)
def test_a_link_to_an_entry_being_deleted_waits_for_the_delete_and_is_refused(linked_entry, lock_monitor):
    # The entry's delete is not committed yet when the link is written: the link waits, then fails.
    atlantis = Place.objects.get(name="Atlantis")
    with psycopg.connect(subprocess_database_url()) as editor, psycopg.connect(subprocess_database_url()) as linking:
        editor.execute("DELETE FROM tickerarchive_entry WHERE id = %s", [linked_entry.pk])
        outcome = []

        def link():
            try:
                linking.execute(
                    "INSERT INTO tickerarchive_entryplace (entry_id, place_id, mentions, origin, removed) "
                    "VALUES (%s, %s, 1, 'editor', false)", [linked_entry.pk, atlantis.pk])
                linking.commit()
                outcome.append("linked")
            except psycopg.errors.ForeignKeyViolation:
                linking.rollback()
                outcome.append("refused")

        linking_pid = linking.info.backend_pid
        linker = threading.Thread(target=link, daemon=True)
        linker.start()
        assert wait_until(lambda: lock_monitor(linking_pid))  # waits for the delete
        editor.commit()
        linker.join(WAIT)
    assert outcome == ["refused"]
    assert dangling_links() == 0 and not EntryPlace.objects.filter(place=atlantis).exists()


# --- an editor and an ingest at the same time ---------------------------------------------

@pytest.fixture
def lock_monitor():
    """is_waiting(pid): whether that backend waits for a lock another one holds."""
    monitor = psycopg.connect(subprocess_database_url(), autocommit=True)
    lock = threading.Lock()

    def is_waiting(pid: int) -> bool:
        with lock:
            return monitor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid]).fetchone()[0]

    yield is_waiting
    monitor.close()


def wait_until(condition, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Editor(threading.Thread):
    """An editor's change in a connection and transaction of its own, as in the admin.
    `before_commit` runs inside the transaction, after the change."""

    def __init__(self, change, before_commit=lambda: None):
        super().__init__(daemon=True)
        self.change, self.before_commit = change, before_commit
        self.pid = None
        self.started_work, self.changed = threading.Event(), threading.Event()
        self.error = None

    def run(self):
        try:
            self.pid = backend_pid()
            self.started_work.set()
            with transaction.atomic():
                self.change()
                self.changed.set()
                self.before_commit()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            self.started_work.set()
            self.changed.set()
            connections.close_all()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "the editor's change never finished"
        assert self.error is None, self.error


def assert_dump_landed_with(kind: str, action: str, result) -> None:
    model, _link_model, _field, _survivor, duplicate = KINDS[kind]
    assert result.error is None and result.created == len(ENTRIES)
    assert IngestEvent.objects.get().status == IngestEvent.Status.LOADED
    assert SourceDump.objects.count() == 1 and Entry.objects.count() == len(ENTRIES)
    assert not model.objects.filter(name=duplicate).exists()
    assert dangling_links() == 0
    assert linked_names(kind) == expected_links(kind, action)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["delete", "merge"])
@pytest.mark.parametrize("kind", KINDS)
def test_editor_acting_while_an_ingest_links_waits_for_it_and_handles_its_new_links(
        tmp_path, monkeypatch, lock_monitor, kind, action):
    """The ingest has written its links (not committed yet) when the editor deletes or merges:
    the editor's change waits for the ingest, then removes or moves the new links too."""
    make_gazetteer()
    editor = Editor(editor_action(kind, action))
    editor_waited = []
    original_store = DumpLoader._store

    def store_then_let_the_editor_act(self, prepared, result):
        # The dump's entries and links are written, its transaction not yet committed.
        original_store(self, prepared, result)
        if not editor_waited:
            editor.start()
            editor.started_work.wait(WAIT)
            # The change waits for this transaction (or, were nothing locked, it is done).
            wait_until(lambda: editor.changed.is_set() or lock_monitor(editor.pid))
            editor_waited.append(not editor.changed.is_set())

    monkeypatch.setattr(DumpLoader, "_store", store_then_let_the_editor_act)
    result = DumpLoader().load(write_dump(tmp_path))
    editor.finish()
    assert_dump_landed_with(kind, action, result)
    assert editor_waited == [True]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["delete", "merge"])
@pytest.mark.parametrize("kind", KINDS)
def test_ingest_linking_to_what_an_editor_is_deleting_or_merging_stores_the_dump_without_it(
        tmp_path, lock_monitor, kind, action):
    """The editor's change is made but not committed when the ingest writes links to the
    duplicate: the ingest waits, then sees it gone and stores the dump all the same, linking
    the survivor of a merge."""
    make_gazetteer()
    loader = DumpLoader()
    assert loader.linker  # built before the editor's change, as in a long ingest run
    ingest_pid = backend_pid()
    ingest_waited = []
    editor = Editor(editor_action(kind, action),
                    before_commit=lambda: ingest_waited.append(wait_until(lambda: lock_monitor(ingest_pid))))
    editor.start()
    assert editor.changed.wait(WAIT)
    result = loader.load(write_dump(tmp_path))
    editor.finish()
    assert_dump_landed_with(kind, action, result)
    assert ingest_waited == [True]


@pytest.mark.parametrize("action", ["delete", "merge"])
@pytest.mark.parametrize("kind", KINDS)
def test_dumps_of_an_ingest_run_after_an_editor_deleted_or_merged_store_without_it(db, tmp_path, kind, action):
    """The linker of a long ingest run was built before the change: later dumps still land."""
    make_gazetteer()
    loader = DumpLoader()
    assert loader.linker
    editor_action(kind, action)()
    result = loader.load(write_dump(tmp_path))
    assert_dump_landed_with(kind, action, result)
