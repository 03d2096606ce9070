"""The links the linker finds are kept on the entry; link rows are editors' decisions only.

Before, every link the linker found was a row of a link table (three B-tree indexes each) and
also an id in the entry's array of linked places or people (migration 0007), which search
needs. Writing both made ingest with linking 18-27 % slower than without at 1,000,000
entries; leaving the rows out brought it within 8 % (bench/RESULTS.md, 2026-12-07).

Now each entry carries what the linker found as `auto_places` and `auto_people`: jsonb
objects from the id of the place or person to its number of mentions (`{"17": 2}`). A row of
EntryPlace or EntryPerson is an editor's link (removed false) or an editor's removal (removed
true). The arrays readers use are, per entry:

    place_ids = ids in auto_places, less those of removed rows, plus those of other rows

and PostgreSQL keeps them so, whoever writes: the link tables' triggers of migration 0007 now
compute this (tickerarchive_linked_places/people), and a trigger on the entry computes it
when a statement changes what the linker found. Deleting a place or person also takes its id
out of what the linker found (migration 0005's function for it, extended here).

The existing automatic rows are folded into the new columns and deleted: every entry with
links gets a new row version. On the 1,000,000-entry benchmark archive this took 250 s (and
going back, 74 s), measured while other work shared the machine.
"""
from django.db import migrations, models

ENTRY = "tickerarchive_entry"
# (link table, target column, target table, column of what the linker found, array readers use)
KINDS = (
    ("tickerarchive_entryplace", "place_id", "tickerarchive_place", "auto_places", "place_ids"),
    ("tickerarchive_entryperson", "person_id", "tickerarchive_person", "auto_people", "person_ids"),
)

LINKED = """
CREATE FUNCTION tickerarchive_linked_{noun}(of_entry bigint, found jsonb) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(target ORDER BY target), '{{}}') FROM (
        SELECT key::bigint AS target FROM jsonb_object_keys(found) AS key
        EXCEPT SELECT {target} FROM {links} WHERE entry_id = of_entry AND removed
        UNION SELECT {target} FROM {links} WHERE entry_id = of_entry AND NOT removed
    ) AS linked
$$;
"""

# Migration 0007's function with the new rule; it must keep planning at each call (0010).
SYNC = """
CREATE OR REPLACE FUNCTION {entry}_{column}() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM new_links;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM old_links;
    ELSE
        SELECT array_agg(DISTINCT entry_id) INTO changed FROM (
            (SELECT entry_id, {target}, removed FROM old_links EXCEPT ALL SELECT entry_id, {target}, removed FROM new_links)
            UNION ALL
            (SELECT entry_id, {target}, removed FROM new_links EXCEPT ALL SELECT entry_id, {target}, removed FROM old_links)
        ) AS moved;
    END IF;
    SELECT array_agg(entry.id) INTO changed FROM {entry} AS entry
    WHERE entry.id = ANY(changed) AND entry.{column} IS DISTINCT FROM tickerarchive_linked_{noun}(entry.id, entry.{found});
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM {entry} WHERE id = ANY(changed) ORDER BY id FOR NO KEY UPDATE;
    UPDATE {entry} AS entry SET {column} = tickerarchive_linked_{noun}(entry.id, entry.{found})
    WHERE entry.id = ANY(changed) AND entry.{column} IS DISTINCT FROM tickerarchive_linked_{noun}(entry.id, entry.{found});
    RETURN NULL;
END
$$;
"""

FOUND_CHANGED = f"""
CREATE FUNCTION {ENTRY}_found_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.auto_places IS DISTINCT FROM OLD.auto_places THEN
        NEW.place_ids := tickerarchive_linked_places(NEW.id, NEW.auto_places);
    END IF;
    IF NEW.auto_people IS DISTINCT FROM OLD.auto_people THEN
        NEW.person_ids := tickerarchive_linked_people(NEW.id, NEW.auto_people);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER {ENTRY}_found_links BEFORE UPDATE OF auto_places, auto_people ON {ENTRY} FOR EACH ROW
    WHEN (OLD.auto_places IS DISTINCT FROM NEW.auto_places OR OLD.auto_people IS DISTINCT FROM NEW.auto_people)
    EXECUTE FUNCTION {ENTRY}_found_links();
"""

# Migration 0005's function for a deleted place or person: the id also leaves what the linker
# found (entries found through the readers' array, or through a removed row), before the rows go.
DELETE_LINKS = """
CREATE OR REPLACE FUNCTION {targets}_delete_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM {links}){or_found_exists} THEN
            RAISE EXCEPTION 'cannot truncate "%": links refer to it', TG_TABLE_NAME
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
    ELSIF EXISTS (SELECT 1 FROM old_rows) THEN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'delete from "%" needs READ COMMITTED: links committed meanwhile would stay', TG_TABLE_NAME
                USING ERRCODE = 'feature_not_supported';
        END IF;{strip_found}
        DELETE FROM {links} WHERE {target} IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;
"""
FOUND_EXISTS = " OR EXISTS (SELECT 1 FROM {entry} WHERE {found} <> '{{}}')"
STRIP_FOUND = """
        UPDATE {entry} SET {found} = {found} - ARRAY(SELECT id::text FROM old_rows)
        WHERE ({column} && ARRAY(SELECT id FROM old_rows)
               OR id IN (SELECT entry_id FROM {links} WHERE {target} IN (SELECT id FROM old_rows)))
          AND {found} ?| ARRAY(SELECT id::text FROM old_rows);"""


def delete_links(targets: str, links: str, target: str, found: str, column: str, *, with_found: bool) -> str:
    names = dict(entry=ENTRY, found=found, column=column, links=links, target=target)
    return DELETE_LINKS.format(
        targets=targets, links=links, target=target,
        or_found_exists=FOUND_EXISTS.format(**names) if with_found else "",
        strip_found=STRIP_FOUND.format(**names) if with_found else "",
    )


# Back: rows for what the linker found again, and migration 0007's rule.
OLD_SYNC_LINKED = """coalesce((SELECT array_agg(link.{target} ORDER BY link.{target}) FROM {links} AS link
                     WHERE link.entry_id = entry.id AND NOT link.removed), '{{}}')"""


def noun(found: str) -> str:
    return found.removeprefix("auto_")


def forward() -> list[str]:
    sql = [f"ALTER TABLE {ENTRY} ADD COLUMN auto_places jsonb NOT NULL DEFAULT '{{}}', "
           "ADD COLUMN auto_people jsonb NOT NULL DEFAULT '{}';"]
    for links, target, targets, found, column in KINDS:
        sql.append(LINKED.format(noun=noun(found), target=target, links=links))
    # What the linker found: its rows, and the rows an editor removed (it had found those).
    sql.append(
        f"UPDATE {ENTRY} AS entry SET " + ", ".join(
            f"{found} = coalesce((SELECT jsonb_object_agg(link.{target}, link.mentions) FROM {links} AS link "
            f"WHERE link.entry_id = entry.id AND (link.origin = 'auto' OR link.removed)), '{{}}')"
            for links, target, _t, found, _c in KINDS
        ) + " WHERE " + " OR ".join(f"entry.{column} <> '{{}}'" for *_rest, column in KINDS) + " OR " + " OR ".join(
            f"EXISTS (SELECT 1 FROM {links} WHERE entry_id = entry.id AND removed)" for links, *_rest in KINDS
        ) + ";"
    )
    for links, target, targets, found, column in KINDS:
        sql.append(SYNC.format(entry=ENTRY, column=column, target=target, noun=noun(found), found=found))
        sql.append(delete_links(targets, links, target, found, column, with_found=True))
    sql.append(FOUND_CHANGED)
    # The automatic rows go; the readers' arrays stay as they were (the rule gives the same).
    sql += [f"DELETE FROM {links} WHERE origin = 'auto' AND NOT removed;" for links, *_rest in KINDS]
    return sql


def backward() -> list[str]:
    sql = [f"DROP FUNCTION {ENTRY}_found_links() CASCADE;"]
    for links, target, targets, found, column in KINDS:
        sql.append(
            f"INSERT INTO {links} (entry_id, {target}, mentions, origin, removed) "
            f"SELECT entry.id, found.key::bigint, found.value::int, 'auto', false FROM {ENTRY} AS entry, "
            f"jsonb_each_text(entry.{found}) AS found ON CONFLICT (entry_id, {target}) DO NOTHING;"
        )
        old = SYNC.replace(f"tickerarchive_linked_{{noun}}(entry.id, entry.{{found}})", OLD_SYNC_LINKED)
        sql.append(old.format(entry=ENTRY, column=column, target=target, links=links, noun=noun(found), found=found))
        sql.append(delete_links(targets, links, target, found, column, with_found=False))
        sql.append(f"DROP FUNCTION tickerarchive_linked_{noun(found)}(bigint, jsonb);")
    sql.append(f"ALTER TABLE {ENTRY} DROP COLUMN auto_places, DROP COLUMN auto_people;")
    return sql


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0013_links_of_new_entries_checked_by_their_statement"),
    ]

    operations = [
        migrations.RunSQL(forward(), backward()),
        # Entry.places and Entry.people went through the rows, which no longer hold every link.
        migrations.RemoveField(model_name="entry", name="people"),
        migrations.RemoveField(model_name="entry", name="places"),
        *(
            migrations.AlterField(
                model_name=model, name="origin",
                field=models.CharField(choices=[("auto", "automatisch"), ("editor", "Redaktion")], default="editor",
                                       max_length=10),
            )
            for model in ("entryperson", "entryplace", "historicalentryperson", "historicalentryplace")
        ),
    ]
