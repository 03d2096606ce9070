"""GIN indexes on the entries' arrays of linked places and people (migration 0007).

Without them the region and person filters tested every row PostgreSQL walked, newest first,
until a thousand hits: for a rare region or person (or a rare word with one) that was most of
the table, 0.5 to 3.6 s at a million entries, and a page that runs into the web statement
timeout is never cached. With them the entries of a rare region are one bitmap. They are small
(5.4 and 2.8 MB at a million entries, beside 141 MB for the text's GIN index); migration 0009
has them written without a pending list, which made them anything but cheap at ingest.
"""
from django.db import migrations

ENTRY = "tickerarchive_entry"
INDEXES = (("entry_place_ids", "place_ids"), ("entry_person_ids", "person_ids"))


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0007_entry_link_arrays"),
    ]

    operations = [
        migrations.RunSQL(
            [f"CREATE INDEX {name} ON {ENTRY} USING gin ({column});" for name, column in INDEXES],
            [f"DROP INDEX {name};" for name, _ in INDEXES],
        ),
    ]
