"""JSON API and exports: the same parameters and FilterSet as the search page."""
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify

from tickerarchive import browse, export
from tickerarchive.filters import EntryFilter
from tickerarchive.models import Entry
from tickerarchive.openapi import SPEC
from tickerarchive.search import NamedIn, attach_links, run_search, with_link_ids
from tickerarchive.views import page_number


def _links(items) -> list[dict]:
    return [{"slug": item.slug, "name": item.name} for item in items]


def _known_names(names: NamedIn | None) -> list[dict]:
    """The places and people the query names: entries linked to them count, however spelt."""
    if not names:
        return []
    named = [("place", p, NamedIn(places=[p])) for p in names.places]
    named += [("person", p, NamedIn(people=[p])) for p in names.people]
    return [{"type": kind, "slug": item.slug, "name": item.name, "spellings": one.spellings()}
            for kind, item, one in named]


def _page_url(request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if k not in {"nach", "vor", "seite"}}
    params.update({k: v for k, v in changes.items() if v is not None})
    return request.build_absolute_uri(f"{request.path}?{urlencode(params)}")


def valid_search(request) -> EntryFilter | JsonResponse:
    """The request's search parameters checked by the one FilterSet of page, API, feed and
    exports; invalid ones give 400 with the messages per parameter."""
    filterset = EntryFilter(request.GET, queryset=Entry.objects.all())
    if filterset.is_valid():
        return filterset
    return JsonResponse({"errors": filterset.error_messages()}, status=400, json_dumps_params={"ensure_ascii": False})


def entries(request):
    filterset = valid_search(request)
    if not isinstance(filterset, EntryFilter):
        return filterset
    result = run_search(filterset.criteria, filterset.qs, after=request.GET.get("nach"),
                        before=request.GET.get("vor"), page_number=page_number(request), with_facets=False)
    page = result.page
    if page.number is not None:  # relevance order: numbered pages
        next_url = _page_url(request, seite=page.number + 1) if page.has_next else None
        previous_url = _page_url(request, seite=page.number - 1) if page.has_previous else None
    else:
        next_url = _page_url(request, nach=page.next_cursor) if page.next_cursor else None
        previous_url = _page_url(request, vor=page.previous_cursor) if page.previous_cursor else None
    return JsonResponse({
        "count": result.count if result.count_is_exact else None,
        "count_is_exact": result.count_is_exact,
        "ranked_among_newest": page.ranked_among,
        # What the page says above its hits, for scripts that must tell exact hits from others.
        "suggestion": result.suggestion,
        "word_beginnings": result.prefix_fallback,
        "known_names": _known_names(result.criteria.names),
        "next": next_url,
        "previous": previous_url,
        "results": [
            {
                "id": entry.pk,
                "url": request.build_absolute_uri(entry.get_absolute_url()),
                "ticker": entry.ticker.slug,
                "published_at": browse.berlin_iso(entry.published_at),
                "headline": entry.headline,
                "snippet": str(entry.snippet_html),
                "places": _links(entry.linked_places),
                "people": _links(entry.linked_people),
            }
            for entry in page.entries
        ],
    }, json_dumps_params={"ensure_ascii": False})


def entry(request, pk: int):
    item = attach_links(get_object_or_404(
        with_link_ids(Entry.objects.select_related("ticker", "source_dump").prefetch_related("pictures")), pk=pk
    ))
    older, newer = browse.neighbour_entries(item)
    return JsonResponse({
        "id": item.pk,
        "url": request.build_absolute_uri(item.get_absolute_url()),
        "ticker": item.ticker.slug,
        "ticker_title": item.ticker.title,
        "published_at": browse.berlin_iso(item.published_at),
        "headline": item.headline,
        "body": item.body,
        "pictures": [{"slug": p.slug, "caption": p.caption, "credit": p.credit} for p in item.pictures.all()],
        "places": _links(item.linked_places),
        "people": _links(item.linked_people),
        "previous_id": older.pk if older else None,
        "next_id": newer.pk if newer else None,
        "provenance": {
            "source_dump": item.source_dump.file_name,
            "sha256": item.source_dump.sha256,
            "line": item.source_line,
            "raw_lines": [{"line": n, "text": text} for n, text in browse.raw_excerpt(item)],
        },
        "edited_fields": item.edited_fields,
    }, json_dumps_params={"ensure_ascii": False})


def places(request):
    from tickerarchive.lookup import find_places

    return JsonResponse({"results": [
        {"slug": p.slug, "name": p.name, "kind": p.kind, "parent": p.parent.slug if p.parent else None,
         "aliases": sorted(a.name for a in p.aliases.all()), "entry_count": p.entry_total}
        for p in find_places(request.GET.get("q", "")[:200])
    ]}, json_dumps_params={"ensure_ascii": False})


def people(request):
    from tickerarchive.lookup import find_people

    return JsonResponse({"results": [
        {"slug": p.slug, "name": p.name, "role": p.role, "status": p.status,
         "aliases": sorted(a.name for a in p.aliases.all()), "entry_count": p.entry_total}
        for p in find_people(request.GET.get("q", "")[:200])
    ]}, json_dumps_params={"ensure_ascii": False})


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.csv_lines),
    "jsonl": ("application/jsonl; charset=utf-8", export.jsonl_lines),
}


def export_file_name(filterset: EntryFilter, extension: str) -> str:
    words = slugify(filterset.criteria.q)[:60].strip("-")
    return "-".join(filter(None, ["ticker-archiv", words, timezone.localdate().isoformat()])) + f".{extension}"


def entries_export(request, extension: str):
    """The whole result, newest first, streamed; `order` is checked but exports are always newest first."""
    filterset = valid_search(request)
    if not isinstance(filterset, EntryFilter):
        return filterset
    content_type, lines = EXPORT_FORMATS[extension]
    rows = export.export_rows(filterset.qs, export.permalink_maker(request.build_absolute_uri))
    response = StreamingHttpResponse(export.in_pieces(lines(rows)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_file_name(filterset, extension)}"'
    return response


def openapi(request):
    return JsonResponse(SPEC, json_dumps_params={"ensure_ascii": False})
