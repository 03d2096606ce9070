"""Link entries to the places and people they mention.

One Aho-Corasick automaton (ahocorasick-rs) holds every name and alias of the
gazetteer, with genitive forms (`Putins`, `Kiews`), and the role words: one pass over an
entry finds all mentions, however many thousand names there are. Matching is case-sensitive
(German capitalises names, so `russische` is never `Russland`), respects word boundaries (a
hyphen is one: `Trump-Putin-Treffen`), and the longest match wins (`Region Odessa` over
`Odessa`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick_rs
import gender_guesser.detector
from django.db import transaction
from django.utils.text import slugify

from tickerarchive.gazetteer import curated, curated_first_names
from tickerarchive.models import (
    MAX_MENTIONS, Entry, Person, PersonAlias, Place, PlaceAlias,
)

PLACE, PERSON = "place", "person"
# A name that contains a place's but names something else, a newspaper or broadcaster
# (`Kyiv Independent`, `Redaktionsnetzwerk Deutschland`): found like a name, so that the
# longest match covers the place inside it, and counted for nothing.
OTHER = "other"
# Role word + first name + surname: `Ministeriumssprecherin Maria Sacharowa`, `Gouverneur Oleh Kiper`.
NAME_PART = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?"
PERSON_NAME = rf"(?P<first>{NAME_PART})\s+(?P<last>{NAME_PART})"
# Role words are found by their ending (`Bundesverteidigungsminister`, `ntv-Reporterin`,
# `Kremlchef`); the name patterns are then tried only right after one. Scanning the text
# with one big role regex backtracked at every capitalised word and cost 0.16 ms a text.
ROLE_ENDINGS = tuple(
    base + ending
    for base, endings in {
        "minister": ("", "in"), "präsident": ("", "in"), "sprecher": ("", "in"), "gouverneur": ("", "in"),
        "bürgermeister": ("", "in"), "kommandeur": ("", "in"), "botschafter": ("", "in"), "reporter": ("", "in"),
        "korrespondent": ("", "in"), "expert": ("e", "in"), "analyst": ("", "in"), "kanzler": ("", "in"),
        "gesandte": ("", "r"), "beauftragte": ("", "r"), "chef": ("", "in"), "sekretär": ("", "in"),
        "abgeordnete": ("", "r"), "politiker": ("", "in"), "leiter": ("", "in"), "general": ("", "leutnant", "major", "oberst"),
        "admiral": ("",), "major": ("",), "oberst": ("",), "demograf": ("", "en", "in"), "nationalist": ("", "in"),
        "aktivist": ("", "in"), "journalist": ("", "in"), "blogger": ("", "in"), "anwalt": ("",), "anwältin": ("",),
        "richter": ("", "in"),
    }.items()
    for ending in endings
)
# The role endings go into the gazetteer's automaton (Linker), so one pass over an entry finds
# names and role words alike: as written at the start of a word (`Gouverneur`, `ntv-Reporterin`)
# and in lower case at the end of a compound (`Bundesverteidigungsminister`, `Kremlchef`), not
# in capitals (`MINISTER`). A second automaton over the lower-cased text cost a third of all
# linking time.
ROLE_FORMS = tuple(dict.fromkeys(form for ending in ROLE_ENDINGS for form in (ending, ending.capitalize())))
# `Gouverneur Oleh Kiper`, or `Gouverneur der Region X, Wladyslaw G.`: one pattern, tried at each
# role word (the two cannot both match: the second starts with a lower-case word).
AFTER_ROLE = re.compile(rf"\s+(?:(?:des|der|von|in|im|aus)\s[^,.;:!?\"]{{1,80}},\s+)?{PERSON_NAME}\b")
# `Bohdan Tkachenko, Leiter der ...`: tried backwards from each role word, ending where it starts
# (scanning the whole text for names followed by a comma cost more than the rest of linking).
NAME_BEFORE_ROLE = re.compile(rf"\b{PERSON_NAME},\s+(?:der\s+|die\s+)?\Z")
# How far before a role word a name can start (two long name parts, comma, article).
NAME_BEFORE_ROLE_REACH = 120


def role_mentions(text: str, role_ends: list[int]):
    """(role, first name, surname) for every role + name phrase in text, given the end offsets
    of its role words in text order."""
    before_role = []
    for end in role_ends:
        start = end
        while start > 0 and _is_word_char(text[start - 1]):
            start -= 1
        match = AFTER_ROLE.match(text, end)
        if match:
            yield text[start:end], match["first"], match["last"]
        before_role.append((start, end))
    for start, end in before_role:
        match = NAME_BEFORE_ROLE.search(text, max(0, start - NAME_BEFORE_ROLE_REACH), start)
        if match:
            yield text[start:end], match["first"], match["last"]


def _is_word_char(char: str) -> bool:
    """A word character as `[\\w-]` has it, without a regex call: this runs at every hit of a role ending."""
    return char.isalnum() or char in "_-"


# gender-guesser's list of ~40,000 first names (Ukrainian and Russian transliterations
# included) tells `Maria Sacharowa` from `Minister Front Energie`; a curated list adds the
# German transliterations it lacks (`Wladyslaw`, `Tymur`).
FIRST_NAMES = gender_guesser.detector.Detector(case_sensitive=True)
MORE_FIRST_NAMES = curated_first_names()


def is_first_name(word: str) -> bool:
    first = word.split("-")[0]
    return first in MORE_FIRST_NAMES or FIRST_NAMES.get_gender(first) != "unknown"


def genitive(name: str) -> str | None:
    return None if name.endswith(("s", "ß", "x", "z")) else name + "s"


@dataclass
class Mentions:
    places: dict[int, int] = field(default_factory=dict)  # place id → mentions
    people: dict[int, int] = field(default_factory=dict)  # person id → mentions
    discovered: list[tuple[str, str, str]] = field(default_factory=list)  # (role, first, last)
    # (role, first, last) → how often the entry names that person (full name, then surname alone)
    discovered_mentions: dict[tuple[str, str, str], int] = field(default_factory=dict)


# `der Gouverneur von Odessa`: a governor governs the region, not the town of its name.
GOVERNOR_BEFORE = re.compile(r"(?:Gouverneur|Gouverneurin|Militärgouverneur|Militärgouverneurin)\s+von\s+\Z")
GOVERNOR_REACH = 30  # characters before a town's name that may hold GOVERNOR_BEFORE


class Linker:
    def __init__(self, place_names: dict[str, int], person_names: dict[str, int], other_names: Iterable[str] = (),
                 regions_of_towns: dict[int, int] | None = None):
        # What each form of the automaton stands for, by its index: (kind, target, is a role
        # form); kind and target None for a role form that is no name.
        meanings: dict[str, tuple] = {name: (OTHER, None, False) for name in other_names}
        for kind, names in ((PLACE, place_names), (PERSON, person_names)):
            for name, target in names.items():
                for form in (name, genitive(name)):
                    if form and form not in meanings:
                        meanings[form] = (kind, target, False)
        for form in ROLE_FORMS:
            kind, target, _role = meanings.get(form, (None, None, True))
            meanings[form] = (kind, target, True)
        # Scanning a 700-character entry for 32,000 forms took 17 µs with pyahocorasick's trie,
        # 6.9 µs in this NFA (4 MB); the DFA's 3.7 µs would cost 96 MB in every ingest process.
        self.automaton = ahocorasick_rs.AhoCorasick(
            meanings, implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        )
        self.meanings = list(meanings.values())
        self.person_names = person_names
        self.place_names = set(place_names)
        # town → the region named after it (Odessa → Region Odessa), for GOVERNOR_BEFORE
        self.regions_of_towns = regions_of_towns or {}
        self._suggested: list[str] = []  # names suggest_person added in the current transaction

    @classmethod
    def from_database(cls) -> "Linker":
        data = curated()
        return cls(*gazetteer_names(data), other_names=[*data["media_titles"], *data["not_places"]],
                   regions_of_towns=regions_named_after_towns())

    def find(self, text: str) -> Mentions:
        mentions = Mentions()
        # Names that start and end at word boundaries, as (start, -length, last offset, ...):
        # sorted, the longest name starting at each position comes first. Role words end at the
        # end of a word (several forms can end at one: `minister`, `Minister`). This loop runs
        # for every automaton hit of every entry: the boundary tests are inlined.
        candidates = []
        role_ends = set()
        size = len(text)
        meanings = self.meanings
        for index, start, end in self.automaton.find_matches_as_indexes(text, overlapping=True):
            kind, target, role = meanings[index]
            if role and (end == size or not ((char := text[end]).isalnum() or char in "_-")):
                role_ends.add(end)
            if kind is None:
                continue
            if start > 0 and ((char := text[start - 1]).isalnum() or char == "_"):
                continue
            if end < size and ((char := text[end]).isalnum() or char == "_"):
                continue
            candidates.append((start, start - end, end - 1, kind, target))
        candidates.sort()
        covered_until = -1
        for start, _length, end, kind, target in candidates:
            if start <= covered_until:
                continue  # inside a longer name already taken
            covered_until = end
            if kind == OTHER:
                continue
            if kind == PLACE and target in self.regions_of_towns and GOVERNOR_BEFORE.search(
                    text, max(0, start - GOVERNOR_REACH), start):
                target = self.regions_of_towns[target]
            counts = mentions.places if kind == PLACE else mentions.people
            counts[target] = counts.get(target, 0) + 1
        for role, first, last_name in role_mentions(text, sorted(role_ends)):
            known = self.person_names.get(f"{first} {last_name}")
            if known is not None and known in mentions.people and self.person_names.get(last_name) == known:
                continue  # the automaton counted it, its surname alone included
            # A person found before without an alias of the surname alone (a suggestion) is
            # counted as when first found: the full name and, in this entry, the surname alone.
            if known is not None or (is_first_name(first) and first not in self.place_names):
                mentions.discovered.append((role, first, last_name))
        return mentions

    def find_in(self, text: str) -> Mentions:
        """find(), with the mentions of each discovered person counted: everything about a
        text that needs no database (so it can run in another process than the writing one)."""
        mentions = self.find(text)
        for role, first, last in dict.fromkeys(mentions.discovered):
            mentions.discovered_mentions[role, first, last] = (
                text.count(f"{first} {last}") + _surname_only(text, first, last)
            )
        return mentions

    def resolve(self, mentions: Mentions) -> Mentions:
        """Discovered people created as suggestions (or found) and added to the mentions."""
        for (role, first, last), count in mentions.discovered_mentions.items():
            person_id = self.suggest_person(role, first, last)
            if person_id is not None:
                mentions.people[person_id] = max(mentions.people.get(person_id, 0), count)
        return mentions

    def link(self, texts: dict[int, str]) -> int:
        """Write automatic links for these stored entries (id → headline, body and captions):
        only automatic links that changed are touched; editors' links and removals stay.
        Returns the links written. (Ingest writes the links of new entries with them.)"""
        return self.write_links({pk: self.find_in(text) for pk, text in texts.items()})

    def relink(self, entry_ids: Iterable[int], batch: int = 2000) -> int:
        """link() the stored entries with these ids, a batch at a time; returns the links written."""
        ids = sorted(entry_ids)  # batches of neighbouring entries
        written = 0
        for start in range(0, len(ids), batch):
            entries = Entry.objects.filter(pk__in=ids[start:start + batch]).prefetch_related("pictures")
            written += self.link({entry.pk: self.text_of(entry) for entry in entries})
        return written

    def relink_naming(self, names: set[str], *, whole_archive_above: int = 1000,
                      at_most: int | None = None) -> tuple[int, int | None]:
        """Link again the entries that may name any of these names, added or removed: (entries,
        links written), or (entries, None) without linking when there are more than `at_most`.
        Beyond `whole_archive_above` names, searching for them costs more than linking every entry."""
        if len(names) > whole_archive_above:
            ids = list(Entry.objects.values_list("pk", flat=True))
        else:
            ids = Entry.objects.ids_possibly_naming(names)
        if at_most is not None and len(ids) > at_most:
            return len(ids), None
        return len(ids), self.relink(ids)

    def write_links(self, found: dict[int, Mentions]) -> int:
        """link() for mentions found already (by find_in)."""
        if not found:
            return 0
        for mentions in found.values():
            self.resolve(mentions)
        # Inside the loader's transaction per dump no savepoint is needed (a round trip each).
        with transaction.atomic(savepoint=False):
            return Entry.objects.store_found_links({
                pk: ({t: min(n, MAX_MENTIONS) for t, n in m.places.items()},
                     {t: min(n, MAX_MENTIONS) for t, n in m.people.items()})
                for pk, m in found.items()
            })

    @staticmethod
    def text_of(entry: Entry) -> str:
        """What linking reads of a stored entry (pictures prefetched by the caller)."""
        return linked_text(entry.headline, entry.body, (p.caption for p in entry.pictures.all()))

    def suggest_person(self, role: str, first: str, last: str) -> int | None:
        """A person found at ingest: a suggestion until an editor confirms it. Returns its id."""
        full = f"{first} {last}"
        if full in self.person_names:
            return self.person_names[full]
        slug = slugify(full)
        person = Person.objects.filter(slug=slug).first()
        if person is None:
            person = Person.objects.create(name=full, slug=slug, role=role, status=Person.Status.SUGGESTED)
        if person.status == Person.Status.REJECTED:
            return None  # an editor said this is not a person
        self.person_names[full] = person.pk
        self._suggested.append(full)
        return person.pk

    def transaction_ended(self, *, committed: bool) -> None:
        """Forget the people suggested in a transaction that rolled back: they are not stored,
        and a later link to them would fail its own dump."""
        if not committed:
            for name in self._suggested:
                self.person_names.pop(name, None)
        self._suggested.clear()


def linked_text(headline: str, body: str, captions) -> str:
    """What linking reads of an entry: headline, body and picture captions."""
    return "\n".join([headline, body, *captions])


def _surname_only(text: str, first: str, last: str) -> int:
    """Mentions of the surname alone (`Kiper`, `Kipers`) in the entry that introduced the person."""
    return len(re.findall(rf"(?<!{re.escape(first)} )\b{re.escape(last)}s?\b", text))


def regions_named_after_towns() -> dict[int, int]:
    """{town: region} for each town in a region named after it (`Region Odessa`)."""
    regions = dict(Place.objects.filter(kind=Place.Kind.REGION).values_list("pk", "name"))
    return {pk: parent for pk, name, parent in Place.objects.filter(kind=Place.Kind.CITY, parent__in=regions)
            .values_list("pk", "name", "parent_id") if regions[parent] == f"Region {name}"}


def gazetteer_names(data: dict) -> tuple[dict[str, int], dict[str, int]]:
    """Every usable name → one place (or person). Ambiguous names go to the place the news
    most likely means: by country priority (Ukraine, Russia, Germany, ...), then a curated
    place before one only GeoNames knows (`data`: the curated gazetteer), then country before
    region before town."""
    priority = {code: n for n, code in enumerate(data["country_priority"])}
    iso_by_name = {c["name"]: c["iso"] for c in data["countries"]}
    curated_ids = {int(k) for k in data["cities"]}
    places = {pk: (name, kind, parent, gid) for pk, name, kind, parent, gid in
              Place.objects.values_list("pk", "name", "kind", "parent_id", "geonames_id")}

    def country(pk: int) -> str | None:
        for _ in range(5):  # town → region → country
            name, kind, parent, _gid = places[pk]
            if kind == Place.Kind.COUNTRY:
                return iso_by_name.get(name)
            if parent is None:
                return None
            pk = parent
        return None

    kind_order = {Place.Kind.COUNTRY: 0, Place.Kind.REGION: 1, Place.Kind.CITY: 2}

    def rank(pk: int) -> tuple:
        _name, kind, _parent, gid = places[pk]
        curated_place = gid is None or gid in curated_ids
        return (priority.get(country(pk), 99), not curated_place, kind_order.get(kind, 3), pk)

    candidates: dict[str, set[int]] = {}
    for pk, (name, *_rest) in places.items():
        candidates.setdefault(name, set()).add(pk)
    for name, place_id in PlaceAlias.objects.values_list("name", "place_id"):
        candidates.setdefault(name, set()).add(place_id)
    # Two-letter names match too much (the town `Ob`); acronyms such as `US` are kept.
    place_names = {name: min(ids, key=rank) for name, ids in candidates.items() if len(name) > 2 or name.isupper()}

    person_names: dict[str, int] = {}
    for pk, name in Person.objects.not_rejected().values_list("pk", "name"):
        person_names[name] = pk
    for name, person_id in PersonAlias.objects.not_rejected().values_list("name", "person_id"):
        person_names.setdefault(name, person_id)
    return place_names, person_names
