from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from tickerarchive.models import Entry

PAGE_SIZE = 50


def newest_entries(request):
    page = Paginator(Entry.objects.for_list(), PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(request, "archive/newest.html", {"page": page})


def entry_detail(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("ticker", "source_dump").prefetch_related("pictures"), pk=pk)
    return render(request, "archive/entry.html", {"entry": entry})
