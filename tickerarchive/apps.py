from django.apps import AppConfig


class TickerArchiveConfig(AppConfig):
    name = "tickerarchive"
    verbose_name = "Ticker-Archiv"
