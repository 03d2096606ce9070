"""Find places and people by name or alias: case- and accent-insensitive, small typos tolerated.

No pg_trgm: SQL narrows the candidates to names whose folded form (stored with each name,
models.Folded) shares the first two letters or contains the query; difflib ranks them in Python.
"""
from __future__ import annotations

import difflib
import unicodedata

from django.db.models import Q, QuerySet

from tickerarchive.models import Person, PersonAlias, Place, PlaceAlias, linked_entry_count

LIMIT = 20


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "’'").casefold()


def _best(q: str, named: dict[int, set[str]]) -> list[int]:
    wanted = fold(q)
    scored = []
    for pk, names in named.items():
        best = 0.0
        for name in names:
            folded = fold(name)
            if folded == wanted:
                best = max(best, 3.0)
            elif folded.startswith(wanted):
                best = max(best, 2.0 + len(wanted) / len(folded))
            elif wanted in folded:
                best = max(best, 1.5)
            else:
                best = max(best, difflib.SequenceMatcher(None, wanted, folded).ratio())
        if best >= 0.8:
            scored.append((-best, pk))
    return [pk for _, pk in sorted(scored)[:LIMIT]]


def _candidates(owner_model, alias_model, owner: str, q: str) -> dict[int, set[str]]:
    wanted = fold(q).replace("\x00", "")  # PostgreSQL text cannot hold NUL: no name contains one
    if len(wanted) < 2:
        return {}
    narrow = Q(folded__startswith=wanted[:2]) | Q(folded__contains=wanted)
    named: dict[int, set[str]] = {}
    owners = owner_model.objects.filter(narrow).values_list("pk", "name")[:2000]
    aliases = alias_model.objects.filter(narrow).values_list(f"{owner}_id", "name")[:5000]
    for pk, name in [*owners, *aliases]:
        named.setdefault(pk, set()).add(name)
    return named


def find_places(q: str) -> QuerySet | list[Place]:
    ids = _best(q, _candidates(Place, PlaceAlias, "place", q))
    found = {p.pk: p for p in Place.objects.filter(pk__in=ids).select_related("parent").prefetch_related("aliases")
             .annotate(entry_total=linked_entry_count(Place))}
    return [found[pk] for pk in ids if pk in found]


def find_people(q: str) -> list[Person]:
    ids = _best(q, _candidates(Person, PersonAlias, "person", q))
    found = {p.pk: p for p in Person.objects.not_rejected().filter(pk__in=ids)
             .prefetch_related("aliases").annotate(entry_total=linked_entry_count(Person))}
    return [found[pk] for pk in ids if pk in found]
