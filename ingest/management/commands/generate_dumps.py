import time
from pathlib import Path

from django.core.management.base import BaseCommand

from ingest.generator import CorpusGenerator


class Command(BaseCommand):
    help = "Write realistic generated ticker dumps (same seed, same bytes) for benchmarks and load tests."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, required=True, help="distinct entries to generate")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True, help="directory to write the dumps to")

    def handle(self, *args, entries, seed, out, **options):
        started = time.monotonic()
        stats = CorpusGenerator(seed).write(entries, out)
        self.stdout.write(
            f"{stats.files} dumps, {stats.entries} entries, {stats.bytes / 2**20:.1f} MiB in {out} "
            f"({time.monotonic() - started:.1f} s)"
        )
