"""Whole search results as rows: CSV and JSON Lines exports and the Atom feed's entries.

Exports stream over a PostgreSQL server-side cursor (`QuerySet.iterator`), newest first:
memory stays the same for a thousand rows or a million. Places and people come in the
same query, aggregated with ARRAY(subquery), so no row costs a query of its own.
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse

from tickerarchive.browse import berlin_iso
from tickerarchive.models import Entry, Person, Place, linked_values
from tickerarchive.search import attach_linked, with_link_ids

FIELDS = ("id", "permalink", "ticker", "published_at", "headline", "body", "places", "people",
          "source_dump", "source_line")
CHUNK_SIZE = 2000  # rows per fetch from the server-side cursor, and per piece of the response
FEED_SIZE = 50
LIST_SEPARATOR = " "  # between slugs in one CSV cell: slugs hold no spaces
# Characters XML 1.0 cannot carry (a feed with one would not parse); dump text may hold them.
NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def newest_first(entries: QuerySet) -> QuerySet:
    return entries.order_by("-published_at", "-pk")


def export_queryset(entries: QuerySet) -> QuerySet:
    """One row per entry with everything an export needs, links included, as plain values."""
    place_slugs = linked_values(Place, "slug")
    person_slugs = linked_values(Person, "slug")
    return newest_first(entries).annotate(place_slugs=place_slugs, person_slugs=person_slugs).values_list(
        "pk", "ticker__slug", "published_at", "headline", "body", "place_slugs", "person_slugs",
        "source_dump__file_name", "source_line",
    )


def permalink_maker(absolute: Callable[[str], str]) -> Callable[[int], str]:
    """pk → absolute permalink, without resolving a URL per row: the path is split around the id once."""
    head, tail = absolute(reverse("entry", args=[1])).rsplit("1", 1)
    return lambda pk: f"{head}{pk}{tail}"


def export_rows(entries: QuerySet, permalink: Callable[[int], str]) -> Iterator[dict]:
    """The rows of the whole result, read chunk by chunk in one transaction (one snapshot;
    inside a transaction the cursor needs no WITH HOLD copy on the server either)."""
    rows = export_queryset(entries)
    with transaction.atomic(using=rows.db):  # the database the rows are read from: a replica, maybe
        for pk, ticker, moment, headline, body, places, people, dump, line in (
            rows.iterator(chunk_size=CHUNK_SIZE)
        ):
            yield {
                "id": pk, "permalink": permalink(pk), "ticker": ticker, "published_at": berlin_iso(moment),
                "headline": headline, "body": body, "places": places, "people": people,
                "source_dump": dump, "source_line": line,
            }


def in_pieces(lines: Iterator[str], size: int = CHUNK_SIZE) -> Iterator[str]:
    """Lines joined into pieces of `size`: fewer, larger writes to the socket than one per row."""
    piece = []
    for line in lines:
        piece.append(line)
        if len(piece) >= size:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


class _Line:
    """A file-like object whose write returns what csv.writer gives it (the csv module's streaming idiom)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(FIELDS)
    for row in rows:
        yield writer.writerow([
            LIST_SEPARATOR.join(row[name]) if name in ("places", "people") else row[name] for name in FIELDS
        ])


def jsonl_lines(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def feed_entries(entries: QuerySet, size: int = FEED_SIZE) -> list[Entry]:
    """The newest entries of a result with ticker, places and people, for the Atom feed."""
    return attach_linked(list(with_link_ids(newest_first(entries).select_related("ticker"))[:size]))


def xml_text(text: str) -> str:
    return NOT_XML_RE.sub("", text)
