"""The number of entries linked to each place and person, kept by a trigger on the entries.

Since migration 0014 the links readers see are only the entries' arrays. Counting an array's
entries by its GIN index reads each of them from the heap: /api/places/?q=Kiew took 163 ms at
1,000,000 entries (32 ms when the link rows' B-tree counted them index-only). Now one
statement-level trigger adds what each INSERT, UPDATE or DELETE of entries changed in their
arrays to tickerarchive_linkcount (ingest: one statement per dump), and the lookups read one
row per place. The counters of a popular place are updated by every dump that names it; the
rows are upserted in (kind, target) order, so two writers wait for each other, never deadlock.
"""
from django.db import migrations, models

ENTRY = "tickerarchive_entry"
COUNTS = "tickerarchive_linkcount"


def changes(rows: str, sign: str) -> str:
    return (f"SELECT 'place' AS kind, unnest(place_ids) AS target, {sign}1 AS delta FROM {rows} "
            f"UNION ALL SELECT 'person', unnest(person_ids), {sign}1 FROM {rows}")


UPSERT = (f"INSERT INTO {COUNTS} (kind, target, entries) "
          "SELECT kind, target, sum(delta) FROM ({changes}) AS changed GROUP BY kind, target "
          "HAVING sum(delta) <> 0 ORDER BY kind, target "
          f"ON CONFLICT (kind, target) DO UPDATE SET entries = {COUNTS}.entries + excluded.entries;")

COUNT_LINKS = f"""
CREATE FUNCTION {ENTRY}_count_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(changes=changes("new_rows", "+"))}
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(changes=changes("old_rows", "-"))}
    ELSIF TG_OP = 'UPDATE' THEN
        {UPSERT.format(changes=changes("new_rows", "+") + " UNION ALL " + changes("old_rows", "-"))}
    ELSE
        DELETE FROM {COUNTS};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {ENTRY}_links_counted_insert AFTER INSERT ON {ENTRY}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY}_count_links();
CREATE TRIGGER {ENTRY}_links_counted_update AFTER UPDATE ON {ENTRY}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY}_count_links();
CREATE TRIGGER {ENTRY}_links_counted_delete AFTER DELETE ON {ENTRY}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY}_count_links();
CREATE TRIGGER {ENTRY}_links_counted_truncate AFTER TRUNCATE ON {ENTRY}
    FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY}_count_links();
"""
# Readers see the counts (the page cache's data version, migration 0006).
WATCHED = f"""
CREATE TRIGGER archive_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {COUNTS}
    FOR EACH STATEMENT EXECUTE FUNCTION tickerarchive_note_change();
ALTER TABLE {COUNTS} ENABLE ALWAYS TRIGGER archive_changed;
"""
BACKFILL = (f"INSERT INTO {COUNTS} (kind, target, entries) SELECT kind, target, count(*) FROM ("
            + changes(ENTRY, "+") + ") AS linked GROUP BY kind, target;")


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0015_link_fields_in_german"),
    ]

    operations = [
        migrations.CreateModel(
            name="LinkCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=6)),
                ("target", models.BigIntegerField()),
                ("entries", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("kind", "target"), name="link_count_unique")],
            },
        ),
        migrations.RunSQL(
            [f"LOCK TABLE {ENTRY} IN SHARE MODE;", BACKFILL, COUNT_LINKS, WATCHED],
            [f"DROP FUNCTION {ENTRY}_count_links() CASCADE;"],
        ),
    ]
