"""Reader pages. Thin: queries live in search.py and browse.py."""
from datetime import date

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from tickerarchive import browse, health
from tickerarchive.filters import EntryFilter
from tickerarchive.models import Entry, Person, PersonRedirect, Place, PlaceRedirect, Ticker
from tickerarchive.search import Criteria, attach_links, filter_entries, run_search, with_link_ids


def page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("seite", 1)))
    except ValueError:
        return 1


def search(request):
    filterset = EntryFilter(request.GET or None, queryset=Entry.objects.all())
    result = None
    if filterset.is_bound and filterset.is_valid():
        result = run_search(filterset.criteria, filterset.qs, after=request.GET.get("nach"),
                            before=request.GET.get("vor"), page_number=page_number(request))
    elif not filterset.is_bound:
        result = run_search(Criteria(), Entry.objects.all(), after=None, with_facets=True)
    status = 400 if filterset.is_bound and not filterset.is_valid() else 200
    return render(request, "archive/search.html", {"filter": filterset, "result": result}, status=status)


def entry_detail(request, pk: int):
    entry = attach_links(get_object_or_404(
        with_link_ids(Entry.objects.select_related("ticker", "source_dump").prefetch_related("pictures")), pk=pk
    ))
    older, newer = browse.neighbour_entries(entry)
    return render(request, "archive/entry.html", {
        "entry": entry, "older": older, "newer": newer, "raw_lines": browse.raw_excerpt(entry),
        "day": browse.local_day(entry.published_at),
    })


def ticker_detail(request, ticker: str):
    ticker = get_object_or_404(Ticker, slug=ticker)
    result = run_search(Criteria(ticker=ticker), Entry.objects.filter(ticker=ticker),
                        after=request.GET.get("nach"), before=request.GET.get("vor"), with_facets=False)
    newest = result.page.entries[0].published_at if result.page.entries else None
    return render(request, "archive/ticker.html", {
        "ticker": ticker, "result": result,
        "month": browse.month_calendar(ticker, browse.local_day(newest)) if newest else None,
    })


def day_page(request, ticker: str, year: int, month: int, day: int):
    ticker = get_object_or_404(Ticker, slug=ticker)
    try:
        the_day = date(year, month, day)
    except ValueError:
        raise Http404("Kein gültiges Datum") from None
    if the_day.year >= date.max.year:  # the calendar and the next day would leave the date range
        raise Http404("Kein gültiges Datum")
    entries = list(browse.entries_of_day(ticker, the_day))
    earlier, later = browse.neighbour_days(ticker, the_day)
    return render(request, "archive/day.html", {
        "ticker": ticker, "day": the_day, "entries": entries, "earlier": earlier, "later": later,
        "month": browse.month_calendar(ticker, the_day),
    }, status=200 if entries else 404)


def _listing(request, template: str, context: dict, criteria: Criteria):
    result = run_search(criteria, filter_entries(criteria), after=request.GET.get("nach"),
                        before=request.GET.get("vor"), with_facets=False)
    return render(request, template, {**context, "result": result})


def place_detail(request, slug: str):
    place = Place.objects.filter(slug=slug).select_related("parent").first()
    if place is None:
        moved = get_object_or_404(PlaceRedirect.objects.select_related("place"), old_slug=slug)
        return redirect("place", slug=moved.place.slug, permanent=True)
    return _listing(request, "archive/place.html", {
        "place": place, "children": place.children.order_by("name"), "aliases": place.aliases.order_by("name"),
    }, Criteria(region=place))


def person_detail(request, slug: str):
    person = Person.objects.filter(slug=slug).first()
    if person is None:
        moved = get_object_or_404(PersonRedirect.objects.select_related("person"), old_slug=slug)
        return redirect("person", slug=moved.person.slug, permanent=True)
    return _listing(request, "archive/person.html", {"person": person, "aliases": person.aliases.order_by("name")},
                    Criteria(person=person))


def healthz(request):
    """Each database's state for load balancers and monitoring: 503 while the primary is down
    (replicas may still serve reads, but nothing can be corrected or ingested)."""
    states = list(health.database_states.states().values())
    reading = set(health.usable_replicas())
    body = {"databases": [{**state.as_json(), "serves_reads": state.role == "primary" or state.alias in reading}
                          for state in states]}
    primary_up = all(state.up for state in states if state.role == "primary")
    response = JsonResponse(body, status=200 if primary_up else 503)
    response["Cache-Control"] = "no-store"
    return response
