import time
from pathlib import Path

from django.core.management.base import BaseCommand

from ingest.generator import CorpusGenerator
from tickerarchive.gazetteer import curated, curated_people


def curated_names() -> tuple[list[str], list[str]]:
    """The curated gazetteer's places and people with their spelling variants (read from the
    data files, not the database, so corpora can be written before any database exists)."""
    data = curated()
    places = [name for item in data["countries"] + data["regions"] for name in [item["name"], *item["aliases"]]]
    places += [name for display, aliases in data["cities"].values() for name in [display, *aliases]]
    people = [name for person in curated_people() for name in [person["name"], *person["aliases"]]]
    return places, people


class Command(BaseCommand):
    help = "Write realistic generated ticker dumps (same seed, same bytes) for benchmarks and load tests."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, required=True, help="distinct entries to generate")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True, help="directory to write the dumps to")

    def handle(self, *args, entries, seed, out, **options):
        started = time.monotonic()
        places, people = curated_names()
        stats = CorpusGenerator(seed, more_places=places, more_people=people).write(entries, out)
        self.stdout.write(
            f"{stats.files} dumps, {stats.entries} entries, {stats.bytes / 2**20:.1f} MiB in {out} "
            f"({time.monotonic() - started:.1f} s)"
        )
