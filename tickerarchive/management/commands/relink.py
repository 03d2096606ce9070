from django.core.management.base import BaseCommand, CommandError

from ingest.linker import Linker
from tickerarchive.models import Entry, Person, Place
from tickerarchive.search import linked_to_any


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
            ids = self._ids_of(Place, "place_ids", options["place"]) | self._ids_of(Person, "person_ids", options["person"])
        else:
            ids = list(Entry.objects.values_list("pk", flat=True))
        written = Linker.from_database().relink(ids)
        self.stdout.write(f"{len(ids)} entries linked again, {written} links created or changed")

    @staticmethod
    def _ids_of(model, column: str, slugs: list[str]) -> set[int]:
        """Entries that name these places (or people), or are linked to them under a spelling
        they no longer have."""
        found = {item.slug: item for item in model.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(f"no {model.__name__.lower()} with the slug {', '.join(missing)}")
        if not found:
            return set()
        spellings = set().union(*(item.spellings() for item in found.values()))
        linked = Entry.objects.filter(linked_to_any(column, [item.pk for item in found.values()]))
        return Entry.objects.ids_possibly_naming(spellings) | set(linked.values_list("pk", flat=True))
