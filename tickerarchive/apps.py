from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TickerArchiveConfig(AppConfig):
    name = "tickerarchive"
    verbose_name = "Ticker-Archiv"

    def ready(self):
        from tickerarchive.roles import ensure_editors_group

        # After every migrate, once Django has created the permissions the group refers to.
        post_migrate.connect(ensure_editors_group, sender=self, dispatch_uid="tickerarchive.editors_group")
