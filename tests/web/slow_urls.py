"""The archive's URLs plus pages whose query takes longer than any statement timeout, and a crash."""
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from tickerarchive.urls import urlpatterns as archive_urlpatterns


def slow_query(seconds: float):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])


def slow_page(request):
    slow_query(3)
    return HttpResponse("fertig")


def slow_api(request):
    slow_query(3)
    return JsonResponse({"done": True})


def broken_page(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("langsam/", slow_page),
    path("api/langsam/", slow_api),
    path("kaputt/", broken_page),
    *archive_urlpatterns,
]
