"""The region and person filters find links as words of the text index (migration 0017), so
the GIN indexes on the entries' arrays of linked places and people (0008) go, and their cost
at ingest with them. Deleting a place or person found its entries by those indexes: it looks
their words up instead.
"""
import importlib

from django.db import migrations

links_0014 = importlib.import_module("tickerarchive.migrations.0014_automatic_links_on_the_entry")
ENTRY = links_0014.ENTRY
INDEXES = (("entry_place_ids", "place_ids"), ("entry_person_ids", "person_ids"))
WORD = {"place_ids": "@place ", "person_ids": "@person "}  # models.LinkKind.word, as of this migration
BY_ARRAY = "({column} && ARRAY(SELECT id FROM old_rows)"
BY_WORD = "(search_vector @@ (SELECT string_agg(quote_literal('{word}' || id), ' | ') FROM old_rows)::tsquery"
assert BY_ARRAY in links_0014.STRIP_FOUND


def delete_links(*, by_word: bool) -> list[str]:
    sql = []
    for links, target, targets, found, column in links_0014.KINDS:
        names = dict(entry=ENTRY, found=found, column=column, links=links, target=target, word=WORD[column])
        strip = links_0014.STRIP_FOUND.replace(BY_ARRAY, BY_WORD) if by_word else links_0014.STRIP_FOUND
        sql.append(links_0014.DELETE_LINKS.format(
            targets=targets, links=links, target=target,
            or_found_exists=links_0014.FOUND_EXISTS.format(**names), strip_found=strip.format(**names)))
    return sql


class Migration(migrations.Migration):

    dependencies = [
        ("tickerarchive", "0017_time_and_links_in_the_text_index"),
    ]

    operations = [
        migrations.RunSQL(
            delete_links(by_word=True) + [f"DROP INDEX {name};" for name, _ in INDEXES],
            [f"CREATE INDEX {name} ON {ENTRY} USING gin ({column}) WITH (fastupdate = off);" for name, column in INDEXES]
            + delete_links(by_word=False),
        ),
    ]
