from django.contrib import admin
from django.urls import path, register_converter

from tickerarchive import api, views
from tickerarchive.feeds import SearchFeed


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

urlpatterns = [
    path("", views.search, name="search"),
    path("feed/", SearchFeed(), name="feed"),
    path("api/entries/", api.entries, name="api-entries"),
    path("api/entries.csv", api.entries_export, {"extension": "csv"}, name="export-csv"),
    path("api/entries.jsonl", api.entries_export, {"extension": "jsonl"}, name="export-jsonl"),
    path("api/openapi.json", api.openapi, name="openapi"),
    path("api/entries/<int:pk>/", api.entry, name="api-entry"),
    path("api/places/", api.places, name="api-places"),
    path("api/people/", api.people, name="api-people"),
    path("eintrag/<int:pk>/", views.entry_detail, name="entry"),
    path("ort/<slug:slug>/", views.place_detail, name="place"),
    path("person/<slug:slug>/", views.person_detail, name="person"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    # Ticker paths last: a ticker slug could otherwise shadow the paths above.
    path("<slug:ticker>/", views.ticker_detail, name="ticker"),
    path("<slug:ticker>/<yyyy:year>/<dd:month>/<dd:day>/", views.day_page, name="day"),
]
