from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ingest.evaluation import evaluate

DEFAULT_DUMPS = settings.BASE_DIR.parent / "shared" / "dumps" / "ntv"
DEFAULT_GOLD = settings.BASE_DIR / "tests" / "places" / "gold_real_dumps.json"


class Command(BaseCommand):
    help = "Precision and recall of place and person linking against the hand-written gold list."

    def add_arguments(self, parser):
        parser.add_argument("--dumps", type=Path, default=DEFAULT_DUMPS)
        parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)

    def handle(self, *args, dumps, gold, verbosity, **options):
        scores = evaluate(sorted(dumps.glob("*.txt")), gold)
        for kind, score in scores.items():
            self.stdout.write(f"{kind}: precision {score.precision:.3f}, recall {score.recall:.3f} "
                              f"({score.true_positives} right, {score.false_positives} extra, {score.false_negatives} missed)")
            if verbosity > 1:
                for miss in score.misses:
                    self.stdout.write(f"  {miss}")
