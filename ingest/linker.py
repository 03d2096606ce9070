"""Link entries to the places and people they mention.

One Aho-Corasick automaton (pyahocorasick) holds every name and alias of the gazetteer,
with genitive forms (`Putins`, `Kiews`): one pass over an entry finds all mentions,
however many thousand names there are. Matching is case-sensitive (German capitalises
names, so `russische` is never `Russland`), respects word boundaries (a hyphen is one:
`Trump-Putin-Treffen`), and the longest match wins (`Region Odessa` over `Odessa`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import ahocorasick
import gender_guesser.detector
from django.db import connection, transaction
from django.utils.text import slugify

from tickerarchive.models import (
    Entry, EntryPerson, EntryPlace, LinkOrigin, Person, PersonAlias, Place, PlaceAlias,
)

PLACE, PERSON = "place", "person"
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
WORD_RE = re.compile(r"[\w-]+")
WORD_CHAR = re.compile(r"[\w-]")
# Role endings found in one automaton pass over the lower-cased text: testing every word
# with str.endswith cost half of all linking time.
ROLE_AUTOMATON = ahocorasick.Automaton()
for _ending in ROLE_ENDINGS:
    ROLE_AUTOMATON.add_word(_ending, len(_ending))
ROLE_AUTOMATON.make_automaton()
AFTER_ROLE = [
    re.compile(rf"\s+{PERSON_NAME}\b"),  # `Gouverneur Oleh Kiper`
    re.compile(rf"\s+(?:des|der|von|in|im|aus)\s[^,.;:!?\"]{{1,80}},\s+{PERSON_NAME}\b"),  # `Gouverneur der Region X, Wladyslaw G.`
]
NAME_THEN_ROLE = re.compile(rf"\b{PERSON_NAME},\s+(?:der\s+|die\s+)?(?:\w+\s+)??(?P<role>[\w-]+)")  # `Tymur Tkachenko, Leiter der ...`


def role_mentions(text: str):
    """(role, first name, surname) for every role + name phrase in text."""
    role_ends = list(_role_word_ends(text))
    if not role_ends:
        return  # neither pattern can yield without a role word
    for end in role_ends:
        for pattern in AFTER_ROLE:
            match = pattern.match(text, end)
            if match:
                start = end
                while start > 0 and WORD_CHAR.match(text, start - 1):
                    start -= 1
                yield text[start:end], match["first"], match["last"]
    for match in NAME_THEN_ROLE.finditer(text):
        if match["role"].lower().endswith(ROLE_ENDINGS):
            yield match["role"], match["first"], match["last"]


def _role_word_ends(text: str):
    """End offsets of the words that end in a role word, in text order."""
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer: offsets would shift
        yield from (w.end() for w in WORD_RE.finditer(text) if w.group().lower().endswith(ROLE_ENDINGS))
        return
    last = -1
    for end, _length in ROLE_AUTOMATON.iter(lower):
        if end != last and (end + 1 == len(text) or not WORD_CHAR.match(text, end + 1)):
            last = end  # several endings can end here (`minister`, `ister`): one word
            yield end + 1


# gender-guesser's list of ~40,000 first names (Ukrainian and Russian transliterations
# included) tells `Maria Sacharowa` from `Minister Front Energie`.
FIRST_NAMES = gender_guesser.detector.Detector(case_sensitive=True)


def is_first_name(word: str) -> bool:
    return FIRST_NAMES.get_gender(word.split("-")[0]) != "unknown"


def genitive(name: str) -> str | None:
    return None if name.endswith(("s", "ß", "x", "z")) else name + "s"


def _is_boundary(char: str) -> bool:
    return not (char.isalnum() or char == "_")


@dataclass
class Mentions:
    places: Counter = field(default_factory=Counter)
    people: Counter = field(default_factory=Counter)
    discovered: list[tuple[str, str, str]] = field(default_factory=list)  # (role, first, last)


class Linker:
    def __init__(self, place_names: dict[str, int], person_names: dict[str, int]):
        self.automaton = ahocorasick.Automaton()
        for kind, names in ((PLACE, place_names), (PERSON, person_names)):
            for name, target in names.items():
                for form in (name, genitive(name)):
                    if form and form not in self.automaton:
                        self.automaton.add_word(form, (len(form), kind, target))
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()
        self.person_names = person_names
        self.place_names = set(place_names)

    @classmethod
    def from_database(cls) -> "Linker":
        return cls(*gazetteer_names())

    def find(self, text: str) -> Mentions:
        mentions = Mentions()
        if not self.empty:
            candidates = []
            for end, (length, kind, target) in self.automaton.iter(text):
                start = end - length + 1
                before = text[start - 1] if start > 0 else " "
                after = text[end + 1] if end + 1 < len(text) else " "
                if _is_boundary(before) and _is_boundary(after):
                    candidates.append((start, end, kind, target))
            covered_until = -1
            for start, end, kind, target in sorted(candidates, key=lambda c: (c[0], -(c[1] - c[0]))):
                if start <= covered_until:
                    continue  # inside a longer name already taken
                covered_until = end
                (mentions.places if kind == PLACE else mentions.people)[target] += 1
        for role, first, last in role_mentions(text):
            known = self.person_names.get(f"{first} {last}")
            if known is not None and known in mentions.people:
                continue  # the automaton counted it already
            if known is not None or (is_first_name(first) and first not in self.place_names):
                mentions.discovered.append((role, first, last))
        return mentions

    def mentions_of(self, text: str) -> Mentions:
        """Mentions in text, discovered people created as suggestions and counted."""
        mentions = self.find(text)
        for role, first, last in dict.fromkeys(mentions.discovered):
            person_id = self.suggest_person(role, first, last)
            if person_id is not None and person_id not in mentions.people:
                mentions.people[person_id] = text.count(f"{first} {last}") + _surname_only(text, first, last)
        return mentions

    def link(self, texts: dict[int, str], *, new: bool = False) -> int:
        """Write automatic links for these entries (id → headline, body and captions).

        `new`: the entries were just inserted and have no links yet, so the rows are
        streamed with COPY. Otherwise only automatic links that changed are touched;
        editors' links and removals stay. Returns the links written."""
        return self.write(self.links_of(texts), new=new)

    def links_of(self, texts: dict) -> dict:
        """key → Mentions of each text, discovered people created as suggestions."""
        return {key: self.mentions_of(text) for key, text in texts.items()}

    def write(self, found: dict[int, Mentions], *, new: bool = False) -> int:
        """Write the links of links_of() for these entry ids (see link)."""
        if not found:
            return 0
        places = {pk: m.places for pk, m in found.items()}
        people = {pk: m.people for pk, m in found.items()}
        # Inside the loader's transaction per dump no savepoint is needed (a round trip each).
        with transaction.atomic(savepoint=False):
            if new:
                return _copy_links(EntryPlace, "place_id", places) + _copy_links(EntryPerson, "person_id", people)
            return _sync_links(EntryPlace, "place_id", places) + _sync_links(EntryPerson, "person_id", people)

    @staticmethod
    def text_of(entry: Entry) -> str:
        """What linking reads of a stored entry (pictures prefetched by the caller)."""
        return "\n".join([entry.headline, entry.body, *(p.caption for p in entry.pictures.all())])

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
        return person.pk


def _surname_only(text: str, first: str, last: str) -> int:
    """Mentions of the surname alone (`Kiper`, `Kipers`) in the entry that introduced the person."""
    return len(re.findall(rf"(?<!{re.escape(first)} )\b{re.escape(last)}s?\b", text))


def gazetteer_names() -> tuple[dict[str, int], dict[str, int]]:
    """Every usable name → one place (or person). Ambiguous names go to the place the news
    most likely means: by country priority (Ukraine, Russia, Germany, ...), then a curated
    place before one only GeoNames knows, then country before region before town."""
    from tickerarchive.gazetteer import curated

    data = curated()
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
    for pk, name in Person.objects.exclude(status=Person.Status.REJECTED).values_list("pk", "name"):
        person_names[name] = pk
    for name, person_id in PersonAlias.objects.exclude(person__status=Person.Status.REJECTED).values_list("name", "person_id"):
        person_names.setdefault(name, person_id)
    return place_names, person_names


def _copy_links(model, column: str, wanted: dict[int, Counter]) -> int:
    """Links of entries inserted in this transaction: COPY, the fastest way in. The rows are
    only numbers and constants, so they are written as COPY text in one piece (adapting
    row by row with write_row cost more than the database's side)."""
    suffix = f"\t{LinkOrigin.AUTOMATIC.value}\tf\n"
    rows = [
        f"{entry_id}\t{target_id}\t{min(mentions, 32767)}{suffix}"
        for entry_id, counts in wanted.items() for target_id, mentions in counts.items()
    ]
    if rows:
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {model._meta.db_table} (entry_id, {column}, mentions, origin, removed) FROM STDIN"
        ) as copy:
            copy.write("".join(rows))
    return len(rows)


def _sync_links(model, target: str, wanted: dict[int, Counter]) -> int:
    """Make the automatic links of these entries what was found, touching only what changed.
    Rows an editor made or removed are left exactly as they are."""
    rows = model.objects.filter(entry_id__in=list(wanted))
    current = {(r.entry_id, getattr(r, target)): r for r in rows}
    create, update, delete = [], [], []
    for entry_id, counts in wanted.items():
        for target_id, mentions in counts.items():
            row = current.get((entry_id, target_id))
            if row is None:
                create.append(model(entry_id=entry_id, **{target: target_id}, mentions=min(mentions, 32767)))
            elif row.origin == LinkOrigin.AUTOMATIC and not row.removed and row.mentions != mentions:
                row.mentions = min(mentions, 32767)
                update.append(row)
    for (entry_id, target_id), row in current.items():
        if row.origin == LinkOrigin.AUTOMATIC and not row.removed and target_id not in wanted[entry_id]:
            delete.append(row.pk)
    model.objects.bulk_create(create, ignore_conflicts=True)
    model.objects.bulk_update(update, ["mentions"])
    if delete:
        model.objects.filter(pk__in=delete).delete()
    return len(create) + len(update)
