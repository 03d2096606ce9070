"""Precision and recall of the linker against a hand-written gold list of places and people."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ingest.linker import Linker, linked_text
from ingest.parser import parse_dump
from tickerarchive.models import Person, Place


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def add(self, where: str, predicted: set[str], gold: set[str]) -> None:
        self.true_positives += len(predicted & gold)
        self.false_positives += len(predicted - gold)
        self.false_negatives += len(gold - predicted)
        self.misses += [f"{where}: extra {n}" for n in sorted(predicted - gold)]
        self.misses += [f"{where}: missed {n}" for n in sorted(gold - predicted)]


def evaluate(dumps: list[Path], gold_file: Path) -> dict[str, Score]:
    """Link the entries of `dumps` without writing anything and compare with the gold list."""
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    linker = Linker.from_database()
    place_names = dict(Place.objects.values_list("pk", "name"))
    person_names = dict(Person.objects.values_list("pk", "name"))
    scores = {"places": Score(), "people": Score()}
    for path in dumps:
        parsed = parse_dump(path.read_bytes(), path=str(path))
        day = gold[parsed.page_datetime.date().isoformat()]
        for entry in parsed.entries:
            mentions = linker.find(linked_text(entry.headline, entry.body, (p.caption for p in entry.pictures)))
            places = {place_names[pk] for pk in mentions.places}
            people = {person_names[pk] for pk in mentions.people}
            people |= {f"{first} {last}" for _role, first, last in mentions.discovered}
            gold_places, gold_people = day[str(entry.line)]
            where = f"{path.name}:{entry.line}"
            scores["places"].add(where, places, set(gold_places))
            scores["people"].add(where, people, set(gold_people))
    return scores
