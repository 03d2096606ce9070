"""Ingest's one statement per dump checks the links of its new entries itself.

The statement that writes a dump (ingest/loader.py, WRITE_SQL) inserts the entries, their
arrays of linked ids and their link rows together, from the same columns. For those rows the
triggers of migrations 0005 and 0007 only repeat what the statement knows: the entries exist
(it inserts them, and no other transaction can see or change them before it commits), and
their arrays are right (the trigger compared them and found nothing to update). In one run of
bench/ingest.py they took 5.5 s per 100,000 entries with linking (`pg_stat_user_functions`),
and 1.2 s without it, for empty link inserts.

So the statement locks the places and people it links to (FOR KEY SHARE, in id order, as the
trigger does), refuses itself if one of them is missing (the same error, SQLSTATE 23503), and
runs with `tickerarchive.new_entry_links` set to `checked` (transaction-local, reset by the
loader right after it): the two INSERT triggers of each link table then do not fire. Every
other writer (admin, relink, merges, COPY, plain SQL) leaves the setting alone and is checked
as before.
"""
from django.db import migrations

SETTING = "tickerarchive.new_entry_links"
LINKS = (
    # link table, trigger checking its references, trigger keeping the entry's array
    ("tickerarchive_entryplace", "tickerarchive_entry_place_ids"),
    ("tickerarchive_entryperson", "tickerarchive_entry_person_ids"),
)
UNLESS_CHECKED = f"WHEN (current_setting('{SETTING}', true) IS DISTINCT FROM 'checked') "

REFUSE_MISSING = """
CREATE FUNCTION tickerarchive_refuse_missing_link(link text, target text, target_column text, missing bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" refers to a missing row of "%"', link, target
        USING ERRCODE = 'foreign_key_violation', TABLE = link, CONSTRAINT = link || '_' || target_column || '_exists',
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', target_column, missing, target);
END $$;
"""


def triggers(condition: str) -> list[str]:
    sql = []
    for link, sync in LINKS:
        sql += [
            f"DROP TRIGGER {link}_references_inserted ON {link};",
            f"CREATE TRIGGER {link}_references_inserted AFTER INSERT ON {link} REFERENCING NEW TABLE AS new_links "
            f"FOR EACH STATEMENT {condition}EXECUTE FUNCTION {link}_check_references();",
            f"DROP TRIGGER {sync}_insert ON {link};",
            f"CREATE TRIGGER {sync}_insert AFTER INSERT ON {link} REFERENCING NEW TABLE AS new_links "
            f"FOR EACH STATEMENT {condition}EXECUTE FUNCTION {sync}();",
        ]
    return sql


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0012_folded_names"),
    ]

    operations = [
        migrations.RunSQL(
            [REFUSE_MISSING, *triggers(UNLESS_CHECKED)],
            [*triggers(""), "DROP FUNCTION tickerarchive_refuse_missing_link(text, text, text, bigint);"],
        ),
    ]
