from django.core.management.base import BaseCommand, CommandError

from ingest.linker import Linker
from tickerarchive.models import Entry, Person, Place


class Command(BaseCommand):
    help = (
        "Link all entries to places and people again (after gazetteer changes); editors' links and removals stay. "
        "With --place or --person only the entries that name them or are linked to them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--place", action="append", default=[], metavar="SLUG",
                            help="only entries naming this place or linked to it (repeatable)")
        parser.add_argument("--person", action="append", default=[], metavar="SLUG",
                            help="only entries naming this person or linked to them (repeatable)")

    def handle(self, *args, **options):
        if options["place"] or options["person"]:
            named = [self._named(Place, options["place"]), self._named(Person, options["person"])]
            ids = Entry.objects.ids_naming_or_linked_to([item for items in named for item in items])
        else:
            ids = list(Entry.objects.values_list("pk", flat=True))
        written = Linker.from_database().relink(ids)
        self.stdout.write(f"{len(ids)} entries linked again, {written} links created or changed")

    @staticmethod
    def _named(model, slugs: list[str]) -> list:
        found = {item.slug: item for item in model.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(f"no {model.__name__.lower()} with the slug {', '.join(missing)}")
        return list(found.values())
