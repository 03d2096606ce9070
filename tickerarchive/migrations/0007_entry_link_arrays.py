"""Each entry carries the ids of the places and people it is linked to (links an editor removed
left out), so that the facets of a search are one aggregate over its newest hits and the
region and person filters a test on the row instead of a subquery per row.

PostgreSQL keeps the arrays: statement-level triggers on the two link tables recompute them
for every entry whose links a statement inserted, changed or deleted (ingest, relink, an
editor's change in the admin, merges, deleting a place or person). They are not model fields,
so no Entry.save() can write a stale copy back. Ingest writes them already with the new
entries (ingest/loader.py), and the trigger then finds nothing to change.

Also a view of the unit each place counts for in the facets (its region and country), so
that the facets need not read the gazetteer into every process.
"""
from django.db import migrations, models

ENTRY = "tickerarchive_entry"

# One function and three triggers per link table. Most statements leave the arrays as they
# are (ingest writes them with the new entries), so the entries whose arrays differ are found
# first; only those are locked, and their arrays computed again by the next statement, with a
# snapshot taken after the lock: two transactions changing the links of one entry at the same
# time cannot overwrite each other's. (An entry whose arrays a statement leaves as they are
# needs no lock: its links changed in no way the arrays show.)
LINKED = """coalesce((SELECT array_agg(link.{target} ORDER BY link.{target}) FROM {links} AS link
                     WHERE link.entry_id = entry.id AND NOT link.removed), '{{}}')"""
SYNC_FUNCTION = """
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM new_links;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM old_links;
    ELSE  -- only rows whose entry, target or removal changed: relink rewrites mentions of many
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM (
            (SELECT entry_id, {target}, removed FROM old_links EXCEPT ALL SELECT entry_id, {target}, removed FROM new_links)
            UNION ALL
            (SELECT entry_id, {target}, removed FROM new_links EXCEPT ALL SELECT entry_id, {target}, removed FROM old_links)
        ) AS moved;
    END IF;
    SELECT array_agg(entry.id) INTO changed FROM {entry} AS entry
    WHERE entry.id = ANY(changed) AND entry.{column} IS DISTINCT FROM {linked};
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM {entry} WHERE id = ANY(changed) ORDER BY id FOR NO KEY UPDATE;
    UPDATE {entry} AS entry SET {column} = {linked}
    WHERE entry.id = ANY(changed) AND entry.{column} IS DISTINCT FROM {linked};
    RETURN NULL;
END
$$;
CREATE TRIGGER {function}_insert AFTER INSERT ON {links}
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_update AFTER UPDATE ON {links}
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_delete AFTER DELETE ON {links}
    REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""

LINK_ARRAYS = [
    # (array column on the entry, link table, its target column)
    ("place_ids", "tickerarchive_entryplace", "place_id"),
    ("person_ids", "tickerarchive_entryperson", "person_id"),
]


def sync_sql() -> str:
    return "\n".join(
        SYNC_FUNCTION.format(function=f"{ENTRY}_{column}", entry=ENTRY, column=column, links=links, target=target,
                             linked=LINKED.format(links=links, target=target))
        for column, links, target in LINK_ARRAYS
    )


def drop_sync_sql() -> str:
    return "\n".join(f"DROP FUNCTION {ENTRY}_{column}() CASCADE;" for column, _, _ in LINK_ARRAYS)


def backfill_sql() -> str:
    """One pass over the entries that have links (a second row version for each of them)."""
    aggregates = ", ".join(LINKED.format(links=links, target=target) for _, links, target in LINK_ARRAYS)
    columns = ", ".join(column for column, _, _ in LINK_ARRAYS)
    linked = " OR ".join(f"EXISTS (SELECT 1 FROM {links} AS link WHERE link.entry_id = entry.id)" for _, links, _ in LINK_ARRAYS)
    return f"UPDATE {ENTRY} AS entry SET ({columns}) = ROW({aggregates}) WHERE {linked};"


# The unit a linked place counts for in the facets (gazetteer levels: country > region > city).
# Regions: a region with its towns, or a town that lies directly in a country (Kiew).
# Countries: the place itself, its parent or its grandparent.
PLACE_UNIT_VIEW = """
CREATE VIEW tickerarchive_placeunit AS
SELECT place.id AS place_id,
       CASE WHEN place.kind = 'region' THEN place.id
            WHEN parent.kind = 'region' THEN parent.id
            WHEN parent.kind = 'country' AND place.kind <> 'country' THEN place.id
       END AS region_id,
       CASE WHEN place.kind = 'country' THEN place.id
            WHEN parent.kind = 'country' THEN parent.id
            WHEN grandparent.kind = 'country' THEN grandparent.id
       END AS country_id
FROM tickerarchive_place AS place
LEFT JOIN tickerarchive_place AS parent ON parent.id = place.parent_id
LEFT JOIN tickerarchive_place AS grandparent ON grandparent.id = parent.parent_id;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0006_archive_version"),
    ]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {ENTRY} " + ", ".join(
                f"ADD COLUMN {column} bigint[] NOT NULL DEFAULT '{{}}'" for column, _, _ in LINK_ARRAYS
            ) + ";", backfill_sql(), sync_sql()],
            [drop_sync_sql(), f"ALTER TABLE {ENTRY} " + ", ".join(f"DROP COLUMN {column}" for column, _, _ in LINK_ARRAYS) + ";"],
        ),
        migrations.RunSQL(PLACE_UNIT_VIEW, "DROP VIEW tickerarchive_placeunit;"),
        migrations.CreateModel(
            name="PlaceUnit",
            fields=[
                ("place", models.OneToOneField(db_column="place_id", on_delete=models.DO_NOTHING, primary_key=True,
                                               related_name="unit", serialize=False, to="tickerarchive.place")),
                ("region", models.ForeignKey(db_column="region_id", null=True, on_delete=models.DO_NOTHING,
                                             related_name="+", to="tickerarchive.place")),
                ("country", models.ForeignKey(db_column="country_id", null=True, on_delete=models.DO_NOTHING,
                                              related_name="+", to="tickerarchive.place")),
            ],
            options={"db_table": "tickerarchive_placeunit", "managed": False},
        ),
    ]
