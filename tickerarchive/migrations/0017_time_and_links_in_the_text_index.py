"""The entry's day, month and links become words of its text index: `@day 2025-11-14`,
`@month 2025-11`, `@place 12`, `@person 3` (models.DAY_WORD, MONTH_WORD, LinkKind.word). No
text yields them: a lexeme parsed from text never holds a space; and no word beginning
(`pers:*`) matches them.

Why: a search's newest hits were read by testing every hit of its words against the time,
a person or a region, row by row: `Angriff` with Selenskyj read 15,158 rows of 1,000,000
to keep 1,001. In one GIN scan, `angriff & '@person 3' & ('@day 2025-11-14' | ...)` skips
through the postings of the frequent words to the entries that have them all, and a search
reads its newest hits a stretch of days at a time (search.NewestHits.read_by_day).

The column is dropped and added again (PostgreSQL cannot change a generated expression in
place), which rewrites the table and builds its GIN index anew.
"""
import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import tickerarchive.models

FILTER_WORDS = """
CREATE FUNCTION tickerarchive_filter_words(published timestamptz, place_ids bigint[], person_ids bigint[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- IMMUTABLE, which to_char is not: its pattern here depends on no locale or setting.
    SELECT array_to_tsvector(
        ARRAY['@day ' || to_char(published AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD'),
              '@month ' || to_char(published AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')]
        || ARRAY(SELECT '@place ' || id FROM unnest(place_ids) AS id)
        || ARRAY(SELECT '@person ' || id FROM unnest(person_ids) AS id))
$$;
"""


class AddFieldKeptInTheRow(migrations.AddField):
    """AddField whose column keeps its values in the row (STORAGE MAIN), set in the same ALTER
    TABLE as the column, so that the one rewrite of the table writes them there.

    An entry's headline, body, their originals and its tsvector make about 2 kB, PostgreSQL's
    threshold: by default it moved the largest value, the tsvector, to the TOAST table (756 MB
    at 1,000,000 entries), and every phrase search or ranking that reads it read three or
    four pages more per entry. Kept in the row, the texts are compressed or moved instead,
    which only the 20 entries of a page read."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        definition, params = schema_editor.column_sql(model, field)
        table, column = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(field.column)
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {definition}, ALTER COLUMN {column} SET STORAGE MAIN", params)


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0016_entry_counts_of_places_and_people"),
    ]

    operations = [
        migrations.RunSQL(FILTER_WORDS, "DROP FUNCTION tickerarchive_filter_words(timestamptz, bigint[], bigint[]);"),
        migrations.RemoveIndex(model_name="entry", name="entry_search"),
        migrations.RemoveField(model_name="entry", name="search_vector"),
        AddFieldKeptInTheRow(
            model_name="entry",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.CombinedSearchVector(
                        django.contrib.postgres.search.SearchVector("headline", config="german", weight="A"),
                        "||",
                        django.contrib.postgres.search.SearchVector("body", config="german", weight="B"),
                        django.contrib.postgres.search.SearchConfig("german"),
                    ),
                    "||",
                    tickerarchive.models.FilterWords(),
                    django.contrib.postgres.search.SearchConfig("german"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        # Building the index of 1,000,000 entries in memory, not in many runs spilled to disk.
        migrations.RunSQL("SET LOCAL maintenance_work_mem = '512MB';", migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="entry",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="entry_search"),
        ),
        # The new column has no statistics yet: without them the planner guesses how many
        # entries a word matches until autovacuum comes by.
        migrations.RunSQL("ANALYZE tickerarchive_entry;", migrations.RunSQL.noop),
    ]
