"""Queries of the reader side: full-text search, filters, capped counts, keyset pages, facets.

Views call these; they hold no query logic of their own. Everything here is plain
PostgreSQL: websearch_to_tsquery over a stored, GIN-indexed tsvector, no extensions.
"""
from __future__ import annotations

import base64
import difflib
import math
import re
from collections import Counter
from collections.abc import Callable, Container
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connections, router
from django.db.models import BigIntegerField, Func, Max, Min, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from rapidfuzz import fuzz, process

from ingest.parser import BERLIN
from tickerarchive.models import (
    DAY_WORD, MONTH_WORD, Entry, Person, PersonAlias, Place, PlaceAlias, PlaceUnit, Ticker, any_word, link_word,
    linked_to_any, matching_text_index, named_exactly, with_any_word,
)
from tickerarchive.pagecache import data_version

CONFIG = "german"
# Counts stop here ("more than 1,000"); the facets, timeline and map count the newest COUNT_CAP
# hits, and relevance ranks them: one read of the newest COUNT_CAP + 1 hits serves all of it.
# MAX_RELEVANCE_PAGE pages of PAGE_SIZE cover them.
COUNT_CAP = 1_000
PAGE_SIZE = 20
MAX_RELEVANCE_PAGE = 50  # relevance order pages by offset; deeper pages are refused
MAX_QUERY_LENGTH = 1000  # longer input is cut, not rejected
# Sentinels around highlighted words, turned into <mark> after the text is safe.
START, STOP = "\x02", "\x03"


class HtmlEscaped(Func):
    """The text HTML-escaped in SQL. ts_headline drops anything that looks like a tag
    (`<b>` in a dump would vanish) but keeps entities, so we escape before highlighting."""

    # chr(2) and chr(3) are our highlight sentinels: text from a dump loses them first.
    template = (
        "replace(replace(replace(replace(replace(translate(%(expressions)s, chr(2) || chr(3), ''), "
        "'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
        "'\"', '&quot;'), '''', '&#x27;')"
    )
    output_field = TextField()


def websearch(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=CONFIG)


def full_text_filter(queryset: QuerySet, text: str) -> QuerySet:
    """Entries matching `text` in websearch syntax (phrases, -exclusion, OR); uses the GIN index."""
    return queryset.filter(search_vector=websearch(clean_query(text)))


def clean_query(text: str) -> str:
    return text.replace("\x00", " ")[:MAX_QUERY_LENGTH].strip()


def berlin_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BERLIN)


def place_and_descendants(place: Place) -> list[int]:
    """A region includes its towns: the place and everything below it."""
    with connections[router.db_for_read(Place)].cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE tree(id) AS (
                    SELECT %s::bigint
                    UNION SELECT p.id FROM {Place._meta.db_table} p JOIN tree ON p.parent_id = tree.id
                ) SELECT id FROM tree""",
            [place.pk],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class Criteria:
    """What a reader asked for; built from the FilterSet's cleaned data."""

    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    ticker: object = None
    region: Place | None = None
    person: Person | None = None
    order: str = "newest"
    names: "NamedIn | None" = None  # filled by run_search for the page's note

    @property
    def relevance(self) -> bool:
        return self.order == "relevance" and bool(self.q)


@dataclass
class NamedIn:
    """The query is the name of a known place or person: its other spellings count too."""

    places: list[Place] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.places or self.people)

    def titles(self) -> str:
        return ", ".join(p.name for p in self.places + self.people)

    def spellings(self, most: int = 8) -> list[str]:
        """The names first, then the shortest aliases (GeoNames lists dozens for big cities),
        codes such as IEV last."""
        names = [p.name for p in self.places + self.people]
        aliases = set(PlaceAlias.objects.filter(place__in=self.places).values_list("name", flat=True)) if self.places else set()
        if self.people:
            aliases |= set(PersonAlias.objects.filter(person__in=self.people).values_list("name", flat=True))
        aliases -= set(names)
        aliases = sorted(aliases, key=lambda a: (a.isupper() or len(a) < 4, len(a), a))
        return names + aliases[: max(0, most - len(names))]


def named_in(q: str) -> NamedIn:
    """Exact (case-insensitive) name or alias; queries with operators are left as typed."""
    text = clean_query(q)
    if not text or re.search(r'["\-]|\bOR\b', text):
        return NamedIn()
    place_ids, person_ids = named_exactly(text)
    return NamedIn(places=list(Place.objects.filter(pk__in=place_ids)) if place_ids else [],
                   people=list(Person.objects.filter(pk__in=person_ids)) if person_ids else [])


def link_words(names: NamedIn) -> list[str]:
    """The index words of the links to these places and people (models.link_word)."""
    return [link_word("place", p.pk) for p in names.places] + [link_word("person", p.pk) for p in names.people]


def linked_to_names(names: NamedIn) -> Q:
    """Entries linked to any of these places or people (an empty Q for none)."""
    words = link_words(names)
    return Q(with_any_word(words)) if words else Q()


def matching_or_linked(q: str, names: NamedIn) -> Q:
    """Entries matching q, or linked to the places and people it names: one tsquery, so that
    PostgreSQL asks the text index for it and a stretch of days in one scan (two conditions
    ORed, it read the days' entries and tested each: `Ukraine` took 80 ms, not 5)."""
    words = link_words(names)
    if not words:
        return Q(search_vector=websearch(clean_query(q)))
    return Q(matching_text_index("websearch_to_tsquery(%s::regconfig, %s) || %s::tsquery",
                                 [CONFIG, clean_query(q), any_word(words)]))


def filter_entries(criteria: Criteria, queryset: QuerySet | None = None) -> QuerySet:
    entries = Entry.objects.all() if queryset is None else queryset
    if criteria.q:
        if criteria.names is None:
            criteria.names = named_in(criteria.q)
        entries = entries.filter(matching_or_linked(criteria.q, criteria.names))
    if criteria.date_from:
        entries = entries.filter(published_at__gte=berlin_midnight(criteria.date_from))
    if criteria.date_to and criteria.date_to < date.max:  # inclusive: up to the Berlin midnight that ends the day
        entries = entries.filter(published_at__lt=berlin_midnight(criteria.date_to + timedelta(days=1)))
    if criteria.ticker:
        entries = entries.filter(ticker=criteria.ticker)
    if criteria.region:
        entries = entries.filter(linked_to_any("place", place_and_descendants(criteria.region)))
    if criteria.person:
        entries = entries.filter(linked_to_any("person", [criteria.person.pk]))
    return entries


def count_up_to(count: int, cap: int) -> tuple[int, bool]:
    return (count, True) if count <= cap else (cap, False)


class Microseconds(Func):
    """A time as whole microseconds since 1970, or of its Berlin wall-clock time since
    1970-01-01 00:00: integers, which Python reads for a thousand hits many times faster than
    timestamps."""

    output_field = BigIntegerField()

    def __init__(self, expression, *, berlin: bool = False):
        at = f" AT TIME ZONE '{BERLIN.key}'" if berlin else ""
        super().__init__(expression, template=f"(extract(epoch FROM %(expressions)s{at}) * 1000000)::bigint")


EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
WALL_EPOCH = datetime(1970, 1, 1)


class Hit(NamedTuple):
    pk: int
    ticker_id: int
    micros: int  # published_at: Microseconds
    berlin_micros: int  # its Berlin wall-clock time: Microseconds(berlin=True)
    place_ids: tuple = ()  # read only for the facets: the entry's arrays of linked places and people
    person_ids: tuple = ()

    @property
    def published_at(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.micros)

    def as_entry(self) -> Entry:
        """An unsaved Entry with what a page needs to place it (with_details reads the rest by id)."""
        return Entry(pk=self.pk, ticker_id=self.ticker_id, published_at=self.published_at)


def ranked(sql: str, params, q: str, *, ordered: bool) -> tuple[str, list]:
    """The hits of `sql` (a query of NewestHits.read, rows limited) with their ts_rank for q as a
    last column, computed for those rows only. In the same query PostgreSQL computes it for every
    hit before keeping the newest: for `Angriff` with Selenskyj (15,158 hits of 1,000,000) it
    read and ranked the text of fifteen times the rows it kept."""
    entry = Entry._meta.db_table
    order = " ORDER BY hit.hit_micros DESC, hit.pk DESC" if ordered else ""
    return (
        f'SELECT hit.*, ts_rank(ranked_entry.search_vector, websearch_to_tsquery(%s::regconfig, %s)) FROM ({sql}) AS hit '
        f'JOIN "{entry}" AS ranked_entry ON ranked_entry.id = hit.pk{order}',
        [CONFIG, clean_query(q), *params],
    )


def entry_column(column: str) -> RawSQL:
    """A column of the entry that is no model field (place_ids, person_ids: see Entry)."""
    return RawSQL(f'"{Entry._meta.db_table}"."{column}"', [])


@dataclass
class NewestHits:
    """The newest hits of a search, newest first, and their ts_rank when the search is by
    relevance. A search reads them once and takes its count, its first page in either order,
    its facets, timeline and map from them."""

    rows: list[Hit]
    ranks: list[float] | None = None

    @classmethod
    def read(cls, entries: QuerySet, limit: int, *, rank_q: str | None = None, links: bool = False,
             ordered: bool = True, time_index: bool = True) -> "NewestHits":
        """The newest `limit` hits (an index walk on time and id when there are many), or with
        `ordered=False` any `limit` of them, which are all of them when fewer come back.
        `links`: with their arrays of linked places and people, for the facets. `time_index=False`:
        ordered without walking the time index (all hits found first, then sorted)."""
        columns = {"hit_micros": Microseconds("published_at"), "hit_berlin_micros": Microseconds("published_at", berlin=True)}
        if links:
            columns |= {"hit_place_ids": entry_column("place_ids"), "hit_person_ids": entry_column("person_ids")}
        order = ("-published_at", "-pk") if time_index else ("-hit_micros", "-pk")
        entries = entries.annotate(**columns).order_by(*(order if ordered else ()))
        # Straight from the cursor: Django's values_list would pass every value through a converter.
        sql, params = entries.values_list("pk", "ticker_id", *columns)[:limit].query.sql_with_params()
        if rank_q:
            sql, params = ranked(sql, params, rank_q, ordered=ordered)
        with connections[entries.db].cursor() as cursor:  # the database the request reads from
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not ordered:
            rows.sort(key=lambda row: (row[2], row[0]), reverse=True)
        width = 2 + len(columns)  # pk, ticker_id and the Hit columns; the rank comes last
        return cls([Hit(*row[:width]) for row in rows], [row[width] for row in rows] if rank_q else None)

    @classmethod
    def read_by_day(cls, entries: QuerySet, limit: int, span: "Span", *, rank_q: str | None = None,
                    links: bool = False) -> "NewestHits":
        """read() a stretch of days at a time, newest first, until `limit` hits: each read asks
        the text index for the search's words and the words of its days together (time_words),
        which costs about the hits of those days, however frequent the words are in the whole
        archive. Each next stretch is as long as the hits per day so far say the
        rest needs (with a fifth more), at most eight times the last, and at least twice the
        last unless the last confirmed the rate: a word may be rare lately and frequent years
        ago. Past MAX_DAYS_PER_READ, the rest in one read by time."""
        rows, ranks = [], []
        newest, days_per_read = span.newest, FIRST_DAYS_PER_READ
        per_day = None  # hits per day of the stretches read
        while len(rows) < limit and newest >= span.oldest:
            days = min(days_per_read, (newest - span.oldest).days + 1)
            oldest = newest - timedelta(days=days - 1)
            end = berlin_midnight(newest + timedelta(days=1))
            rest = days > MAX_DAYS_PER_READ
            # This day and all before it, or the stretch's days by their words alone: with
            # their time range too, PostgreSQL also read the time index for that range and
            # ANDed the two (half of a 7 ms read), not knowing that the words imply the range.
            if rest:
                chunk = entries.filter(published_at__lt=end)
            else:
                chunk = entries.filter(with_any_word(time_words(oldest, newest)))
            # Sorted, never by walking the time index: PostgreSQL would expect the hits evenly
            # spread and read most of the table for a rare word.
            hits = cls.read(chunk, limit - len(rows), rank_q=rank_q, links=links, time_index=False)
            rows += hits.rows
            ranks += hits.ranks or []
            if rest:
                break
            # Hits per day of the time read so far (the newest day may have begun lately);
            # none yet: as far as the next read may reach.
            days_read = (span.until - berlin_midnight(oldest)) / timedelta(days=1)
            wanted = math.ceil((limit - len(rows)) * days_read / len(rows) * 1.2) if rows else 8 * days
            # A stretch that found its hits at half the rate of the days before it or more
            # confirms the estimate: the next reads what it says, however short. (Always at
            # least twice the last, the last stretch of `Hafen Drohnen` read 1,300 hits for
            # 245.) A first stretch, or one where the word grew rarer, at least doubles.
            confirmed = per_day is not None and len(hits.rows) / days >= per_day / 2
            days_per_read = min(max(FIRST_DAYS_PER_READ if confirmed else 2 * days, wanted), 8 * days)
            per_day = len(rows) / days_read
            newest = oldest - timedelta(days=1)
        return cls(rows, ranks if rank_q else None)

    def newest(self, number: int) -> "NewestHits":
        return NewestHits(self.rows[:number], self.ranks[:number] if self.ranks is not None else None)

    @cached_property
    def berlin_times(self) -> list[datetime]:
        """Berlin wall times, naive: what days, hours and months are counted in."""
        return [WALL_EPOCH + timedelta(microseconds=hit.berlin_micros) for hit in self.rows]

    @cached_property
    def per_day(self) -> Counter:
        return Counter(moment.date() for moment in self.berlin_times)


FIRST_DAYS_PER_READ = 7
MAX_DAYS_PER_READ = 1100  # about three years; more are read as one range of time


def time_words(oldest: date, newest: date) -> list[str]:
    """Index words for the entries of these days (Berlin time): a month word for each whole
    month, day words for the rest. Few words keep the index scan cheap: a short word list
    of a rare day is read whole, a month's long one only where the search's words lead."""
    words, day = [], oldest
    while day <= newest:
        if day.day == 1 and _month_end(day) <= newest:
            words.append(MONTH_WORD.format(day))
            day = _month_end(day) + timedelta(days=1)
        else:
            words.append(DAY_WORD.format(day))
            day += timedelta(days=1)
    return words


@dataclass
class Span:
    """The Berlin days between which a search's hits lie: the archive's, narrowed to its dates;
    `until`: the newest time a hit can have."""

    oldest: date
    newest: date
    until: datetime


def span_of(criteria: Criteria, entries: QuerySet) -> Span | None:
    """Where read_by_day walks, for a search by words, a region or a person (the text index
    holds them; a listing of everything reads the time index); None when no hit can be."""
    if not (criteria.q or criteria.region or criteria.person):
        return None
    first, last = Entry.objects.using(entries.db).aggregate(Min("published_at"), Max("published_at")).values()
    if last is None:
        return None
    oldest, newest = first.astimezone(BERLIN).date(), last.astimezone(BERLIN).date()
    if criteria.date_from:
        oldest = max(oldest, criteria.date_from)
    until = last
    if criteria.date_to and criteria.date_to < newest:
        newest, until = criteria.date_to, berlin_midnight(criteria.date_to + timedelta(days=1))
    return Span(oldest, newest, until) if oldest <= newest else None


# --- pages ----------------------------------------------------------------------------
def encode_cursor(entry: Entry) -> str:
    raw = f"{entry.published_at.isoformat()}|{entry.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        moment, pk = datetime.fromisoformat(moment), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None
    # Only what encode_cursor could have written: an aware time and an id PostgreSQL can compare.
    return (moment, pk) if moment.tzinfo is not None and 0 < pk < 2**63 else None


@dataclass
class Page:
    entries: list[Entry]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    number: int | None = None  # relevance pages are numbered
    has_next: bool = False
    has_previous: bool = False
    ranked_among: int | None = None  # relevance ranked only the newest this many hits: there were more


def newest_first_page(entries: QuerySet, *, after: str | None = None, before: str | None = None,
                      size: int = PAGE_SIZE) -> Page:
    """Keyset pagination on (published_at, id), newest first: as fast on page 1,000 as on page 1."""
    if before and (key := decode_cursor(before)):
        moment, pk = key
        older_first = entries.filter(Q(published_at__gt=moment) | Q(published_at=moment, pk__gt=pk))
        rows = list(older_first.order_by("published_at", "pk")[: size + 1])
        return _page_before(list(reversed(rows[:size])), has_previous=len(rows) > size)
    if after and (key := decode_cursor(after)):
        moment, pk = key
        entries = entries.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    return _newest_rows_page(list(entries.order_by("-published_at", "-pk")[: size + 1]), size, after)


def page_of_hits(hits: NewestHits, *, after: str | None = None, before: str | None = None,
                 size: int = PAGE_SIZE) -> Page:
    """newest_first_page from hits read already. With cursors only when they are every hit of
    the search: for a rare word PostgreSQL would otherwise walk the time index over most of the
    table to find the 20 newest of its few hits."""
    rows = hits.rows
    if before and (key := decode_cursor(before)):
        newer = [hit for hit in rows if (hit.micros, hit.pk) > _cursor_position(key)]
        return _page_before([hit.as_entry() for hit in newer[-size:]], has_previous=len(newer) > size)
    if after and (key := decode_cursor(after)):
        rows = [hit for hit in rows if (hit.micros, hit.pk) < _cursor_position(key)]
    return _newest_rows_page([hit.as_entry() for hit in rows[: size + 1]], size, after)


def _cursor_position(key: tuple[datetime, int]) -> tuple[int, int]:
    """A decoded cursor as (Hit.micros, pk)."""
    moment, pk = key
    return (moment - EPOCH) // timedelta(microseconds=1), pk


def _page_before(rows: list[Entry], *, has_previous: bool) -> Page:
    """The page of entries just newer than a `before` cursor, newest first."""
    return Page(rows, next_cursor=encode_cursor(rows[-1]) if rows else None,
                previous_cursor=encode_cursor(rows[0]) if rows and has_previous else None,
                has_next=bool(rows), has_previous=has_previous)


def _newest_rows_page(rows: list[Entry], size: int, after: str | None = None) -> Page:
    """A page from up to size + 1 entries, newest first; the extra one only says there is a next page."""
    has_next = len(rows) > size
    rows = rows[:size]
    return Page(rows, next_cursor=encode_cursor(rows[-1]) if has_next else None,
                previous_cursor=encode_cursor(rows[0]) if rows and after else None,
                has_next=has_next, has_previous=bool(after and rows))


def relevance_page(hits: NewestHits, number: int, size: int = PAGE_SIZE, *, ranked_among: int | None = None) -> Page:
    """Page `number` of hits already read with their rank, by relevance (ts_rank; ties newest
    first). Only the newest COUNT_CAP hits are ranked: ranking reads every hit it ranks, so all
    of them would cost more the larger the archive; `ranked_among` says when there were more."""
    number = max(1, min(number, MAX_RELEVANCE_PAGE))
    order = sorted(range(len(hits.rows)), key=lambda i: (hits.ranks[i], hits.rows[i].micros, hits.rows[i].pk), reverse=True)
    chosen = [hits.rows[i] for i in order[(number - 1) * size: number * size + 1]]
    has_next = len(chosen) > size and number < MAX_RELEVANCE_PAGE
    return Page([hit.as_entry() for hit in chosen[:size]],
                number=number, has_next=has_next, has_previous=number > 1, ranked_among=ranked_among)


def with_details(entries: list[Entry], q: str = "") -> list[Entry]:
    """Highlighted headline and snippet, places and people for one page of entries.

    A second query for just these ids, so ts_headline runs on 20 rows, not the match set."""
    if not entries:
        return []
    ids = [e.pk for e in entries]
    query = with_link_ids(Entry.objects.filter(pk__in=ids).select_related("ticker"))
    if q:
        options = dict(config=CONFIG, start_sel=START, stop_sel=STOP)
        query = query.annotate(
            headline_marked=SearchHeadline(HtmlEscaped("headline"), websearch(clean_query(q)), highlight_all=True, **options),
            snippet_marked=SearchHeadline(HtmlEscaped("body"), websearch(clean_query(q)), max_words=35, min_words=15,
                                          max_fragments=2, fragment_delimiter=" … ", **options),
        )
    by_id = {e.pk: e for e in query}
    detailed = [by_id[pk] for pk in ids if pk in by_id]
    for entry in detailed:
        headline, snippet = getattr(entry, "headline_marked", None), getattr(entry, "snippet_marked", None)
        entry.headline_html = marked(headline) if headline else escape(entry.headline)
        entry.snippet_html = marked(cut_marks(snippet, entry.body)) if snippet and START in snippet else escape(shorten(entry.body))
    return attach_linked(detailed)


def attach_linked(entries: list[Entry]) -> list[Entry]:
    """Sets linked_places and linked_people (by name) of entries read with_link_ids(): one query
    for the places and one for the people of them all."""
    places = Place.objects.filter(pk__in={pk for e in entries for pk in e.linked_place_ids}).only("slug", "name")
    people = (Person.objects.not_rejected().filter(pk__in={pk for e in entries for pk in e.linked_person_ids})
              .only("slug", "name"))
    places, people = list(places.order_by("name")), list(people.order_by("name"))
    for entry in entries:
        place_ids, person_ids = set(entry.linked_place_ids), set(entry.linked_person_ids)
        entry.linked_places = [place for place in places if place.pk in place_ids]
        entry.linked_people = [person for person in people if person.pk in person_ids]
    return entries


def with_link_ids(entries: QuerySet) -> QuerySet:
    """Entries read with their arrays of linked places and people, for attach_linked."""
    return entries.annotate(linked_place_ids=entry_column("place_ids"), linked_person_ids=entry_column("person_ids"))


def attach_links(entry: Entry) -> Entry:
    """attach_linked() for one entry read with_link_ids()."""
    return attach_linked([entry])[0]


def marked(escaped: str) -> SafeString:
    """Highlighted text that was escaped in SQL: only our sentinels become tags. Replacing
    < and > again is a second line of defence; escaped text has none left."""
    safe = escaped.replace("<", "&lt;").replace(">", "&gt;")
    return mark_safe(safe.replace(START, "<mark>").replace(STOP, "</mark>"))


def cut_marks(snippet: str, body: str) -> str:
    """An ellipsis where the highlighted fragments start after the body's start or end before its end
    (compared on letters and digits only: ts_headline drops punctuation at a fragment's edges)."""
    def letters(text: str) -> str:
        return re.sub(r"\W+", "", text.replace(START, "").replace(STOP, ""))

    fragment, whole = letters(snippet), letters(escape(body))
    if fragment and not whole.startswith(fragment[:20]):
        snippet = "… " + snippet
    if fragment and not whole.endswith(fragment[-20:]):
        snippet = snippet + " …"
    return snippet


def shorten(text: str, words: int = 40) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


# --- facets ---------------------------------------------------------------------------
@dataclass
class Facets:
    tickers: list[dict] = field(default_factory=list)
    countries: list[dict] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)
    mapped: list[dict] = field(default_factory=list)  # places with coordinates, for the map
    sample: int | None = None  # counted over only the newest `sample` hits (a huge result set)


def _top(counts: dict, limit: int, tie_break) -> list:
    """(key, count), most first, ties by tie_break(key)."""
    return sorted(counts.items(), key=lambda item: (-item[1], tie_break(item[0])))[:limit]


@dataclass
class LinkedPlace:
    """A place linked to hits, with the region and the country it counts for (PlaceUnit)."""

    place: dict  # slug, name, lat, lon
    region_id: int | None
    country_id: int | None


def linked_places(ids: set[int]) -> tuple[dict[int, LinkedPlace], dict[int, dict]]:
    """(these places with their units, the units' slugs and names by id): one query over the
    few places the hits name, not the whole gazetteer."""
    rows = PlaceUnit.objects.filter(place_id__in=ids).values_list(
        "place_id", "place__slug", "place__name", "place__latitude", "place__longitude",
        "region_id", "region__slug", "region__name", "country_id", "country__slug", "country__name",
    )
    places, units = {}, {}
    for pk, slug, name, lat, lon, region, region_slug, region_name, country, country_slug, country_name in rows:
        places[pk] = LinkedPlace({"slug": slug, "name": name, "lat": lat, "lon": lon}, region, country)
        if region is not None:
            units[region] = {"slug": region_slug, "name": region_name}
        if country is not None:
            units[country] = {"slug": country_slug, "name": country_name}
    return places, units


MAP_PLACES = 200


def facets_of(newest: NewestHits, limit: int = 10, *, sample: int | None = None) -> Facets:
    """The facets of hits read with their link arrays (NewestHits.read(links=True)), counted
    here: the arrays came with the hits, and only the places and people they name are read.
    A region counts an entry linked to it and to one of its towns once, like the region
    filter, which includes the towns."""
    per_ticker = Counter(hit.ticker_id for hit in newest.rows)
    tickers = {t.pk: t for t in Ticker.objects.filter(pk__in=per_ticker)}
    places, units = linked_places({pk for hit in newest.rows for pk in hit.place_ids})
    regions, countries = [], []  # each entry's units once, then counted in one pass each
    for hit in newest.rows:
        if hit.place_ids:
            linked = [places[pk] for pk in hit.place_ids if pk in places]
            regions.extend({place.region_id for place in linked if place.region_id is not None})
            countries.extend({place.country_id for place in linked if place.country_id is not None})
    per_region, per_country = Counter(regions), Counter(countries)
    per_place = Counter(pk for hit in newest.rows for pk in hit.place_ids)
    per_person = Counter(pk for hit in newest.rows for pk in hit.person_ids)
    people = {pk: {"slug": slug, "name": name} for pk, slug, name in Person.objects.not_rejected()
              .filter(pk__in=per_person).values_list("pk", "slug", "name")}
    per_person = {pk: n for pk, n in per_person.items() if pk in people}
    on_the_map = {pk: n for pk, n in per_place.items()
                  if pk in places and places[pk].place["lat"] is not None and places[pk].place["lon"] is not None}

    def named(counts: dict, names: dict, tie_break) -> list[dict]:
        return [{**names[pk], "count": n} for pk, n in _top(counts, limit, tie_break)]

    return Facets(
        tickers=[{"slug": tickers[pk].slug, "name": tickers[pk].title, "count": n}
                 for pk, n in _top(per_ticker, limit, lambda pk: tickers[pk].title)],
        countries=named(per_country, units, lambda pk: pk),
        regions=named(per_region, units, lambda pk: pk),
        people=named(per_person, people, lambda pk: people[pk]["name"]),
        days=[{"date": day, "count": newest.per_day[day]} for day in sorted(newest.per_day, reverse=True)[:31]],
        mapped=[{**places[pk].place, "count": n}
                for pk, n in _top(on_the_map, MAP_PLACES, lambda pk: (places[pk].place["name"], pk))],
        sample=sample,
    )


# --- timeline -------------------------------------------------------------------------
MAX_DAY_BARS = 92  # a longer span is drawn per month, so that a bar stays wide enough to see and click


@dataclass
class Bar:
    """One bar of the timeline: a Berlin hour, day or month, with the dates a click narrows to."""

    start: datetime  # Berlin wall time, naive
    count: int
    date_from: date
    date_to: date


@dataclass
class Timeline:
    unit: str  # "hour", "day" or "month"
    bars: list[Bar]
    sample: int | None = None  # counted over only the newest `sample` hits, like the facets

    @property
    def most(self) -> int:
        return max(bar.count for bar in self.bars)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def timeline_of(newest: NewestHits, criteria: Criteria, *, sample: int | None = None) -> Timeline | None:
    """The timeline of hits already read, counted in Python: no query of its own."""
    times = newest.berlin_times
    per_day = newest.per_day
    if not per_day:
        return None
    first, last = min(per_day), max(per_day)
    # The asked range, when it is short enough to draw, shows its empty days too.
    if criteria.date_from and (last - criteria.date_from).days < MAX_DAY_BARS:
        first = criteria.date_from
    if criteria.date_to and (criteria.date_to - first).days < MAX_DAY_BARS:
        last = criteria.date_to
    if (last - first).days <= 1:
        per_hour = Counter(moment.replace(minute=0, second=0, microsecond=0) for moment in times)
        hours = [datetime.combine(day, time(hour)) for day in _days(first, last) for hour in range(24)]
        return Timeline("hour", [Bar(h, per_hour.get(h, 0), h.date(), h.date()) for h in hours], sample)
    if (last - first).days < MAX_DAY_BARS:
        return Timeline("day", [Bar(datetime.combine(d, time.min), per_day.get(d, 0), d, d) for d in _days(first, last)], sample)
    per_month = Counter()
    for day, n in per_day.items():
        per_month[day.replace(day=1)] += n
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _month_end(month) + timedelta(days=1)
    return Timeline("month", [Bar(datetime.combine(m, time.min), per_month.get(m, 0), m, _month_end(m)) for m in months], sample)


# --- zero hits ------------------------------------------------------------------------
# Without pg_trgm: retry with word beginnings (whole words, then their first letters, which
# survives a typo further on), and suggest the closest words found in those hits.
WORD_RE = re.compile(r"[\wÄÖÜäöüß]{3,}")
TYPO_PREFIX = 5


# An excluded word or phrase of websearch syntax: `-Kiew`, `-"Region Odessa"`.
EXCLUDED_RE = re.compile(r'(?:^|(?<=\s))-("[^"]*"|\S+)')


def split_exclusions(q: str) -> tuple[str, list[str]]:
    """(the query without its exclusions, the excluded words and phrases)."""
    q = clean_query(q)
    return EXCLUDED_RE.sub(" ", q), EXCLUDED_RE.findall(q)


# websearch syntax's OR between two words (any case, as websearch_to_tsquery reads it)
OR_RE = re.compile(r"\s+or\s+", re.IGNORECASE)


PHRASE_RE = re.compile(r'"([^"]*)"?')


def prefix_query(alternative: str, length: int | None = None, whole: Container[str] = ()) -> str | None:
    """`Nowoross` → `nowoross:*`; with length 5, `Noworosijsk` → `nowor:*`; `Hafen Nowoross` →
    `hafen:* & nowoross:*`; a phrase keeps its words in order: `"Hafen Nowoross"` →
    `(hafen:* <-> nowoross:*)`. Words in `whole` are not cut to `length`. `alternative` is one
    side of an OR, without the query's exclusions (split_exclusions): they are no word
    beginnings to look for."""
    def beginnings(text: str) -> list[str]:
        words = [w[:length] if length and w not in whole else w for w in WORD_RE.findall(text)]
        return [f"{w}:*" for w in words if len(w) >= 3]

    terms = []
    for n, part in enumerate(PHRASE_RE.split(alternative)):  # odd parts were inside quotes
        words = beginnings(part)
        if n % 2 and len(words) > 1:
            terms.append("(" + " <-> ".join(words) + ")")
        else:
            terms += words
    return " & ".join(terms) or None


def matching_beginnings(queryset: QuerySet, tsquery: str, exclusions: list[str]) -> QuerySet:
    """Entries matching a raw tsquery of word beginnings, and none of the exclusions."""
    wanted = SearchQuery(tsquery, search_type="raw", config=CONFIG)
    # Each exclusion on its own (`-der` alone is a stop word, which PostgreSQL leaves out).
    for excluded in exclusions:
        wanted &= ~websearch(excluded)
    return queryset.filter(search_vector=wanted)


def prefix_filter(queryset: QuerySet, q: str, is_known: Callable[[str], bool] | None = None) -> QuerySet | None:
    """Entries with the word beginnings of q, and none of its exclusions. Each OR alternative
    is widened on its own: its whole words as beginnings where that finds entries, else the
    first TYPO_PREFIX letters of the words the archive lacks (`Noworosijsk OR Waffenru` →
    `(nowor:*) | (waffenru:*)`). Words the archive has are no typos and stay whole: two
    of them that no entry has together (`Solarpark Wasserwerk`) are not widened to `solar:* &
    wasse:*`, which found 93,000 unrelated entries of 1,000,000 in 0.7 s. `is_known`: how a
    word is asked for (is_archive_word, or zero_hit_fallback's memo of it)."""
    is_known = is_known or is_archive_word
    text, exclusions = split_exclusions(q)
    found = []
    for alternative in OR_RE.split(text):
        whole_words = prefix_query(alternative)
        if whole_words and matching_beginnings(queryset, whole_words, exclusions).exists_for_word_beginnings():
            found.append(whole_words)
            continue
        words = set(WORD_RE.findall(alternative))
        known = {word for word in words if is_known(word)}
        cut = prefix_query(alternative, TYPO_PREFIX, whole=known) if words - known else None
        if cut and matching_beginnings(queryset, cut, exclusions).exists_for_word_beginnings():
            found.append(cut)
    if not found:
        return None
    return matching_beginnings(queryset, " | ".join(f"({t})" for t in found), exclusions)


def is_archive_word(word: str) -> bool:
    """Some entry has this word (in any form the stemmer folds together), or it is a stop
    word, which no search looks for: either way no typo to correct."""
    with connections[router.db_for_read(Entry)].cursor() as cursor:
        cursor.execute(
            f"SELECT numnode(q) = 0 OR EXISTS (SELECT 1 FROM {Entry._meta.db_table} WHERE search_vector @@ q) "
            "FROM plainto_tsquery(%s::regconfig, %s) AS q", [CONFIG, word])
        return cursor.fetchone()[0]


class NameWords(NamedTuple):
    written: dict[str, str]  # every word of a name or alias, lower case → as written
    displayed: frozenset[str]  # the words (lower case) of the names the archive displays


def name_words() -> NameWords:
    """The words of the names and aliases of all places and people. Read once per data
    version (migration 0006: any change to the gazetteer moves it), not at every zero-hit
    search: 16,000 words took 16 to 67 ms to read."""
    return _name_words_at(data_version())


@lru_cache(maxsize=1)
def _name_words_at(version: str) -> NameWords:
    def words(*querysets) -> set[str]:
        return {part for names in querysets for name in names.values_list("name", flat=True) for part in name.split()}

    # never the name of a person an editor rejected
    displayed = words(Place.objects, Person.objects.not_rejected())
    every = displayed | words(PlaceAlias.objects, PersonAlias.objects.not_rejected())
    return NameWords({w.lower(): w for w in every if len(w) > 3}, frozenset(w.lower() for w in displayed))


def did_you_mean(q: str, texts: list[str], is_known: Callable[[str], bool] | None = None) -> str | None:
    """Replace words of q by the closest word in texts (and known names), if any is close.
    Of equally close words, one the texts or a displayed name use wins over an alias: `Kiwe`
    is as close to `Kyiw` as to `Kiew`, and the archive calls the city `Kiew`. `is_known`: as
    for prefix_filter."""
    is_known = is_known or is_archive_word
    text_words = {w.lower(): w for text in texts for w in WORD_RE.findall(text) if len(w) > 3}
    names = name_words()
    lowered = text_words | names.written
    choices = list(lowered)
    corrections = {}
    for word in dict.fromkeys(WORD_RE.findall(q)):
        if len(word) <= 3 or word.lower() in lowered or is_known(word):
            continue  # `von` is no typo of `Vonni`, nor `Hafen` of the town `Hagen`
        close = _closest(word.lower(), choices, preferred=lambda w: w in text_words or w in names.displayed)
        if close:
            corrections[word] = lowered[close]
    if not corrections:
        return None
    # Whole words only: correcting `Angrif` must leave the `Angriffe` beside it as typed.
    return WORD_RE.sub(lambda match: corrections.get(match.group(), match.group()), q)


CLOSE_ENOUGH = 0.75  # difflib's ratio a correction needs


def _closest(word: str, candidates: list[str], *, preferred: Callable[[str], bool]) -> str | None:
    """The candidate closest to word by difflib's ratio (at least CLOSE_ENOUGH). Of equally
    close ones, a preferred one, then one with the same letters (`Kiwe` → `Kiew`: two letters
    swapped is the commonest typo), then the larger string, as difflib ranks."""
    # rapidfuzz's ratio, 2·LCS/(a+b), is never below difflib's, whose matched letters are one
    # common subsequence: at the same cutoff its matches hold every word difflib would take,
    # found in about 1 ms among 16,000 words where difflib took 20 ms.
    shortlist = process.extract(word, candidates, scorer=fuzz.ratio, score_cutoff=CLOSE_ENOUGH * 100, limit=None)
    matcher = difflib.SequenceMatcher(b=word)
    letters = sorted(word)
    ranked = []
    for candidate, _score, _index in shortlist:
        matcher.set_seq1(candidate)
        if (ratio := matcher.ratio()) >= CLOSE_ENOUGH:
            ranked.append((ratio, preferred(candidate), sorted(candidate) == letters, candidate))
    return max(ranked)[-1] if ranked else None


# A phrase of websearch syntax that is not excluded: `"Region Odessa"`, but not `-"Region Odessa"`.
INCLUDED_PHRASE_RE = re.compile(r'(?<!-)"([^"]*)"')


def finding_suggestion(criteria: Criteria, suggestion: str | None) -> Criteria | None:
    """The search for the suggestion, with the same filters, if it finds something (a link to
    `Keine Einträge gefunden` helps nobody); its `names` are the places and people it names. A
    corrected phrase whose words never stand side by side is offered as its words
    (`"Explosionen Kiew"` → `Explosionen Kiew`)."""
    if not suggestion:
        return None
    for candidate in dict.fromkeys([suggestion, INCLUDED_PHRASE_RE.sub(r"\1", suggestion)]):
        followed = replace(criteria, q=candidate, names=None)
        if filter_entries(followed).exists():  # which also reads followed.names
            return followed
    return None


def zero_hit_fallback(criteria: Criteria) -> tuple[QuerySet | None, str | None]:
    """(entries with the query's word beginnings, or None; a corrected query that finds entries,
    or None). Nothing when the words as typed find entries and only the exclusions take them
    all away (`Hafen -Hafen`): no typo to widen or correct; and the word beginnings minus the
    exclusions, which few entries have, made PostgreSQL read the whole table for one."""
    text, exclusions = split_exclusions(criteria.q)
    if exclusions and text.strip() and filter_entries(replace(criteria, q=text, names=None)).exists():
        return None, None
    base = filter_entries(replace(criteria, q=""))
    # Both the widening and the suggestion ask whether a word is the archive's: once each.
    is_known = cache(is_archive_word)
    widened = prefix_filter(base, criteria.q, is_known)
    if widened is None:
        # Nothing even begins so (a typo in the first letters): a known name may still be close.
        followed = finding_suggestion(criteria, did_you_mean(criteria.q, [], is_known))
        return None, followed.q if followed else None
    sample = widened.order_by("-published_at").values_list("headline", "body")[:50]
    texts = [" ".join(pair) for pair in sample]
    followed = finding_suggestion(criteria, did_you_mean(criteria.q, texts, is_known))
    if followed is None:
        return widened, None
    if followed.names:
        # The suggestion is a known name: the entries linked to it count too, as they would for
        # the suggestion itself (`Noworosijsk` shows the Novorossijsk entries, whose spelling
        # begins differently), and the page names the spellings.
        criteria.names = followed.names
        widened = widened | base.filter(linked_to_names(followed.names))
    return widened, followed.q


# --- one search, as the page and the API run it ----------------------------------------
@dataclass
class SearchResult:
    criteria: Criteria
    page: Page
    count: int
    count_is_exact: bool
    facets: Facets | None = None
    timeline: Timeline | None = None
    suggestion: str | None = None  # "did you mean"
    prefix_fallback: bool = False  # no hit for the words; showing hits for word beginnings


def run_search(criteria: Criteria, entries: QuerySet, *, after: str | None = None, before: str | None = None,
               page_number: int = 1, with_facets: bool = True, size: int = PAGE_SIZE) -> SearchResult:
    """The page, count and (with_facets) facets and timeline of one search. Its newest
    COUNT_CAP + 1 hits (with their rank, by relevance) are read once, and everything but a later
    newest-first page comes from them; the API and listings without facets, newest first, read
    only the capped count and the page."""
    rank_q = criteria.q if criteria.relevance else None
    newest, count, exact = _counted(entries, newest_too=with_facets or bool(rank_q), rank_q=rank_q,
                                    links=with_facets, unsure=estimate_unsure(criteria.q), span=span_of(criteria, entries))
    prefix_fallback, suggestion = False, None
    if count == 0 and criteria.q:
        widened, suggestion = zero_hit_fallback(criteria)
        if widened is not None:
            entries, prefix_fallback = widened, True
            newest, count, exact = _counted(widened, newest_too=with_facets, links=with_facets, unsure=True)
    if criteria.relevance and not prefix_fallback:
        page = relevance_page(newest.newest(COUNT_CAP), page_number, size, ranked_among=None if exact else COUNT_CAP)
    elif newest is not None and (exact or not (after or before) and len(newest.rows) > size):
        page = page_of_hits(newest, after=after, before=before, size=size)  # cursors only when all are read
    else:
        page = newest_first_page(entries, after=after, before=before, size=size)
    page.entries = with_details(page.entries, criteria.q)
    sample = newest.newest(COUNT_CAP) if with_facets and newest is not None and count else None
    noted = None if exact else COUNT_CAP
    return SearchResult(
        criteria=criteria, page=page, count=count, count_is_exact=exact,
        facets=facets_of(sample, sample=noted) if sample is not None else None,
        timeline=timeline_of(sample, criteria, sample=noted) if sample is not None else None,
        suggestion=suggestion, prefix_fallback=prefix_fallback,
    )


def estimate_unsure(q: str) -> bool:
    """Whether PostgreSQL may expect many more hits than there are, and so walk the whole table
    newest first looking for them: a phrase (estimated as its words ANDed) and an exclusion
    (`Kiew -Kiew` is estimated as `Kiew`). Word-beginning fallbacks are such queries too."""
    return '"' in q or bool(EXCLUDED_RE.search(q))


def _counted(entries: QuerySet, *, newest_too: bool, rank_q: str | None = None, links: bool = False,
             unsure: bool = False, span: Span | None = None) -> tuple[NewestHits | None, int, bool]:
    """(the newest hits, or None when not wanted and not already read; the capped count; exact).

    With a `span` (span_of), the newest hits are read a stretch of days at a time (NewestHits.read_by_day),
    wanted or not: as cheap as any other read of COUNT_CAP + 1 hits, and they give the page.

    When the newest hits are not wanted, or PostgreSQL cannot estimate how many hits there are
    (`unsure`: see estimate_unsure), the hits are first read in any order, the cheapest plan
    that stops at the cap (newest first, PostgreSQL would walk the time index expecting hits
    everywhere: for a rare word or phrase, most of the table). Fewer than the cap are all the hits, and give
    the page too. Otherwise the newest are read in order, if wanted."""
    if span is not None:
        newest = NewestHits.read_by_day(entries, COUNT_CAP + 1, span, rank_q=rank_q, links=links)
        return (newest, *count_up_to(len(newest.rows), COUNT_CAP))
    if not newest_too or unsure:
        some = NewestHits.read(entries, COUNT_CAP + 1, rank_q=rank_q, links=links, ordered=False)
        if len(some.rows) <= COUNT_CAP:
            return some, len(some.rows), True
        if not newest_too:
            return None, COUNT_CAP, False
    newest = NewestHits.read(entries, COUNT_CAP + 1, rank_q=rank_q, links=links)
    return (newest, *count_up_to(len(newest.rows), COUNT_CAP))
