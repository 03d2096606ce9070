"""The archive's data version, kept by PostgreSQL itself (see tickerarchive/pagecache.py).

A statement trigger on every table readers see notes that the transaction changed the
archive; a deferred trigger then moves the version on just before that transaction commits,
so the new number becomes visible in the same instant as the change, on the primary and on
each replica as it replays it. The row lock on the version is held only while committing:
long ingest transactions and editors never wait for one another on it.
"""
from django.db import migrations

# Tables whose rows reader pages show. A new one needs its trigger (a test checks this).
WATCHED_TABLES = [
    "tickerarchive_ticker", "tickerarchive_sourcedump", "tickerarchive_entry", "tickerarchive_picture",
    "tickerarchive_place", "tickerarchive_placealias", "tickerarchive_person", "tickerarchive_personalias",
    "tickerarchive_entryplace", "tickerarchive_entryperson", "tickerarchive_entrytombstone",
    "tickerarchive_placeredirect", "tickerarchive_personredirect",
]

CREATE = """
CREATE SEQUENCE tickerarchive_archive_version_seq;
-- archive: which database this is (its replicas copy it), so that a cache shared by several
-- archives (staging and production on one memcached, say) never mixes their numbers.
CREATE TABLE tickerarchive_archive_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    archive text NOT NULL DEFAULT substr(md5(random()::text || clock_timestamp()::text), 1, 12),
    number bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tickerarchive_archive_version (number) VALUES (nextval('tickerarchive_archive_version_seq'));

-- One row per changing transaction, there only until it commits: its deferred trigger moves the version.
CREATE TABLE tickerarchive_archive_change (id bigserial PRIMARY KEY);

CREATE FUNCTION tickerarchive_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('tickerarchive.uncommitted_change', true), '') = '' THEN
        INSERT INTO tickerarchive_archive_change DEFAULT VALUES;
    END IF;
    -- Until it commits, the transaction itself reads its own changes: every changing
    -- statement gives it a number of its own (transaction-local, gone at commit or rollback).
    PERFORM set_config('tickerarchive.uncommitted_change', nextval('tickerarchive_archive_version_seq')::text, true);
    RETURN NULL;
END $$;

CREATE FUNCTION tickerarchive_move_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickerarchive_archive_version
        SET number = nextval('tickerarchive_archive_version_seq'), changed_at = clock_timestamp();
    DELETE FROM tickerarchive_archive_change WHERE id = NEW.id;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER archive_version_at_commit AFTER INSERT ON tickerarchive_archive_change
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tickerarchive_move_version();
ALTER TABLE tickerarchive_archive_change ENABLE ALWAYS TRIGGER archive_version_at_commit;
"""

# ENABLE ALWAYS: the triggers fire even under session_replication_role = replica, which
# turns ordinary triggers off (a bulk load might set it).
WATCH = """
CREATE TRIGGER archive_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION tickerarchive_note_change();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER archive_changed;
"""

DROP = """
DROP TABLE tickerarchive_archive_change;
DROP FUNCTION tickerarchive_move_version();
DROP FUNCTION tickerarchive_note_change() CASCADE;
DROP TABLE tickerarchive_archive_version;
DROP SEQUENCE tickerarchive_archive_version_seq;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0005_link_reference_triggers"),
    ]

    operations = [
        migrations.RunSQL(CREATE + "".join(WATCH.format(table=table) for table in WATCHED_TABLES), DROP),
    ]
