"""The GIN indexes of migration 0008 take each new entry at once, not through a pending list.

With the pending list (GIN's default), ingest spent two to four times the database CPU of an
ingest without them: the list of new keys is merged into the index again and again, and the
keys here are few and very frequent (Kiew, Selenskyj). Written directly, ingesting 100,000
generated entries took about as long as without the indexes (medians of 3 runs: 28.8 s, and
27.7 s without them, against 32.2 s with outliers of 74 and 95 s before). Searches no longer
read the pending list either.
"""
from django.db import migrations

INDEXES = ("entry_place_ids", "entry_person_ids")


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0008_entry_link_array_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            # Turning the list off leaves the keys already in it: they are merged now.
            [f"ALTER INDEX {name} SET (fastupdate = off); SELECT gin_clean_pending_list('{name}');" for name in INDEXES],
            [f"ALTER INDEX {name} RESET (fastupdate);" for name in INDEXES],
        ),
    ]
