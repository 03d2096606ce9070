from django.contrib import admin
from django.urls import path

from tickerarchive import views

urlpatterns = [
    path("", views.newest_entries, name="home"),
    path("eintrag/<int:pk>/", views.entry_detail, name="entry"),
    path("admin/", admin.site.urls),
]
