"""Queries for browsing: day pages, the calendar of days held, an entry's neighbours."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import TruncDate

from ingest.parser import BERLIN
from tickerarchive.models import Entry, Ticker
from tickerarchive.search import berlin_midnight

RAW_CONTEXT = 4  # raw dump lines shown around an entry's marker


def entries_of_day(ticker: Ticker, day: date) -> QuerySet:
    """The day as the ticker had it: newest first, same-minute entries in page order."""
    return (
        Entry.objects.filter(ticker=ticker, published_at__gte=berlin_midnight(day),
                             published_at__lt=berlin_midnight(day + timedelta(days=1)))
        .order_by("-published_at", "position_key", "-pk")
        .prefetch_related("pictures")
    )


def local_day(moment) -> date:
    return moment.astimezone(BERLIN).date()


def berlin_iso(moment) -> str:
    """ISO 8601 with the Berlin offset of that moment (+01:00 or +02:00)."""
    return moment.astimezone(BERLIN).isoformat()


def neighbour_days(ticker: Ticker, day: date) -> tuple[date | None, date | None]:
    """The nearest earlier and later days that hold entries (gaps are skipped)."""
    start, end = berlin_midnight(day), berlin_midnight(day + timedelta(days=1))
    earlier = Entry.objects.filter(ticker=ticker, published_at__lt=start).order_by("-published_at").first()
    later = Entry.objects.filter(ticker=ticker, published_at__gte=end).order_by("published_at").first()
    return (local_day(earlier.published_at) if earlier else None, local_day(later.published_at) if later else None)


@dataclass
class Month:
    year: int
    month: int
    weeks: list[list[tuple[date | None, bool]]]  # (day, has entries); None pads the grid
    previous: date | None
    next: date | None


def month_calendar(ticker: Ticker, day: date) -> Month:
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    held = set(
        Entry.objects.filter(ticker=ticker, published_at__gte=berlin_midnight(first), published_at__lt=berlin_midnight(after))
        .annotate(day=TruncDate("published_at", tzinfo=BERLIN)).values_list("day", flat=True).distinct()
    )
    weeks = [
        [(d if d.month == first.month else None, d in held) for d in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    earlier = Entry.objects.filter(ticker=ticker, published_at__lt=berlin_midnight(first)).order_by("-published_at").first()
    later = Entry.objects.filter(ticker=ticker, published_at__gte=berlin_midnight(after)).order_by("published_at").first()
    return Month(first.year, first.month, weeks,
                 local_day(earlier.published_at) if earlier else None, local_day(later.published_at) if later else None)


def neighbour_entries(entry: Entry) -> tuple[Entry | None, Entry | None]:
    """The ticker's entry before and after this one in time (ties broken by id)."""
    same_ticker = Entry.objects.filter(ticker_id=entry.ticker_id)
    # The plain bound on the time lets PostgreSQL start the ticker's time index at this entry;
    # with only the OR it walked the index from the newest entry down (0.1 s at a million).
    older = same_ticker.filter(published_at__lte=entry.published_at).filter(
        Q(published_at__lt=entry.published_at) | Q(published_at=entry.published_at, pk__lt=entry.pk)
    ).order_by("-published_at", "-pk").first()
    newer = same_ticker.filter(published_at__gte=entry.published_at).filter(
        Q(published_at__gt=entry.published_at) | Q(published_at=entry.published_at, pk__gt=entry.pk)
    ).order_by("published_at", "pk").first()
    return older, newer


def raw_excerpt(entry: Entry) -> list[tuple[int, str]]:
    first = max(1, entry.source_line - RAW_CONTEXT)
    last = entry.source_line + RAW_CONTEXT + 2 * (entry.body.count("\n\n") + 1) + 2 * entry.pictures.count()
    return entry.source_dump.lines(first, last)
