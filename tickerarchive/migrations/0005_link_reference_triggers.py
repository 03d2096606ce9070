"""The link tables' references checked by triggers instead of foreign-key constraints.

PostgreSQL checks a foreign key row by row (one `SELECT ... FOR KEY SHARE` per link row and
key, at commit): for 60,000 links that cost more than writing them with their indexes. The
triggers below give the same guarantee per statement, COPY included:

- inserting or re-pointing links locks the distinct entries, places and people they name
  (FOR KEY SHARE, as the foreign key did, so a concurrent delete waits for this transaction)
  and refuses the statement (SQLSTATE 23503) if one is missing;
- deleting entries, places or people deletes the links to them. Django's cascade deletes the
  links it sees first; this removes those committed meanwhile by a transaction the delete had
  to wait for (each statement of a VOLATILE function takes a fresh snapshot under READ
  COMMITTED). Under REPEATABLE READ it could not see them, so such deletes are refused;
- ids of entries, places and people never change; TRUNCATE leaves no link to nothing.
"""
from django.db import migrations, models
import django.db.models.deletion

# link table, its target column, the target table
LINKS = (
    ("tickerarchive_entryplace", "place_id", "tickerarchive_place"),
    ("tickerarchive_entryperson", "person_id", "tickerarchive_person"),
)
ENTRY = "tickerarchive_entry"

LOCK_REFERENCED = """
    IF {ids} IS NOT NULL THEN
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM {target} WHERE id = ANY({ids}) ORDER BY id FOR KEY SHARE
        ) locked;
        IF found < cardinality({ids}) THEN
            SELECT min(wanted) INTO missing FROM unnest({ids}) wanted
             WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE id = wanted);
            RAISE EXCEPTION 'insert or update on table "%" refers to a missing row of "{target}"', TG_TABLE_NAME
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_TABLE_NAME || '_{column}_exists',
                      DETAIL = format('Key ({column})=(%s) is not present in table "{target}".', missing);
        END IF;
    END IF;"""

CHECK_REFERENCES = """
CREATE FUNCTION {link}_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entries bigint[];
    targets bigint[];
    found bigint;
    missing bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT entry_id), array_agg(DISTINCT {column}) INTO entries, targets FROM new_links;
    ELSE  -- only the references an UPDATE changed
        SELECT array_agg(DISTINCT entry_id) INTO entries
          FROM (SELECT id, entry_id FROM new_links EXCEPT SELECT id, entry_id FROM old_links) changed;
        SELECT array_agg(DISTINCT {column}) INTO targets
          FROM (SELECT id, {column} FROM new_links EXCEPT SELECT id, {column} FROM old_links) changed;
    END IF;
    {lock_entries}
    {lock_targets}
    RETURN NULL;
END $$;
CREATE TRIGGER {link}_references_inserted AFTER INSERT ON {link}
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION {link}_check_references();
CREATE TRIGGER {link}_references_updated AFTER UPDATE ON {link}
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION {link}_check_references();
"""

DELETE_LINKS = """
CREATE FUNCTION {target}_delete_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF {any_link} THEN
            RAISE EXCEPTION 'cannot truncate "%": links refer to it', TG_TABLE_NAME
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
    ELSIF EXISTS (SELECT 1 FROM old_rows) THEN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'delete from "%" needs READ COMMITTED: links committed meanwhile would stay', TG_TABLE_NAME
                USING ERRCODE = 'feature_not_supported';
        END IF;
        {deletes}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {target}_links_deleted AFTER DELETE ON {target}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {target}_delete_links();
CREATE TRIGGER {target}_links_truncated AFTER TRUNCATE ON {target}
    FOR EACH STATEMENT EXECUTE FUNCTION {target}_delete_links();
CREATE TRIGGER {target}_id_unchanged BEFORE UPDATE OF id ON {target}
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION tickerarchive_id_unchanged();
"""

ID_UNCHANGED = """
CREATE FUNCTION tickerarchive_id_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of a row of "%" does not change: links refer to it', TG_TABLE_NAME
        USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
END $$;
"""


def referencing(target: str) -> list[tuple[str, str]]:
    """(link table, column) of every link column that refers to target."""
    return [(link, "entry_id") for link, _c, _t in LINKS if target == ENTRY] + [
        (link, column) for link, column, table in LINKS if table == target
    ]


def forward_sql() -> str:
    sql = [ID_UNCHANGED]
    for link, column, target in LINKS:
        sql.append(CHECK_REFERENCES.format(
            link=link, column=column,
            lock_entries=LOCK_REFERENCED.format(ids="entries", target=ENTRY, column="entry_id"),
            lock_targets=LOCK_REFERENCED.format(ids="targets", target=target, column=column),
        ))
    for target in (ENTRY, *(t for _l, _c, t in LINKS)):
        links = referencing(target)
        sql.append(DELETE_LINKS.format(
            target=target,
            any_link=" OR ".join(f"EXISTS (SELECT 1 FROM {link})" for link, _column in links),
            deletes="\n        ".join(
                f"DELETE FROM {link} WHERE {column} IN (SELECT id FROM old_rows);" for link, column in links
            ),
        ))
    return "\n".join(sql)


def reverse_sql() -> str:
    drops = [f"DROP FUNCTION {link}_check_references() CASCADE;" for link, _c, _t in LINKS]
    drops += [f"DROP FUNCTION {target}_delete_links() CASCADE;" for target in (ENTRY, *(t for _l, _c, t in LINKS))]
    drops.append("DROP FUNCTION tickerarchive_id_unchanged() CASCADE;")
    return "\n".join(drops)


class Migration(migrations.Migration):

    dependencies = [
        ('tickerarchive', '0004_index_and_constraint_changes'),
    ]

    # Reversed, the foreign keys come back (validated against the links) before the triggers go.
    operations = [
        migrations.RunSQL(forward_sql(), reverse_sql()),
        migrations.AlterField(
            model_name='entryperson',
            name='entry',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, to='tickerarchive.entry'),
        ),
        migrations.AlterField(
            model_name='entryperson',
            name='person',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, to='tickerarchive.person'),
        ),
        migrations.AlterField(
            model_name='entryplace',
            name='entry',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, to='tickerarchive.entry'),
        ),
        migrations.AlterField(
            model_name='entryplace',
            name='place',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, to='tickerarchive.place'),
        ),
    ]
