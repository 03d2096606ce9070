"""The link tables' trigger functions plan their statements at each call.

After five runs of a statement, PL/pgSQL keeps one generic plan for it for the rest of the
session if that plan looks no costlier than those made for the values. The lookups of the
triggers of migrations 0005 and 0007 (`id = ANY(entries)`) were planned while an ingest's first
dumps went in, when the entry table was small: a scan of the whole table was cheapest then, and
it stayed the plan while the table grew, until the next automatic ANALYZE happened to replace
it. Ingesting 100,000 generated entries took 23-33 s or 71-110 s depending on when that ANALYZE
ran (14 ms per dump in the reference check alone, two thirds of writing the dump). Planned at
each call, with the ids at hand and the table as it is, they read the entries by their key:
27.2-31.7 s in 3 runs (bench/ingest.py), and 31.0 s with autovacuum off for the tables, which
had taken 110 s.

A later CREATE OR REPLACE of one of these functions drops the setting without a word: such a
migration must say `SET plan_cache_mode = force_custom_plan` in the new definition.
"""
from django.db import migrations

FUNCTIONS = (
    "tickerarchive_entryplace_check_references",
    "tickerarchive_entryperson_check_references",
    "tickerarchive_entry_place_ids",
    "tickerarchive_entry_person_ids",
)


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0009_entry_link_array_indexes_without_pending_list"),
    ]

    operations = [
        migrations.RunSQL(
            [f"ALTER FUNCTION {name}() SET plan_cache_mode = force_custom_plan;" for name in FUNCTIONS],
            [f"ALTER FUNCTION {name}() RESET plan_cache_mode;" for name in FUNCTIONS],
        ),
    ]
