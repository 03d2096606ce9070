from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class TickerArchiveConfig(AppConfig):
    name = "tickerarchive"
    verbose_name = "Ticker-Archiv"

    def ready(self):
        from tickerarchive.roles import ensure_editors_group

        # After every migrate, once Django has created the permissions the group refers to.
        post_migrate.connect(ensure_editors_group, sender=self, dispatch_uid="tickerarchive.editors_group")
        connection_created.connect(set_work_mem, dispatch_uid="tickerarchive.work_mem")


def set_work_mem(sender, connection, **kwargs):
    """settings.DATABASE_WORK_MEM for each new connection: one statement per connection, which
    a pooler passes on as it does any other (a startup option it might refuse)."""
    if settings.DATABASE_WORK_MEM:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, false)", [settings.DATABASE_WORK_MEM])
