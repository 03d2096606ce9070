"""The archive: tickers, the dumps they came from, their entries, places and people.

Entries keep what the ticker published (`original_*`, written only by ingest) apart from
what readers see (`published_at`, `headline`, `body`), which editors may correct. The
unique key uses the published values, so a correction never makes the next ingest create
a duplicate.
"""
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorCombinable, SearchVectorField
from django.db import connection, connections, models, router, transaction
from django.db.models import Func, OuterRef, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from ingest.parser import LINE_BREAK_RE


# Name folding in SQL, the database's side of lookup.fold(): accents and apostrophes dropped,
# lower case. Stored with each name and alias (`folded`), because translate() on every alias
# at each lookup cost 110 ms for 15,000 aliases, and comparing stored forms 3 ms.
ACCENTED = "ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñŠšŽžČčĆćŁłŚśŹźŻżÝýÿ’'"
PLAIN = "AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNnSsZzCcCcLlSsZzZzYyy"


class Folded(Func):
    """lower(translate(name, accented, plain)), for narrowing the candidates of a lookup only."""

    function = "lower"
    output_field = models.TextField()

    def __init__(self, expression):
        super().__init__(Func(expression, Value(ACCENTED), Value(PLAIN), function="translate",
                              output_field=models.TextField()))


def folded_name() -> models.GeneratedField:
    return models.GeneratedField(expression=Folded("name"), output_field=models.TextField(), db_persist=True)


class Ticker(models.Model):
    title = models.CharField("Titel", max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    section = models.CharField("Rubrik", max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title"]
        verbose_name = "Ticker"
        verbose_name_plural = "Ticker"

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def slug_for(title: str) -> str:
        return slugify(title)[:200] or "ticker"


class SourceDump(models.Model):
    """One text dump as it was read: the raw text stays, so provenance can always be shown."""

    ticker = models.ForeignKey(Ticker, on_delete=models.PROTECT, related_name="dumps", null=True)
    file_name = models.CharField("Dateiname", max_length=500)
    path = models.CharField("Pfad beim Import", max_length=2000)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField("Größe (Bytes)")
    encoding = models.CharField(max_length=20)
    page_datetime = models.DateTimeField("Seite geöffnet", null=True, blank=True)
    date_source = models.CharField(max_length=20, blank=True)
    raw_text = models.TextField("Rohtext")
    parse_warnings = models.JSONField("Warnungen beim Lesen", default=list, blank=True)
    unparsed_lines = models.JSONField("Nicht zugeordnete Zeilen", default=list, blank=True)
    entry_count = models.PositiveIntegerField("Einträge", default=0)
    ingested_at = models.DateTimeField("Importiert", default=timezone.now)

    class Meta:
        ordering = ["-ingested_at"]
        verbose_name = "Quelldatei"
        verbose_name_plural = "Quelldateien"

    def __str__(self) -> str:
        return self.file_name

    def lines(self, first: int, last: int) -> list[tuple[int, str]]:
        """Lines first..last (1-based, inclusive) of the raw text, numbered."""
        # Split exactly as the parser does, so numbers match its line numbers.
        lines = LINE_BREAK_RE.split(self.raw_text)
        return [(n, lines[n - 1]) for n in range(max(1, first), min(last, len(lines)) + 1)]


class IngestEvent(models.Model):
    """A log line per file and run. It keeps no foreign key, so it survives purges."""

    class Status(models.TextChoices):
        LOADED = "loaded", "importiert"
        UNCHANGED = "unchanged", "unverändert"
        FAILED = "failed", "fehlgeschlagen"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    path = models.CharField(max_length=2000)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    entries_created = models.PositiveIntegerField(default=0)
    entries_updated = models.PositiveIntegerField(default=0)
    entries_unchanged = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "Importvorgang"
        verbose_name_plural = "Importvorgänge"


# A word of a name as a text search term (no tsquery operator can be in it).
NAME_WORD_RE = re.compile(r"\w+")
MAX_MENTIONS = 32767  # mentions counted in a link (a smallint in the link rows)


class LinkKind(NamedTuple):
    """Where the links of one kind ("place" or "person") live."""

    found: str  # the entry's column of what the linker found, {id: mentions}
    linked: str  # the entry's array readers use
    links: str  # the table of editors' links and removals
    targets: str  # the table of places (people)
    target: str  # the links' column naming one
    word: str  # a link as a word of the entry's text index (see DAY_WORD), formatted with the id


LINK_KINDS = {
    "place": LinkKind("auto_places", "place_ids", "tickerarchive_entryplace", "tickerarchive_place", "place_id",
                      "@place {}"),
    "person": LinkKind("auto_people", "person_ids", "tickerarchive_entryperson", "tickerarchive_person", "person_id",
                       "@person {}"),
}


def targets_locked_sql(kind: str, named: str) -> str:
    """CTEs for a statement that links entries to places (kind "place") or people: those it
    names (`named`, a query of their ids as `target`) locked in id order, so that a concurrent
    delete or merge waits for it, and the least of them that is gone. Pair with none_missing_sql."""
    targets = LINK_KINDS[kind].targets
    return (f"{kind}_targets AS ({named}), "
            f"{kind}_locked AS (SELECT id FROM {targets} WHERE id = ANY(ARRAY(SELECT target FROM {kind}_targets)) "
            "ORDER BY id FOR KEY SHARE), "
            f"{kind}_missing AS (SELECT min(target) AS id FROM {kind}_targets WHERE target NOT IN (SELECT id FROM {kind}_locked))")


# Words of the text index that no text yields (a lexeme parsed from text never holds a space)
# and no word beginning matches (`pers:*`, as the zero-hit fallback and relinking search, would
# match `person 3`): the entry's day and month in Berlin time, and what it is linked to
# (LinkKind.word; migration 0017). A filter on them is part of the one GIN scan of the search's
# words, which skips through a frequent word's postings to the few entries of some days, a
# person or a region.
DAY_WORD = "@day {:%Y-%m-%d}"
MONTH_WORD = "@month {:%Y-%m}"


def any_word(words: Iterable[str]) -> str:
    """A tsquery (text) matching entries with any of these index words."""
    return " | ".join(f"'{word}'" for word in words)


def matching_text_index(tsquery_sql: str, params: list) -> RawSQL:
    """Entries whose text index matches a tsquery written in SQL (with its parameters)."""
    return RawSQL(f'"{Entry._meta.db_table}"."search_vector" @@ ({tsquery_sql})', params,
                  output_field=models.BooleanField())


def with_any_word(words: Iterable[str]) -> RawSQL:
    """Entries whose text index holds any of these words (none: no entry)."""
    words = list(words)
    if not words:
        return RawSQL("false", [], output_field=models.BooleanField())
    return matching_text_index("%s::tsquery", [any_word(words)])


def link_word(kind: str, pk: int) -> str:
    """The text index's word for a link to place (kind "place") or person `pk`."""
    return LINK_KINDS[kind].word.format(pk)


def linked_to_any(kind: str, ids: list[int]) -> RawSQL:
    """Entries linked to any of these places (kind "place") or people ("person"), links an
    editor removed left out: their words in the text index, which PostgreSQL derives from the
    entry's own arrays (see Entry), not a subquery into the link table for every row."""
    return with_any_word(link_word(kind, pk) for pk in ids)


class FilterWords(SearchVectorCombinable, Func):
    """The entry's day, month and links as words of its text index (DAY_WORD, MONTH_WORD,
    LinkKind.word), from its own columns by an IMMUTABLE function of migration 0017; place_ids and
    person_ids are no model fields."""

    template = 'tickerarchive_filter_words("published_at", "place_ids", "person_ids")'
    output_field = SearchVectorField()


def none_missing_sql(kind: str) -> str:
    """A condition that refuses the statement, with the error a link row naming a missing place
    or person gets (migration 0005), if targets_locked_sql found one gone."""
    links = LINK_KINDS[kind]
    return ("(SELECT CASE WHEN id IS NULL THEN true ELSE "
            f"tickerarchive_refuse_missing_link('{links.links}', '{links.targets}', '{links.target}', id) END "
            f"FROM {kind}_missing)")


# How many of the newest entries exists_for_word_beginnings asks before the whole archive.
NEWEST_ASKED_FIRST = 1000


class EntryQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-published_at", "position_key")

    def delete_as_editor(self, user=None) -> int:
        """Delete entries so that no later ingest brings them back (a tombstone each)."""
        entries = list(self.select_related(None))
        EntryTombstone.objects.bulk_create(
            [EntryTombstone.for_entry(entry, user=user) for entry in entries], ignore_conflicts=True
        )
        return self.model.objects.filter(pk__in=[e.pk for e in entries]).delete()[0]

    def for_list(self):
        return self.select_related("ticker").newest_first()

    def exists_for_word_beginnings(self) -> bool:
        """exists() for a search PostgreSQL cannot estimate: it keeps no statistics on word
        beginnings (`nowor:*`). Wanting one row, it walked the whole table in the hope of an
        early hit, which read every row where no entry had one (1.8 s at 1,000,000 entries).
        Here the newest thousand entries are asked first, along the time index, where a
        frequent beginning is found at once (`angrif:*`); then the indexes alone, by bitmap,
        which costs about their entries for the words, hits or none (`noworosijsk:*`: 3 ms;
        `angrif:*`, 190,000 entries: 160 ms)."""
        # The time of the NEWEST_ASKED_FIRST-th newest entry (None: the archive has fewer), as a
        # value: as a subquery, PostgreSQL could not place it and walked another index whole.
        since = next(iter(self.model.objects.using(self.db).order_by("-published_at", "-pk")
                          .values_list("published_at", flat=True)[NEWEST_ASKED_FIRST - 1:NEWEST_ASKED_FIRST]), None)
        newest = self if since is None else self.filter(published_at__gte=since)
        plans = ("enable_seqscan", "enable_indexscan", "enable_bitmapscan")
        with transaction.atomic(using=self.db), connections[self.db].cursor() as cursor:
            def allow(*allowed: str) -> None:
                cursor.execute("SELECT " + ", ".join(
                    f"set_config('{plan}', '{'on' if plan in allowed else 'off'}', true)" for plan in plans))

            cursor.execute("SELECT " + ", ".join(f"current_setting('{plan}')" for plan in plans))
            before = cursor.fetchone()
            allow("enable_indexscan")  # the newest along the time index, one by one
            found = newest.exists()
            if not found:
                allow("enable_bitmapscan")
                found = self.exists()
            # A setting made for the transaction outlives this block when it is a savepoint.
            cursor.execute("SELECT " + ", ".join(f"set_config('{plan}', %s, true)" for plan in plans), before)
            return found

    def found_links(self, ids: Iterable[int]) -> dict[int, tuple[dict[int, int], dict[int, int]]]:
        """What the linker found in these entries: {id: ({place: mentions}, {person: mentions})}."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, auto_places, auto_people FROM {Entry._meta.db_table} WHERE id = ANY(%s)",
                           [list(ids)])
            return {pk: (_found(places), _found(people)) for pk, places, people in cursor.fetchall()}

    def store_found_links(self, found: dict[int, tuple[dict[int, int], dict[int, int]]]) -> int:
        """Make these what the linker found in these entries ({id: ({place: mentions}, {person:
        mentions})}); the arrays readers use follow (migration 0014), editors' links and
        removals stay. Returns the links new or with a new count of mentions."""
        stored = self.found_links(found)
        changed, written = {}, 0
        for pk, (places, people) in found.items():
            if pk not in stored:
                continue  # deleted meanwhile
            new = sum(stored[pk][0].get(t) != m for t, m in places.items()) + sum(
                stored[pk][1].get(t) != m for t, m in people.items())
            if (places, people) != stored[pk]:
                changed[pk] = (places, people)
                written += new
        if changed:
            with connection.cursor() as cursor:
                cursor.execute(STORE_FOUND_LINKS_SQL, [
                    list(changed), *([json.dumps(links[i]) for links in changed.values()] for i in (0, 1)),
                ])
        return written

    def linked_ids(self, ids: Iterable[int]) -> dict[int, tuple[list[int], list[int]]]:
        """The places and people readers see linked to these entries: {id: (place ids, person ids)}."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, place_ids, person_ids FROM {Entry._meta.db_table} WHERE id = ANY(%s)", [list(ids)])
            return {pk: (places, people) for pk, places, people in cursor.fetchall()}

    def move_found_links(self, kind: str, old: int, new: int) -> None:
        """What the linker found of place (kind "place") or person `old` counts for `new`
        (a merge): mentions of both add up."""
        links = LINK_KINDS[kind]
        found = links.found
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Entry._meta.db_table} SET {found} = ({found} - %(old)s) || jsonb_build_object(%(new)s::text, "
                f"least({MAX_MENTIONS}, coalesce(({found} ->> %(new)s)::int, 0) + ({found} ->> %(old)s)::int)) "
                f"WHERE (search_vector @@ %(old_word)s::tsquery "
                f"OR id IN (SELECT entry_id FROM {links.links} WHERE {links.target} = %(old)s::bigint)) AND {found} ? %(old)s",
                {"old": str(old), "new": str(new), "old_word": any_word([link_word(kind, old)])},
            )

    def ids_naming_or_linked_to(self, named: list) -> set[int]:
        """Ids of the entries that may name these places or people (Place and Person objects),
        or that are linked to them, under a spelling they may no longer have."""
        if not named:
            return set()
        linked = models.Q()
        for kind, links in LINK_KINDS.items():
            ids = [item.pk for item in named if item._meta.model_name == kind]
            if ids:
                linked |= models.Q(linked_to_any(kind, ids))
        spellings = set().union(*(item.spellings() for item in named))
        return self.ids_possibly_naming(spellings) | set(self.filter(linked).values_list("pk", flat=True))

    def ids_possibly_naming(self, names: Iterable[str]) -> set[int]:
        """Ids of the entries that may name any of `names`: every entry in which linking could
        find one, and a few more. Headline and body by the text index (each word of a name as
        the beginning of a word: `Putin` finds `Putins` and `Trump-Putin-Treffen`), picture
        captions, which the index leaves out, by their text."""
        alternatives = []
        for name in names:
            words = NAME_WORD_RE.findall(name)
            if words:
                alternatives.append("(" + " & ".join(f"{word}:*" for word in words) + ")")
        if not alternatives:
            return set()
        in_text = SearchQuery(" | ".join(alternatives), search_type="raw", config="german")
        ids = set(self.filter(search_vector=in_text).values_list("pk", flat=True))
        in_captions = models.Q()
        for name in names:
            in_captions |= models.Q(caption__contains=name)
        return ids | set(Picture.objects.filter(in_captions, entry__in=self).values_list("entry_id", flat=True))


class Entry(models.Model):
    """One ticker entry. Besides the fields below, each row carries its links, as columns
    that are no model fields (so that no save() of an entry read earlier writes them back stale):

    - `auto_places`, `auto_people`: what the linker found, {id: mentions} (jsonb). Ingest
      writes them with new entries, the Linker when it links stored entries again.
    - `place_ids`, `person_ids`: the ids readers see, what the linker found less an editor's
      removals plus an editor's links (rows of EntryPlace and EntryPerson). PostgreSQL keeps
      them whenever either changes (migrations 0007 and 0014). Search filters by them as
      words of `search_vector` (linked_to_any) and counts them (facets_of).

    links_of(entry) reads both, for editors."""

    # No index of its own: entry_ticker_time and the unique key both start with the ticker.
    ticker = models.ForeignKey(Ticker, on_delete=models.PROTECT, related_name="entries", db_index=False)

    # What readers see; editors may correct these. (Time: entry_newest_first serves every
    # range and order on it, so no single-column index to maintain on each insert.)
    published_at = models.DateTimeField("Zeit")
    headline = models.TextField("Überschrift")
    body = models.TextField("Text", blank=True)

    # As the ticker published it; written by ingest only.
    original_published_at = models.DateTimeField(editable=False)
    original_headline = models.TextField(editable=False)
    original_body = models.TextField(editable=False, blank=True)

    # Which of published_at/headline/body an editor changed: ingest leaves those alone.
    edited_fields = models.JSONField(default=list, blank=True, editable=False)

    source_dump = models.ForeignKey(SourceDump, on_delete=models.PROTECT, related_name="entries")
    source_line = models.PositiveIntegerField("Zeile")
    # Position on its day page, newest first: orders two entries of the same minute.
    position_key = models.PositiveIntegerField(default=0)

    # Kept in sync by PostgreSQL itself (a stored generated column): headline weighs more than
    # body; the day, the month and the links are words of their own (FilterWords).
    search_vector = models.GeneratedField(
        expression=SearchVector("headline", weight="A", config="german")
        + SearchVector("body", weight="B", config="german")
        + FilterWords(),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EntryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["search_vector"])

    class Meta:
        verbose_name = "Eintrag"
        verbose_name_plural = "Einträge"
        constraints = [
            models.UniqueConstraint(
                fields=["ticker", "original_published_at", "original_headline"],
                name="entry_unique_as_published",
            ),
        ]
        indexes = [
            models.Index(fields=["ticker", "-published_at"], name="entry_ticker_time"),
            models.Index(fields=["-published_at", "-id"], name="entry_newest_first"),
            GinIndex(fields=["search_vector"], name="entry_search"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.published_at):%d.%m.%Y %H:%M} {self.headline}"

    def get_absolute_url(self) -> str:
        return reverse("entry", args=[self.pk])

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body.split("\n\n") if p.strip()]

    EDITABLE_FIELDS = ("published_at", "headline", "body")

    def refresh_edited_fields(self) -> None:
        """A field counts as corrected while it differs from what the ticker published."""
        self.edited_fields = [f for f in self.EDITABLE_FIELDS if getattr(self, f) != getattr(self, f"original_{f}")]

    def merge(self, others, user=None) -> None:
        """Fold `others` (duplicates of this entry) into it: links and pictures move here."""
        others = [o for o in others if o.pk != self.pk]
        for other in others:
            for link_model, target in ((EntryPlace, "place_id"), (EntryPerson, "person_id")):
                mine = set(link_model.objects.filter(entry=self).values_list(target, flat=True))
                link_model.objects.filter(entry=other).exclude(**{f"{target}__in": mine}).update(entry=self)
            # What the linker found in the duplicate stays linked, as the editor's links.
            linked = Entry.objects.linked_ids([self.pk, other.pk])
            for link_model, target, theirs, mine in zip(
                (EntryPlace, EntryPerson), ("place_id", "person_id"), linked[other.pk], linked[self.pk]
            ):
                link_model.objects.bulk_create(
                    [link_model(entry=self, **{target: pk}) for pk in set(theirs) - set(mine)], ignore_conflicts=True
                )
            next_position = self.pictures.count()
            for picture in other.pictures.all():
                picture.entry, picture.position = self, next_position
                picture.save(update_fields=["entry", "position"])
                next_position += 1
        EntryTombstone.objects.bulk_create(
            [EntryTombstone.for_entry(o, user=user, merged_into=self) for o in others], ignore_conflicts=True
        )
        Entry.objects.filter(pk__in=[o.pk for o in others]).delete()


class Picture(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="pictures")
    position = models.PositiveSmallIntegerField(default=0)
    slug = models.CharField("Bilddatei", max_length=500, blank=True)
    caption = models.TextField("Bildunterschrift", blank=True)
    credit = models.CharField("Bildnachweis", max_length=500, blank=True)
    original_caption = models.TextField(editable=False, blank=True)
    original_credit = models.CharField(max_length=500, editable=False, blank=True)
    edited = models.BooleanField(default=False, editable=False)
    source_line = models.PositiveIntegerField("Zeile", null=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["entry", "position"]
        verbose_name = "Bild"
        verbose_name_plural = "Bilder"
        constraints = [
            models.UniqueConstraint(fields=["entry", "position"], name="picture_unique_position"),
        ]

    def __str__(self) -> str:
        return self.caption[:80] or self.slug


class Named:
    """Places and people: a display name and aliases (`aliases`), which linking looks for."""

    def spellings(self) -> set[str]:
        """The names linking looks for: the display name and every alias."""
        return {self.name, *self.aliases.values_list("name", flat=True)}


class Place(Named, models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", "Staat"
        REGION = "region", "Region"
        CITY = "city", "Ort"
        OTHER = "other", "Sonstiges"

    name = models.CharField("Name", max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField("Art", max_length=20, choices=Kind.choices, default=Kind.OTHER)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children",
        verbose_name="Gehört zu",
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geonames_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    folded = folded_name()
    history = HistoricalRecords(excluded_fields=["folded"])

    class Meta:
        ordering = ["name"]
        verbose_name = "Ort"
        verbose_name_plural = "Orte"
        # search.named_in compares names case-insensitively (name__iexact → UPPER) on every search
        indexes = [models.Index(Upper("name"), name="place_name_upper")]

    def __str__(self) -> str:
        return self.name

    def merge(self, duplicates) -> None:
        _merge_named(self, duplicates, link_model=EntryPlace, link_field="place",
                     alias_model=PlaceAlias, redirect_model=PlaceRedirect)


class PlaceUnit(models.Model):
    """The region and the country a place counts for in the facets: a view over the gazetteer
    (migration 0007), so it follows every change of a place at once. Regions: a region with its
    towns, or a town that lies directly in a country (Kiew)."""

    place = models.OneToOneField(Place, primary_key=True, on_delete=models.DO_NOTHING, related_name="unit",
                                 db_column="place_id")
    region = models.ForeignKey(Place, null=True, on_delete=models.DO_NOTHING, related_name="+", db_column="region_id")
    country = models.ForeignKey(Place, null=True, on_delete=models.DO_NOTHING, related_name="+", db_column="country_id")

    class Meta:
        managed = False
        db_table = "tickerarchive_placeunit"


def _merge_named(survivor, duplicates, *, link_model, link_field, alias_model, redirect_model) -> None:
    """Move links, aliases and children of `duplicates` to `survivor`, keep their names as
    aliases and their slugs as redirects, then delete them. All or nothing."""
    owner = link_field  # "place" or "person"
    duplicates = [d for d in duplicates if d.pk != survivor.pk]
    with transaction.atomic():
        # Wait for ingests still linking to the duplicates (their links lock them FOR KEY SHARE)
        # and make later ones wait, so that every link, theirs included, moves to the survivor.
        list(type(survivor).objects.select_for_update().filter(pk__in=[d.pk for d in duplicates]).order_by("pk")
             .values_list("pk"))
        for duplicate in duplicates:
            Entry.objects.move_found_links(owner, duplicate.pk, survivor.pk)
            linked = set(link_model.objects.filter(**{owner: survivor}).values_list("entry_id", flat=True))
            link_model.objects.filter(**{owner: duplicate}).exclude(entry_id__in=linked).update(**{owner: survivor})
            link_model.objects.filter(**{owner: duplicate}).delete()  # entries already linked to the survivor
            known = set(alias_model.objects.filter(**{owner: survivor}).values_list("name", flat=True)) | {survivor.name}
            for alias in alias_model.objects.filter(**{owner: duplicate}):
                if alias.name in known:
                    alias.delete()
                else:
                    alias_model.objects.filter(pk=alias.pk).update(**{owner: survivor})
                    known.add(alias.name)
            if duplicate.name not in known:
                alias_model.objects.create(**{owner: survivor, "name": duplicate.name})
            if hasattr(duplicate, "children"):
                duplicate.children.update(parent=survivor)
            redirect_model.objects.filter(**{owner: duplicate}).update(**{owner: survivor})
            redirect_model.objects.update_or_create(old_slug=duplicate.slug, defaults={owner: survivor})
            duplicate.delete()


class PlaceAlias(models.Model):
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    folded = folded_name()

    class Meta:
        verbose_name = "Schreibweise"
        verbose_name_plural = "Schreibweisen"
        constraints = [models.UniqueConstraint(fields=["place", "name"], name="place_alias_unique")]
        indexes = [models.Index(Upper("name"), name="place_alias_name_upper")]

    def __str__(self) -> str:
        return self.name


class PersonQuerySet(models.QuerySet):
    def not_rejected(self):
        """People as readers, linking and suggestions know them: a suggestion an editor
        rejected is no person at all."""
        return self.exclude(status=Person.Status.REJECTED)


class PersonAliasQuerySet(models.QuerySet):
    def not_rejected(self):
        """Aliases of people an editor has not rejected."""
        return self.exclude(person__status=Person.Status.REJECTED)


class Person(Named, models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "bestätigt"
        SUGGESTED = "suggested", "vorgeschlagen"
        REJECTED = "rejected", "abgelehnt"

    name = models.CharField("Name", max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    role = models.CharField("Rolle", max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    folded = folded_name()
    history = HistoricalRecords(excluded_fields=["folded"])

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "Person"
        verbose_name_plural = "Personen"
        indexes = [models.Index(Upper("name"), name="person_name_upper")]

    def __str__(self) -> str:
        return self.name

    def spellings(self) -> set[str]:
        """None once rejected: linking knows no rejected person."""
        return set() if self.status == Person.Status.REJECTED else super().spellings()

    def merge(self, duplicates) -> None:
        _merge_named(self, duplicates, link_model=EntryPerson, link_field="person",
                     alias_model=PersonAlias, redirect_model=PersonRedirect)


class PersonAlias(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    folded = folded_name()

    objects = PersonAliasQuerySet.as_manager()

    class Meta:
        verbose_name = "Schreibweise"
        verbose_name_plural = "Schreibweisen"
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="person_alias_unique")]
        indexes = [models.Index(Upper("name"), name="person_alias_name_upper")]

    def __str__(self) -> str:
        return self.name


def not_rejected_sql(model, status_column: str) -> str:
    """` AND` the condition that leaves out people an editor rejected (no people at all), for
    raw SQL over Person; nothing for Place, which has no such status."""
    return f" AND {status_column} <> '{Person.Status.REJECTED}'" if model is Person else ""


def named_exactly(name: str) -> tuple[list[int], list[int]]:
    """(ids of the places, ids of the people not rejected) whose name or an alias is `name`, in
    any case: one statement over the four UPPER(name) indexes. A search asks this before every
    search with words; as two ORM querysets with alias subqueries it took 2.4 ms, this 0.25."""
    parts = []
    for model, alias, owner_id in ((Place, PlaceAlias, "place_id"), (Person, PersonAlias, "person_id")):
        status = not_rejected_sql(model, "p.status")
        table, aliases = model._meta.db_table, alias._meta.db_table
        parts += [f"SELECT '{table}', p.id FROM {table} p WHERE upper(p.name) = upper(%(name)s){status}",
                  f"SELECT '{table}', a.{owner_id} FROM {aliases} a JOIN {table} p ON p.id = a.{owner_id} "
                  f"WHERE upper(a.name) = upper(%(name)s){status}"]
    with connections[router.db_for_read(Place)].cursor() as cursor:
        cursor.execute(" UNION ".join(parts), {"name": name})
        found = cursor.fetchall()
    return ([pk for table, pk in found if table == Place._meta.db_table],
            [pk for table, pk in found if table == Person._meta.db_table])


class LinkOrigin(models.TextChoices):
    AUTOMATIC = "auto", "automatisch"
    EDITOR = "editor", "Redaktion"


class EntryPlace(models.Model):
    """An editor's decision about a place of an entry: a link the linker did not find
    (removed false) or a link it found that is wrong (removed true). What the linker found is
    kept on the entry itself (Entry.auto_places, migration 0014)."""

    # No index of its own: the unique key (entry, place) starts with it. One index by place
    # (place, removed, entry) finds the links to a place (deleting or merging it, removed links
    # included; migration 0011). The references are checked by
    # triggers of migration 0005 instead of foreign-key constraints (PostgreSQL's check of each
    # row cost more than writing the rows): once per statement they lock the entries and places
    # named and refuse missing ones, and a delete of an entry or place removes the links that
    # Django's cascade could not see (committed by a concurrent ingest).
    # The trigger functions plan at each call (migration 0010): a replacement must keep that.
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    place = models.ForeignKey(Place, on_delete=models.CASCADE, db_index=False, db_constraint=False,
                               verbose_name="Ort")
    mentions = models.PositiveSmallIntegerField("Nennungen", default=1)
    origin = models.CharField("Herkunft", max_length=10, choices=LinkOrigin.choices, default=LinkOrigin.EDITOR)
    # An editor removed this link: relinking must not bring it back.
    removed = models.BooleanField("entfernt", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "Ort im Eintrag"
        verbose_name_plural = "Orte im Eintrag"
        constraints = [models.UniqueConstraint(fields=["entry", "place"], name="entry_place_unique")]
        indexes = [models.Index(fields=["place", "removed", "entry"], name="entryplace_by_place")]

    def __str__(self) -> str:
        return f"{self.place} ({'entfernt' if self.removed else 'verknüpft'})"


class EntryPerson(models.Model):
    """An editor's decision about a person of an entry, as EntryPlace."""

    # As in EntryPlace: no index of its own, one index by person, references checked by triggers.
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False, db_constraint=False,
                               verbose_name="Person")
    mentions = models.PositiveSmallIntegerField("Nennungen", default=1)
    origin = models.CharField("Herkunft", max_length=10, choices=LinkOrigin.choices, default=LinkOrigin.EDITOR)
    removed = models.BooleanField("entfernt", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "Person im Eintrag"
        verbose_name_plural = "Personen im Eintrag"
        constraints = [models.UniqueConstraint(fields=["entry", "person"], name="entry_person_unique")]
        indexes = [models.Index(fields=["person", "removed", "entry"], name="entryperson_by_person")]

    def __str__(self) -> str:
        return f"{self.person} ({'entfernt' if self.removed else 'verknüpft'})"


def _found(value) -> dict[int, int]:
    """A column of what the linker found ({"17": 2} in the database, as text or read as a dict)."""
    found = json.loads(value) if isinstance(value, str) else value
    return {int(target): mentions for target, mentions in found.items()}


# What the linker found in stored entries, written with the same check as ingest's.
STORE_FOUND_LINKS_SQL = f"""
    WITH found (id, place, person) AS (SELECT * FROM unnest(%s::bigint[], %s::jsonb[], %s::jsonb[])),
    {targets_locked_sql("place", "SELECT DISTINCT key::bigint AS target FROM found, jsonb_object_keys(found.place) AS key")},
    {targets_locked_sql("person", "SELECT DISTINCT key::bigint AS target FROM found, jsonb_object_keys(found.person) AS key")}
    UPDATE tickerarchive_entry AS entry SET auto_places = found.place, auto_people = found.person
    FROM found WHERE entry.id = found.id AND {none_missing_sql("place")} AND {none_missing_sql("person")}
"""


@dataclass(frozen=True)
class Link:
    """A place or person of an entry as editors see it: found by the linker (mentions > 0),
    linked by an editor, or found and removed by an editor."""

    target: "Place | Person"
    mentions: int
    origin: str
    removed: bool


def links_of(entry: "Entry") -> tuple[list[Link], list[Link]]:
    """The places and the people of an entry, found or set by an editor, by name."""
    places, people = Entry.objects.found_links([entry.pk]).get(entry.pk, ({}, {}))
    result = []
    for found, model, target in ((places, EntryPlace, "place"), (people, EntryPerson, "person")):
        rows = {getattr(row, f"{target}_id"): row for row in model.objects.filter(entry=entry)}
        targets = model._meta.get_field(target).related_model.objects.in_bulk(set(found) | set(rows))
        links = [
            Link(targets[pk], found.get(pk, 0), LinkOrigin.EDITOR if pk in rows and pk not in found else LinkOrigin.AUTOMATIC,
                 pk in rows and rows[pk].removed)
            for pk in set(found) | set(rows) if pk in targets
        ]
        result.append(sorted(links, key=lambda link: link.target.name))
    return result[0], result[1]


def linked_values(model, field: str) -> RawSQL:
    """Of the places (model Place) or people readers see linked to an entry, the values of
    `field`, sorted: one subquery on the entry's row, for list pages and exports (no query per
    row). Rejected people are no people."""
    rejected = not_rejected_sql(model, "status")
    column = LINK_KINDS[model._meta.model_name].linked
    return RawSQL(
        f'ARRAY(SELECT "{field}" FROM "{model._meta.db_table}" WHERE id = ANY("{Entry._meta.db_table}"."{column}")'
        f'{rejected} ORDER BY "{field}")', [], output_field=ArrayField(models.CharField()),
    )


class LinkCount(models.Model):
    """How many entries readers see linked to each place (kind "place") or person: a trigger
    on the entries keeps it whenever their arrays change (migration 0016). Counting an array's
    entries by its GIN index reads every one of them from the heap (160 ms for three places at
    1,000,000 entries); the link rows' B-tree counted them index-only before migration 0014."""

    kind = models.CharField(max_length=6)
    target = models.BigIntegerField()
    entries = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "target"], name="link_count_unique")]


def linked_entry_count(model) -> Coalesce:
    """For each place (model Place) or person, the number of entries readers see linked to it."""
    counted = LinkCount.objects.filter(kind=model._meta.model_name, target=OuterRef("pk"))
    return Coalesce(Subquery(counted.values("entries")[:1]), 0, output_field=models.BigIntegerField())


def refers_to_missing_row(error: BaseException) -> bool:
    """The database refused link rows naming an entry, place or person that does not exist
    (the triggers of migration 0005): deleted or merged away after the links were found."""
    diag = getattr(error.__cause__, "diag", None)
    return (diag is not None and diag.sqlstate == "23503"
            and diag.table_name in (EntryPlace._meta.db_table, EntryPerson._meta.db_table))


class EntryTombstone(models.Model):
    """An entry an editor deleted or merged away: ingest must not bring it back.

    Keyed like Entry itself (ticker, published time, published headline). For a merge,
    `merged_into` is the surviving entry.
    """

    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="tombstones")
    original_published_at = models.DateTimeField()
    original_headline = models.TextField()
    merged_into = models.ForeignKey(Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="merged")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "Gelöschter Eintrag"
        verbose_name_plural = "Gelöschte Einträge"
        constraints = [
            models.UniqueConstraint(
                fields=["ticker", "original_published_at", "original_headline"], name="tombstone_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.original_published_at):%d.%m.%Y %H:%M} {self.original_headline}"

    @classmethod
    def for_entry(cls, entry: Entry, *, user=None, merged_into: Entry | None = None) -> "EntryTombstone":
        return cls(
            ticker_id=entry.ticker_id, original_published_at=entry.original_published_at,
            original_headline=entry.original_headline, merged_into=merged_into,
            created_by=getattr(user, "username", "") or "",
        )


class EntryConflict(models.Model):
    """A later save of a dump brought new text for a field an editor had corrected."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField("Feld", max_length=30)
    editor_value = models.TextField("Fassung der Redaktion")
    ingested_value = models.TextField("Neue Fassung aus dem Ticker")
    source_dump = models.ForeignKey(SourceDump, on_delete=models.PROTECT, related_name="conflicts")
    source_line = models.PositiveIntegerField("Zeile")
    detected_at = models.DateTimeField("Erkannt", default=timezone.now)
    resolved = models.BooleanField("Erledigt", default=False)

    class Meta:
        ordering = ["resolved", "-detected_at"]
        verbose_name = "Abweichung zur Prüfung"
        verbose_name_plural = "Abweichungen zur Prüfung"

    def __str__(self) -> str:
        return f"{self.entry}: {self.field}"


class PlaceRedirect(models.Model):
    """The slug of a place merged into another: its old URLs lead to the survivor."""

    old_slug = models.SlugField(max_length=200, unique=True)
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="redirects")


class PersonRedirect(models.Model):
    old_slug = models.SlugField(max_length=200, unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="redirects")
