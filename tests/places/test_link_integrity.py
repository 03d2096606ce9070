"""Links never point at nothing: the database checks every writer (COPY, ORM, plain SQL)."""
from datetime import datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from ingest.linker import Linker
from ingest.loader import DumpLoader
from ingest.render import DraftEntry, render_dump
from support import subprocess_database_url
from tickerarchive.models import Entry, EntryPerson, EntryPlace, Person, Place

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
    """Link rows whose entry, place or person does not exist."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT (SELECT count(*) FROM tickerarchive_entryplace l WHERE NOT EXISTS
                        (SELECT 1 FROM tickerarchive_place p WHERE p.id = l.place_id)
                     OR NOT EXISTS (SELECT 1 FROM tickerarchive_entry e WHERE e.id = l.entry_id))
                 + (SELECT count(*) FROM tickerarchive_entryperson l WHERE NOT EXISTS
                        (SELECT 1 FROM tickerarchive_person p WHERE p.id = l.person_id)
                     OR NOT EXISTS (SELECT 1 FROM tickerarchive_entry e WHERE e.id = l.entry_id))
        """)
        return cursor.fetchone()[0]


def linked_names(link_model, field) -> dict[str, int]:
    """Name of each place (or person) → the number of entries linked to it."""
    names: dict[str, int] = {}
    for name in link_model.objects.values_list(f"{field}__name", flat=True):
        names[name] = names.get(name, 0) + 1
    return names


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
    before = list(link_model.objects.order_by("pk").values_list("pk", "entry_id", f"{field}_id"))
    with pytest.raises(IntegrityError, match="is not present in table"), transaction.atomic():
        if path == "copy":  # as ingest writes the links of new entries
            names = {"Atlantis": target_id} if field == "place" else {}
            people = {"Oleh Kiper": target_id} if field == "person" else {}
            Linker(names, people).link({entry_id: "Atlantis und Oleh Kiper"}, new=True)
        elif path == "insert":  # as the admin and relink write them
            link_model.objects.create(entry_id=entry_id, **{f"{field}_id": target_id})
        else:
            link_model.objects.filter(entry=linked_entry).update(
                **({"entry_id": entry_id} if missing == "entry" else {f"{field}_id": target_id}))
    assert list(link_model.objects.order_by("pk").values_list("pk", "entry_id", f"{field}_id")) == before


@pytest.mark.parametrize("kind", KINDS)
def test_deleting_a_place_or_person_in_plain_sql_deletes_its_links(linked_entry, kind):
    model, link_model, field, _survivor, duplicate = KINDS[kind]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE name = %s", [duplicate])
    assert dangling_links() == 0
    assert duplicate not in linked_names(link_model, field)
    assert linked_names(link_model, field) == expected_links(kind, "delete")


def test_deleting_entries_in_plain_sql_deletes_their_links(linked_entry):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickerarchive_entry WHERE id = %s", [linked_entry.pk])
    assert dangling_links() == 0
    assert EntryPlace.objects.count() == 3 and EntryPerson.objects.count() == 3  # the other entries' links


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
