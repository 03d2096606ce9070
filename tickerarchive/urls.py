from django.contrib import admin
from django.urls import path, register_converter

from tickerarchive import api, views
from tickerarchive.feeds import SearchFeed
from tickerarchive.pagecache import reader_page


class FourDigits:
    """Zero-padded numbers in day URLs: /ticker/2025/03/02/."""

    regex = "[0-9]{4}"
    width = 4

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):0{self.width}d}"


class TwoDigits(FourDigits):
    regex = "[0-9]{2}"
    width = 2


register_converter(FourDigits, "yyyy")
register_converter(TwoDigits, "dd")

# reader_page: anonymous readers get these from the page cache while the archive is unchanged
# (tickerarchive/pagecache.py). Exports stream and are not kept; the admin and healthz never.
urlpatterns = [
    path("", reader_page(views.search), name="search"),
    path("feed/", reader_page(SearchFeed()), name="feed"),
    path("api/entries/", reader_page(api.entries), name="api-entries"),
    path("api/entries.csv", api.entries_export, {"extension": "csv"}, name="export-csv"),
    path("api/entries.jsonl", api.entries_export, {"extension": "jsonl"}, name="export-jsonl"),
    path("api/openapi.json", api.openapi, name="openapi"),
    path("api/entries/<int:pk>/", reader_page(api.entry), name="api-entry"),
    path("api/places/", reader_page(api.places), name="api-places"),
    path("api/people/", reader_page(api.people), name="api-people"),
    path("eintrag/<int:pk>/", reader_page(views.entry_detail), name="entry"),
    path("ort/<slug:slug>/", reader_page(views.place_detail), name="place"),
    path("person/<slug:slug>/", reader_page(views.person_detail), name="person"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    # Ticker paths last: a ticker slug could otherwise shadow the paths above.
    path("<slug:ticker>/", reader_page(views.ticker_detail), name="ticker"),
    path("<slug:ticker>/<yyyy:year>/<dd:month>/<dd:day>/", reader_page(views.day_page), name="day"),
]
