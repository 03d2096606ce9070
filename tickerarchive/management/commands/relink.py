from django.core.management.base import BaseCommand

from ingest.linker import Linker
from tickerarchive.models import Entry

BATCH = 2000


class Command(BaseCommand):
    help = "Link all entries to places and people again (after gazetteer changes); editors' links and removals stay."

    def handle(self, *args, **options):
        linker = Linker.from_database()
        ids = list(Entry.objects.order_by("pk").values_list("pk", flat=True))
        written = 0
        for start in range(0, len(ids), BATCH):
            batch = Entry.objects.filter(pk__in=ids[start:start + BATCH]).prefetch_related("pictures")
            written += linker.link({entry.pk: linker.text_of(entry) for entry in batch})
        self.stdout.write(f"{len(ids)} entries linked again, {written} links created or changed")
