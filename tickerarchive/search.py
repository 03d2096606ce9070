"""Queries of the reader side: full-text search, filters, capped counts, keyset pages, facets.

Views call these; they hold no query logic of their own. Everything here is plain
PostgreSQL: websearch_to_tsquery over a stored, GIN-indexed tsvector, no extensions.
"""
from __future__ import annotations

import base64
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, TextField,
)
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ingest.parser import BERLIN
from tickerarchive.models import Entry, EntryPerson, EntryPlace, Person, PersonAlias, Place, PlaceAlias, Ticker
from tickerarchive.pagecache import per_data_version

CONFIG = "german"
COUNT_CAP = 10_000
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
    with connection.cursor() as cursor:
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
        aliases = {a.name for p in self.places + self.people for a in p.aliases.all()} - set(names)
        aliases = sorted(aliases, key=lambda a: (a.isupper() or len(a) < 4, len(a), a))
        return names + aliases[: max(0, most - len(names))]


def named_in(q: str) -> NamedIn:
    """Exact (case-insensitive) name or alias; queries with operators are left as typed."""
    text = clean_query(q)
    if not text or re.search(r'["\-]|\bOR\b', text):
        return NamedIn()
    place_ids = set(Place.objects.filter(name__iexact=text).values_list("pk", flat=True))
    place_ids |= set(PlaceAlias.objects.filter(name__iexact=text).values_list("place_id", flat=True))
    person_ids = set(Person.objects.filter(name__iexact=text).exclude(status=Person.Status.REJECTED).values_list("pk", flat=True))
    person_ids |= set(PersonAlias.objects.filter(name__iexact=text).values_list("person_id", flat=True))
    return NamedIn(
        places=list(Place.objects.filter(pk__in=place_ids).prefetch_related("aliases")),
        people=list(Person.objects.filter(pk__in=person_ids).prefetch_related("aliases")),
    )


def filter_entries(criteria: Criteria, queryset: QuerySet | None = None) -> QuerySet:
    entries = Entry.objects.all() if queryset is None else queryset
    if criteria.q:
        matches = Q(search_vector=websearch(clean_query(criteria.q)))
        if criteria.names is None:
            criteria.names = named_in(criteria.q)
        names = criteria.names
        if names.places:
            matches |= Q(Exists(EntryPlace.objects.filter(entry=OuterRef("pk"), place__in=names.places, removed=False)))
        if names.people:
            matches |= Q(Exists(EntryPerson.objects.filter(entry=OuterRef("pk"), person__in=names.people, removed=False)))
        entries = entries.filter(matches)
    if criteria.date_from:
        entries = entries.filter(published_at__gte=berlin_midnight(criteria.date_from))
    if criteria.date_to and criteria.date_to < date.max:  # inclusive: up to the Berlin midnight that ends the day
        entries = entries.filter(published_at__lt=berlin_midnight(criteria.date_to + timedelta(days=1)))
    if criteria.ticker:
        entries = entries.filter(ticker=criteria.ticker)
    if criteria.region:
        entries = entries.filter(Exists(EntryPlace.objects.filter(
            entry=OuterRef("pk"), place_id__in=place_and_descendants(criteria.region), removed=False,
        )))
    if criteria.person:
        entries = entries.filter(Exists(EntryPerson.objects.filter(
            entry=OuterRef("pk"), person=criteria.person, removed=False,
        )))
    return entries


def capped_count(entries: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, exact): never counts more than cap + 1 rows."""
    return count_up_to(entries.order_by().values("pk")[: cap + 1].count(), cap)


def count_up_to(count: int, cap: int) -> tuple[int, bool]:
    return (count, True) if count <= cap else (cap, False)


@dataclass
class NewestHits:
    """The newest hits of a search as (id, ticker id, time), read once (an index walk on
    time and id). The search page derives its count, first page, facets and timeline from
    them instead of reading the match set once for each."""

    rows: list[tuple[int, int, datetime]]

    @classmethod
    def read(cls, entries: QuerySet, limit: int) -> "NewestHits":
        return cls(list(entries.order_by("-published_at", "-pk").values_list("pk", "ticker_id", "published_at")[:limit]))

    def newest(self, number: int) -> "NewestHits":
        return NewestHits(self.rows[:number])

    @property
    def ids(self) -> list[int]:
        return [pk for pk, _, _ in self.rows]

    def berlin_times(self) -> list[datetime]:
        """Berlin wall times, naive: what days, hours and months are counted in."""
        return [moment.astimezone(BERLIN).replace(tzinfo=None) for _, _, moment in self.rows]


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


def newest_first_page(entries: QuerySet, *, after: str | None = None, before: str | None = None,
                      size: int = PAGE_SIZE) -> Page:
    """Keyset pagination on (published_at, id), newest first: as fast on page 1,000 as on page 1."""
    if before and (key := decode_cursor(before)):
        moment, pk = key
        older_first = entries.filter(Q(published_at__gt=moment) | Q(published_at=moment, pk__gt=pk))
        rows = list(older_first.order_by("published_at", "pk")[: size + 1])
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(rows, next_cursor=encode_cursor(rows[-1]) if rows else None,
                    previous_cursor=encode_cursor(rows[0]) if rows and has_previous else None,
                    has_next=bool(rows), has_previous=has_previous)
    if after and (key := decode_cursor(after)):
        moment, pk = key
        entries = entries.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    return _newest_rows_page(list(entries.order_by("-published_at", "-pk")[: size + 1]), size, after)


def first_page_of(newest: NewestHits, size: int = PAGE_SIZE) -> Page:
    """Page one, newest first, from hits already read: with_details reads the entries by id anyway."""
    return _newest_rows_page([Entry(pk=pk, ticker_id=ticker_id, published_at=moment)
                              for pk, ticker_id, moment in newest.rows[: size + 1]], size)


def _newest_rows_page(rows: list[Entry], size: int, after: str | None = None) -> Page:
    """A page from up to size + 1 entries, newest first; the extra one only says there is a next page."""
    has_next = len(rows) > size
    rows = rows[:size]
    return Page(rows, next_cursor=encode_cursor(rows[-1]) if has_next else None,
                previous_cursor=encode_cursor(rows[0]) if rows and after else None,
                has_next=has_next, has_previous=bool(after and rows))


def relevance_page(entries: QuerySet, q: str, number: int, size: int = PAGE_SIZE) -> Page:
    number = max(1, min(number, MAX_RELEVANCE_PAGE))
    ranked = entries.annotate(rank=SearchRank(F("search_vector"), websearch(clean_query(q)))).order_by("-rank", "-published_at", "-pk")
    rows = list(ranked[(number - 1) * size: number * size + 1])
    has_next = len(rows) > size and number < MAX_RELEVANCE_PAGE
    return Page(rows[:size], number=number, has_next=has_next, has_previous=number > 1)


def with_details(entries: list[Entry], q: str = "") -> list[Entry]:
    """Highlighted headline and snippet, places and people for one page of entries.

    A second query for just these ids, so ts_headline runs on 20 rows, not the match set."""
    if not entries:
        return []
    ids = [e.pk for e in entries]
    query = Entry.objects.filter(pk__in=ids).select_related("ticker").prefetch_related(*link_prefetches())
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
        attach_links(entry)
    return detailed


def visible_place_links() -> QuerySet:
    """Place links as readers see them: none an editor removed. (entry.places.all() would
    include removed links: the through rows carry the flag.)"""
    return EntryPlace.objects.filter(removed=False)


def visible_person_links() -> QuerySet:
    """Person links as readers see them: none an editor removed, no rejected person."""
    return EntryPerson.objects.filter(removed=False).exclude(person__status=Person.Status.REJECTED)


def link_prefetches() -> tuple[Prefetch, Prefetch]:
    """An entry's places and people as readers see them, by name."""
    return (
        Prefetch("entryplace_set", to_attr="place_links",
                 queryset=visible_place_links().select_related("place").order_by("place__name")),
        Prefetch("entryperson_set", to_attr="person_links",
                 queryset=visible_person_links().select_related("person").order_by("person__name")),
    )


def attach_links(entry: Entry) -> Entry:
    """Sets entry.linked_places and entry.linked_people from link_prefetches()."""
    entry.linked_places = [link.place for link in entry.place_links]
    entry.linked_people = [link.person for link in entry.person_links]
    return entry


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


# The unit a linked place counts for (gazetteer levels: country > region > city).
# Regions: a region with its towns, or a town that lies directly in a country (Kiew).
COUNTRY, REGION = Place.Kind.COUNTRY, Place.Kind.REGION


@per_data_version
def place_units() -> dict[int, tuple[int | None, int | None, Place]]:
    """Every place id → (the region it counts for, its country, the place). The gazetteer
    is small (a few thousand places): reading it is cheaper than joining it twice to every
    link of the hits in SQL, and it is read once per data version, not per page (18 ms)."""
    places = {p.pk: p for p in Place.objects.only("pk", "slug", "name", "kind", "parent_id", "latitude", "longitude")}

    def kind(pk: int | None) -> str | None:
        return places[pk].kind if pk in places else None

    units = {}
    for pk, place in places.items():
        parent = place.parent_id
        grandparent = places[parent].parent_id if parent in places else None
        if place.kind == REGION:
            region = pk
        elif kind(parent) == REGION:
            region = parent
        elif kind(parent) == COUNTRY and place.kind != COUNTRY:
            region = pk
        else:
            region = None
        if place.kind == COUNTRY:
            country = pk
        elif kind(parent) == COUNTRY:
            country = parent
        elif kind(grandparent) == COUNTRY:
            country = grandparent
        else:
            country = None
        units[pk] = (region, country, place)
    return units


def _of_entries(links: QuerySet, ids: list[int]) -> QuerySet:
    """Link rows of these entries, the ids sent as one array: `entry_id IN (10,000 parameters)`
    cost more to build and to parse than to run, and made PostgreSQL scan the whole link
    table; `= ANY(array)` probes the (entry, target) index once per id."""
    column = f'"{links.model._meta.db_table}"."entry_id"'
    return links.extra(where=[f"{column} = ANY(%s::bigint[])"], params=[ids])


def _entries_per(links, key_of) -> dict:
    """key → the distinct entries of (entry id, target id) links whose target has a key."""
    entries_per_key: dict = {}
    for entry_id, target_id in links:
        key = key_of(target_id)
        if key is not None:
            entries_per_key.setdefault(key, set()).add(entry_id)
    return entries_per_key


def _top(entries_per_key: dict, limit: int, tie_break) -> list:
    """(key, number of distinct entries), most first, ties by tie_break(key)."""
    return sorted(((key, len(ids)) for key, ids in entries_per_key.items()),
                  key=lambda item: (-item[1], tie_break(item[0])))[:limit]


def _place_counts(links: list[tuple[int, int]], units: dict, level: int, limit: int) -> list[dict]:
    """Matching entries per unit (level 0: region, 1: country): an entry linked to a region
    and one of its towns counts once, like the region filter, which includes the towns."""
    entries_per_unit = _entries_per(links, lambda place_id: units[place_id][level] if place_id in units else None)
    return [{"slug": units[unit][2].slug, "name": units[unit][2].name, "count": count}
            for unit, count in _top(entries_per_unit, limit, lambda unit: unit)]


def _people_counts(ids: list[int], limit: int) -> list[dict]:
    links = list(_of_entries(visible_person_links(), ids).values_list("entry_id", "person_id", "person__slug", "person__name"))
    people = {person_id: (slug, name) for _, person_id, slug, name in links}
    entries_per_person = _entries_per(((entry_id, person_id) for entry_id, person_id, _, _ in links), lambda pk: pk)
    return [{"slug": people[pk][0], "name": people[pk][1], "count": count}
            for pk, count in _top(entries_per_person, limit, lambda pk: people[pk][1])]


MAP_PLACES = 200


def _mapped_places(links: list[tuple[int, int]], units: dict, limit: int = MAP_PLACES) -> list[dict]:
    """Matching entries per linked place that has coordinates (the gazetteer's towns), most first."""
    def on_the_map(place_id: int) -> int | None:
        place = units[place_id][2] if place_id in units else None
        return place_id if place is not None and place.latitude is not None and place.longitude is not None else None

    def place(pk: int) -> Place:
        return units[pk][2]

    return [{"slug": place(pk).slug, "name": place(pk).name, "lat": place(pk).latitude, "lon": place(pk).longitude,
             "count": count}
            for pk, count in _top(_entries_per(links, on_the_map), limit, lambda pk: (place(pk).name, pk))]


def facets(entries: QuerySet, limit: int = 10, *, exact: bool = True, sample: int = COUNT_CAP) -> Facets:
    """Counts per ticker, country, region, person and day within the current result set.

    At most `sample` hits are counted, the newest: all of them when the count is exact (it is at
    most the cap), otherwise the note says so."""
    return facets_of(NewestHits.read(entries, sample), limit, sample=None if exact else sample)


def facets_of(newest: NewestHits, limit: int = 10, *, sample: int | None = None) -> Facets:
    """The facets of hits already read. Their place links are read once (for regions, countries
    and the map) and their person links once, so no facet aggregates or joins the whole table."""
    ids = newest.ids
    per_ticker = Counter(ticker_id for _, ticker_id, _ in newest.rows)
    per_day = Counter(moment.date() for moment in newest.berlin_times())
    tickers = {t.pk: t for t in Ticker.objects.filter(pk__in=per_ticker)}
    links = list(_of_entries(visible_place_links(), ids).values_list("entry_id", "place_id")) if ids else []
    units = place_units() if links else {}
    return Facets(
        tickers=[{"slug": tickers[pk].slug, "name": tickers[pk].title, "count": n}
                 for pk, n in sorted(per_ticker.items(), key=lambda item: (-item[1], tickers[item[0]].title))[:limit]],
        countries=_place_counts(links, units, 1, limit),
        regions=_place_counts(links, units, 0, limit),
        people=_people_counts(ids, limit) if ids else [],
        days=[{"date": day, "count": per_day[day]} for day in sorted(per_day, reverse=True)[:31]],
        mapped=_mapped_places(links, units),
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


def timeline(entries: QuerySet, criteria: Criteria, *, exact: bool = True, sample: int = COUNT_CAP) -> Timeline | None:
    """Hits per Berlin day over the span of the newest `sample` hits (or the asked date range,
    when it is short); per hour when that span is one or two days, per month when it is longer
    than MAX_DAY_BARS."""
    return timeline_of(NewestHits.read(entries, sample), criteria, sample=None if exact else sample)


def timeline_of(newest: NewestHits, criteria: Criteria, *, sample: int | None = None) -> Timeline | None:
    """The timeline of hits already read, counted in Python: no query of its own."""
    times = newest.berlin_times()
    per_day = Counter(moment.date() for moment in times)
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


def prefix_query(q: str, length: int | None = None) -> str | None:
    """`Nowoross` → `nowoross:*`; with length 5, `Noworosijsk` → `nowor:*`."""
    words = [w[:length] if length else w for w in WORD_RE.findall(clean_query(q))]
    words = [w for w in words if len(w) >= 3]
    return " & ".join(f"{w}:*" for w in words) if words else None


def prefix_filter(queryset: QuerySet, q: str, length: int | None = None) -> QuerySet | None:
    tsquery = prefix_query(q, length)
    if not tsquery:
        return None
    return queryset.filter(search_vector=SearchQuery(tsquery, search_type="raw", config=CONFIG))


def did_you_mean(q: str, texts: list[str]) -> str | None:
    """Replace words of q by the closest word in texts (and known names), if any is close."""
    vocabulary = {w for text in texts for w in WORD_RE.findall(text)}
    vocabulary |= {part for name in PlaceAlias.objects.values_list("name", flat=True) for part in name.split()}
    vocabulary |= {part for name in PersonAlias.objects.values_list("name", flat=True) for part in name.split()}
    lowered = {w.lower(): w for w in vocabulary if len(w) > 3}
    suggestion, changed = q, False
    for word in WORD_RE.findall(q):
        if word.lower() in lowered:
            continue
        close = difflib.get_close_matches(word.lower(), lowered, n=1, cutoff=0.75)
        if close:
            suggestion, changed = suggestion.replace(word, lowered[close[0]]), True
    return suggestion if changed else None


def zero_hit_fallback(criteria: Criteria) -> tuple[QuerySet | None, str | None]:
    base = filter_entries(Criteria(**{**criteria.__dict__, "q": ""}))
    for length in (None, TYPO_PREFIX):
        widened = prefix_filter(base, criteria.q, length)
        if widened is not None and widened.exists():
            sample = widened.order_by("-published_at").values_list("headline", "body")[:50]
            return widened, did_you_mean(criteria.q, [" ".join(pair) for pair in sample])
    return None, None


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
    """The page, count and (with_facets) facets and timeline of one search. With facets the
    newest COUNT_CAP + 1 hits are read once and everything but a relevance or later page comes
    from them; without (the API, listings) only the capped count and the page are queried."""
    newest, count, exact = _counted(entries, with_facets)
    prefix_fallback, suggestion = False, None
    if count == 0 and criteria.q:
        widened, suggestion = zero_hit_fallback(criteria)
        if widened is not None:
            entries, prefix_fallback = widened, True
            newest, count, exact = _counted(widened, with_facets)
    if criteria.relevance and not prefix_fallback:
        page = relevance_page(entries, criteria.q, page_number, size)
    elif newest is not None and not (after or before) and (exact or len(newest.rows) > size):
        page = first_page_of(newest, size)
    else:
        page = newest_first_page(entries, after=after, before=before, size=size)
    page.entries = with_details(page.entries, criteria.q)
    sample = newest.newest(COUNT_CAP) if newest is not None and count else None
    noted = None if exact else COUNT_CAP
    return SearchResult(
        criteria=criteria, page=page, count=count, count_is_exact=exact,
        facets=facets_of(sample, sample=noted) if sample is not None else None,
        timeline=timeline_of(sample, criteria, sample=noted) if sample is not None else None,
        suggestion=suggestion, prefix_fallback=prefix_fallback,
    )


def _counted(entries: QuerySet, newest_too: bool) -> tuple[NewestHits | None, int, bool]:
    """(the newest hits or None, capped count, exact): one read of the newest hits when they
    are wanted, else only the cheap count."""
    if not newest_too:
        return (None, *capped_count(entries))
    newest = NewestHits.read(entries, COUNT_CAP + 1)
    return (newest, *count_up_to(len(newest.rows), COUNT_CAP))
