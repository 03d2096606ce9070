"""Load parsed dumps into the archive: one transaction per dump, idempotent.

A dump is loaded in two halves. `prepare` needs no database: it reads and parses the file,
drops entries the page repeats, finds the places and people each entry names and lays the
rows out as columns. `write` is the database's half, in the dump's own transaction: three
round trips whatever the number of entries. `load_many` prepares the next dumps in a second
process while this one writes (see ingest/pipeline.py), so that Python and PostgreSQL work
at the same time instead of taking turns.

The management command only parses its arguments; everything about loading lives here.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from ingest.linker import Linker, Mentions, linked_text
from ingest.parser import DumpError, ParsedDump, Picture as ParsedPicture, parse_dump
from tickerarchive.models import (
    MAX_MENTIONS, Entry, EntryConflict, EntryTombstone, IngestEvent, Picture, SourceDump, Ticker,
    none_missing_sql, refers_to_missing_row, targets_locked_sql,
)

GLOB_CHARS = set("*?[")
# A day page is well under a megabyte; far larger files are not single pages and would be
# held in memory whole (raw text is stored for provenance).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# Entry ids are drawn from the table's sequence this many at a time, not once per dump (ids
# left over at the end are gaps in the numbering, nothing else).
ID_BLOCK = 1000


def expand_paths(arguments: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files as given, directories searched recursively for *.txt, globs expanded.

    Returns (files, [(argument, error)]) for arguments that name nothing.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() == ".txt"
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                missing.append((argument, "directory holds no .txt dumps"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif GLOB_CHARS & set(argument):
            matched = sorted(Path(p) for p in glob.glob(argument, recursive=True) if os.path.isfile(p))
            if not matched:
                missing.append((argument, "no file matches this pattern"))
            files.extend(matched)
        else:
            missing.append((argument, "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, missing


@dataclass
class FileResult:
    path: str
    status: str = IngestEvent.Status.LOADED
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # deleted or merged away by an editor
    warnings: list[dict] = field(default_factory=list)
    error: str | None = None


# The columns a prepared dump hands over, named as the parameters of WRITE_SQL: each entry of
# the page once, in page order; pictures and links point at their entry by its number there.
ENTRY_COLUMNS = ("at", "headline", "body", "line", "position")
PICTURE_COLUMNS = ("picture_entry", "picture_position", "picture_slug", "picture_caption", "picture_credit",
                   "picture_line")
PLACE_COLUMNS = ("place_entry", "place", "place_mentions")
PERSON_COLUMNS = ("person_entry", "person", "person_mentions")


def _columns(names) -> dict[str, list]:
    return {name: [] for name in names}


@dataclass
class PreparedDump:
    """A dump parsed, linked and laid out for writing: what `write` needs and nothing more of
    the parse (this crosses from the preparing process to the writing one, as plain lists)."""

    path: str
    started_at: datetime
    error: str | None = None
    sha256: str = ""
    size: int = 0
    encoding: str = ""
    text: str = ""
    title: str = ""
    section: str | None = None
    page_datetime: datetime | None = None
    date_source: str = ""
    warnings: list[dict] = field(default_factory=list)  # the parser's
    repeated: list[dict] = field(default_factory=list)  # warnings for entries the page shows twice
    warnings_json: str = "[]"
    unparsed_json: str = "[]"
    entry_count: int = 0  # entries on the page, repeats included
    # `at` is the time as seconds since the epoch (the parser gives whole minutes: exact).
    entries: dict[str, list] = field(default_factory=lambda: _columns(ENTRY_COLUMNS))
    pictures: dict[str, list] = field(default_factory=lambda: _columns(PICTURE_COLUMNS))
    places: dict[str, list] = field(default_factory=lambda: _columns(PLACE_COLUMNS))
    people: dict[str, list] = field(default_factory=lambda: _columns(PERSON_COLUMNS))
    # People named with a role whom the gazetteer may not know yet: (entry number, role,
    # first name, surname, mentions); the writer creates them as suggestions.
    discovered: list[tuple[int, str, str, str, int]] = field(default_factory=list)
    # The columns above as PostgreSQL array literals (WRITE_SQL's parameters): made here, so
    # the writing process need not adapt each value.
    arrays: dict[str, str] = field(default_factory=dict)
    stored: bool = False  # in the archive already when loading began: not parsed

    def pictures_of(self, number: int) -> list[ParsedPicture]:
        """The pictures of entry `number` (1-based), as stored: slug and credit "" when absent."""
        p = self.pictures
        return [
            ParsedPicture(p["picture_slug"][i], p["picture_caption"][i], p["picture_credit"][i], p["picture_line"][i])
            for i, n in enumerate(p["picture_entry"]) if n == number
        ]

    def mentions_of(self, number: int):
        """The linker's Mentions of entry `number` (1-based), for the links of a changed entry."""
        return Mentions(
            places={t: m for n, t, m in zip(*self.places.values()) if n == number},
            people={t: m for n, t, m in zip(*self.people.values()) if n == number},
            discovered_mentions={(role, first, last): m for n, role, first, last, m in self.discovered if n == number},
        )


class DumpLoader:
    """Reads dumps and writes them, each in its own transaction."""

    def __init__(
        self, *, default_date: date | None = None, ticker_title: str | None = None, force: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES, link: bool = True,
    ):
        self.default_date = default_date
        self.ticker_title = ticker_title
        self.force = force
        self.max_bytes = max_bytes
        self.link = link
        self._linker = None
        self._ids: deque[int] = deque()  # drawn from the sequence, not used yet
        # Prepared statements for runs of many dumps (load_many): they are kept by the server
        # connection, which a pooler in transaction mode would not keep for us.
        self.prepared_statements = False
        self._stored: set[str] | None = None  # SHA-256 of the dumps in the archive when load_many began
        self._toast_compression: str | None = None

    @property
    def linker(self):
        """Built once per loader from the gazetteer (an automaton over every name)."""
        if self._linker is None:
            self._linker = Linker.from_database()
        return self._linker

    def parse(self, path: Path, data: bytes | None = None) -> ParsedDump:
        if data is None:
            data = self._read(path)
        return parse_dump(data, path=str(path), default_date=self.default_date, ticker_title=self.ticker_title)

    def _read(self, path: Path) -> bytes:
        try:
            size = Path(path).stat().st_size
            if size > self.max_bytes:
                raise DumpError(
                    f"{size / 2**20:.0f} MiB is too large for one day page (limit {self.max_bytes / 2**20:.0f} MiB): "
                    "split the file into pages",
                    path=str(path),
                )
            return Path(path).read_bytes()
        except OSError as err:
            raise DumpError(f"cannot read the file: {err.strerror}", path=str(path)) from err

    def load_text(self, data: bytes, path: str) -> FileResult:
        """Load a dump already in memory (the admin's re-ingest of a stored dump)."""
        return self.load(Path(path), data)

    def load(self, path: Path, data: bytes | None = None) -> FileResult:
        prepared = self.prepare(path, data)
        return self.write(prepared, reprepare=lambda: self.prepare(path, data))

    def load_many(self, paths: Iterable[Path]) -> Iterator[FileResult]:
        """load() each path, in order; the next dumps are prepared in a second process while
        this one writes."""
        from ingest.pipeline import prepared_in_order

        if self.link:
            self.linker  # noqa: B018 - built here, so the preparing process has it too
        self.prepared_statements = True
        # Dumps stored before are not parsed again (the writer still checks, in its transaction).
        self._stored = set() if self.force else set(SourceDump.objects.values_list("sha256", flat=True))
        try:
            for prepared in prepared_in_order(self, list(paths)):
                yield self.write(prepared)
        finally:
            self._stored = None

    def _stored_before(self, sha256: str) -> bool:
        """A dump stored before is not parsed again, and gets only its log line: no statement
        that could count as a change to the archive (the page cache's version). load_many reads
        the stored hashes once (its preparing process has no database); a single load asks."""
        if self._stored is not None:
            return sha256 in self._stored
        return SourceDump.objects.filter(sha256=sha256).exists()

    # --- the half without the database --------------------------------------------------
    def prepare(self, path: Path, data: bytes | None = None) -> PreparedDump:
        """Parse the dump and make its rows. A dump that cannot be stored comes back with its
        error (naming file and line), not as an exception."""
        prepared = PreparedDump(path=str(path), started_at=timezone.now())
        try:
            data = self._read(path) if data is None else data
            if not self.force and self._stored_before(sha256 := hashlib.sha256(data).hexdigest()):
                prepared.sha256, prepared.stored = sha256, True
                return prepared
            parsed = self.parse(path, data)
        except DumpError as err:
            prepared.error = str(err)
            return prepared
        prepared.sha256 = parsed.sha256
        prepared.warnings = [w.as_dict() for w in parsed.warnings]
        if parsed.missing:
            prepared.error = str(DumpError("; ".join(parsed.missing), path=str(path)))
            return prepared
        prepared.size, prepared.encoding, prepared.text = parsed.size, parsed.encoding, parsed.text
        prepared.title, prepared.section = parsed.title, parsed.section
        prepared.page_datetime, prepared.date_source = parsed.page_datetime, parsed.date_source or ""
        prepared.warnings_json = json.dumps(prepared.warnings, ensure_ascii=False)
        prepared.unparsed_json = json.dumps([u.as_dict() for u in parsed.unparsed_lines], ensure_ascii=False)
        prepared.entry_count = len(parsed.entries)
        entries, pictures, places, people = prepared.entries, prepared.pictures, prepared.places, prepared.people
        first_line: dict[tuple, int] = {}
        for entry in parsed.entries:
            key = (entry.published_at, entry.headline)
            if key in first_line:
                prepared.repeated.append({
                    "line": entry.line, "message": f"the same entry as on line {first_line[key]}: stored once",
                })
                continue
            first_line[key] = entry.line
            number = len(first_line)
            body = entry.body
            for name, value in zip(ENTRY_COLUMNS, (
                entry.published_at.timestamp(), entry.headline, body, entry.line, entry.position,
            )):
                entries[name].append(value)
            for position, picture in enumerate(entry.pictures):
                fields = _picture_fields(position, picture)
                for name, value in zip(PICTURE_COLUMNS, (
                    number, position, fields["slug"], fields["caption"], fields["credit"], fields["source_line"],
                )):
                    pictures[name].append(value)
            if self.link:
                mentions = self.linker.find_in(linked_text(entry.headline, body, (p.caption for p in entry.pictures)))
                for columns, found in ((places, mentions.places), (people, mentions.people)):
                    entry_column, target_column, mentions_column = columns.values()
                    for target, count in found.items():
                        entry_column.append(number)
                        target_column.append(target)
                        mentions_column.append(min(count, MAX_MENTIONS))
                prepared.discovered += [(number, *person, count) for person, count in mentions.discovered_mentions.items()]
        prepared.arrays = _arrays(entries, pictures, places, people)
        return prepared

    # --- the database's half --------------------------------------------------------------
    def write(self, prepared: PreparedDump, reprepare: Callable[[], PreparedDump] | None = None) -> FileResult:
        """Store a prepared dump in its own transaction, with its line in the load-event log.
        `reprepare` prepares the same dump again (by default from its file)."""
        reprepare = reprepare or (lambda: self.prepare(Path(prepared.path)))
        if prepared.stored:
            unchanged = self._unchanged(prepared)
            if unchanged is not None:
                return unchanged
            if self._stored is not None:
                self._stored.discard(prepared.sha256)  # gone since loading began: load it afresh
            prepared = reprepare()
        for attempt in (1, 2):
            result = FileResult(path=prepared.path, warnings=list(prepared.warnings))
            if prepared.error is not None:
                result.error = prepared.error
                break
            try:
                with transaction.atomic(), connection.wrap_database_errors:
                    self._store(prepared, result)
            except IntegrityError as err:
                if attempt == 1 and self.link and refers_to_missing_row(err):
                    # A place, person or entry its links name was deleted or merged away during
                    # this ingest: read the gazetteer again and store the dump once more.
                    self._linker = None
                    prepared = reprepare()
                    continue
                result.error = f"{prepared.path}: database error: {err}".strip()
            except DatabaseError as err:  # the dump's transaction rolled back; the next dump goes on
                result.error = f"{prepared.path}: database error: {err}".strip()
            if self.link:
                self.linker.transaction_ended(committed=result.error is None)
            break
        if result.error is None:
            return result
        result.status = IngestEvent.Status.FAILED
        result.created = result.updated = result.unchanged = result.skipped = 0
        with connection.wrap_database_errors:
            _execute(_connection(), EVENT_SQL, _event(prepared, result))
        return result

    def _unchanged(self, prepared: PreparedDump) -> FileResult | None:
        """A dump that was stored when loading began, if it still is: its log line, and the
        counts and warnings its parse had (the same bytes parse the same)."""
        event = _event(prepared, FileResult(path=prepared.path, status=IngestEvent.Status.UNCHANGED))
        with connection.wrap_database_errors:
            row = _execute(_connection(self.prepared_statements), UNCHANGED_SQL, event).fetchone()
        if row is None:
            return None
        count, warnings = row
        return FileResult(
            path=prepared.path, status=IngestEvent.Status.UNCHANGED, unchanged=count,
            warnings=json.loads(warnings) if isinstance(warnings, str) else warnings,  # Django reads jsonb as text
        )

    def _store(self, prepared: PreparedDump, result: FileResult) -> None:
        """Three round trips for a dump, whatever its size: lock, look up, store the dump's row
        and read what the archive has of its entries; write entries, pictures, links and the
        log line in one statement; commit."""
        conn = _connection(self.prepared_statements)
        slug = Ticker.slug_for(prepared.title)
        compression = self._compression(conn)
        now = timezone.now()
        count = len(prepared.entries["at"])
        dump_row = {
            "slug": slug, "file_name": os.path.basename(prepared.path), "path": prepared.path,
            "sha256": prepared.sha256, "size": prepared.size, "encoding": prepared.encoding,
            "page_datetime": prepared.page_datetime, "date_source": prepared.date_source,
            "raw_text": prepared.text, "parse_warnings": prepared.warnings_json,
            "unparsed_lines": prepared.unparsed_json, "entry_count": prepared.entry_count, "now": now,
            "title": prepared.title, "section": prepared.section or "", "force": self.force,
        }
        with conn.pipeline():
            # Concurrent ingests of one ticker take turns: no duplicates, no deadlock. A commit
            # need not wait for the disk: should the server lose the last commits in a crash,
            # the next run finds those dumps not stored and loads them again (loading is
            # idempotent). Raw text and long entries are compressed with lz4 where the server
            # has it: several times faster than pglz, to write and to read. The prepared
            # statements are planned once, not at every dump (each reads one row by its key).
            _execute(conn, LOCK_SQL, [f"ingest:{slug}", compression])
            # The statements after the lock see what a concurrent ingest committed while we
            # waited (each statement takes its own snapshot). A dump stored before writes nothing.
            section = _execute(conn, SECTION_SQL, [slug])
            _execute(conn, TICKER_SQL, dump_row)
            dump = _execute(conn, DUMP_UPDATE_SQL if self.force else DUMP_SQL, dump_row)
            stored = None
            if count:
                at = prepared.entries["at"]
                # Planned at every dump, for its span and the archive as it is then: a plan
                # made once, on a nearly empty table, took the ticker's index and read all its
                # entries for every dump.
                span = {"slug": slug, "first": min(at), "last": max(at)}
                stored = _execute(conn, STORED_SQL, span, prepare=False)
            more_ids = _execute(conn, IDS_SQL, [max(count, ID_BLOCK)]) if len(self._ids) < count else None
        if more_ids is not None:
            self._ids.extend(row[0] for row in more_ids)
        section = (section.fetchone() or [None])[0]  # None: the ticker is new
        written = dump.fetchone()
        if written is None:  # stored before (or meanwhile by another ingest), and not --force
            result.status = IngestEvent.Status.UNCHANGED
            result.unchanged = prepared.entry_count
            _execute(conn, EVENT_SQL, _event(prepared, result))
            return
        dump_id, ticker_id = written
        result.warnings.extend(prepared.repeated)
        new, changed = self._compare(prepared, stored.fetchall() if stored else [], result)
        ids = [self._ids.popleft() if is_new else None for is_new in new]
        if changed:
            self._update_changed(prepared, changed, SourceDump(pk=dump_id), now)
        if self.link:
            self._resolve_discovered(prepared, ids)
        result.created = len(ids) - ids.count(None)
        result.updated = len(changed)
        with conn.pipeline():
            if section is not None and prepared.section and section != prepared.section:
                _execute(conn, TICKER_SECTION_SQL, [prepared.section, ticker_id])
            _execute(conn, WRITE_SQL, {
                "ids": _array_literal(ids), "ticker": ticker_id, "dump": dump_id, "now": now, **prepared.arrays,
                **_event(prepared, result),
            })

    def _compare(self, prepared: PreparedDump, stored_rows, result: FileResult) -> tuple[list[bool], dict[int, int]]:
        """Which entries of the dump are new ([bool] in page order), and {id: entry number} of
        stored ones whose text or pictures changed. Entries an editor deleted or merged away
        stay away."""
        stored, tombstones = {}, set()
        for at, headline, pk, body, pictures in stored_rows:
            if pk is None:
                tombstones.add((at, headline))
            else:
                stored[at, headline] = (pk, body, pictures or [])
        entries = prepared.entries
        new, changed = [], {}
        for number, key in enumerate(zip(entries["at"], entries["headline"]), start=1):
            match = stored.get(key)
            new.append(match is None and key not in tombstones)
            if match is None:
                result.skipped += key in tombstones
            elif match[1] == entries["body"][number - 1] and match[2] == [
                [p.slug, p.caption, p.credit] for p in prepared.pictures_of(number)
            ]:
                result.unchanged += 1
            else:
                changed[match[0]] = number
        return new, changed

    def _resolve_discovered(self, prepared: PreparedDump, ids: list[int | None]) -> None:
        """People named with a role in new entries: found or created as suggestions, linked."""
        if not prepared.discovered:
            return
        people = prepared.people
        # (entry number, person) → its position in the columns
        linked = {key: i for i, key in enumerate(zip(people["person_entry"], people["person"]))}
        for number, role, first, last, count in prepared.discovered:
            if ids[number - 1] is None:
                continue
            person_id = self.linker.suggest_person(role, first, last)
            if person_id is None:
                continue
            count = min(count, MAX_MENTIONS)
            at = linked.get((number, person_id))
            if at is not None:  # found by its name too: the larger count (see Linker.find)
                people["person_mentions"][at] = max(people["person_mentions"][at], count)
                continue
            linked[number, person_id] = len(people["person"])
            for name, value in zip(PERSON_COLUMNS, (number, person_id, count)):
                people[name].append(value)
        prepared.arrays.update(_arrays(people))

    def _compression(self, conn) -> str:
        if self._toast_compression is None:
            self._toast_compression = _execute(conn, COMPRESSION_SQL, []).fetchone()[0]
        return self._toast_compression

    def _update_changed(self, prepared: PreparedDump, changed: dict[int, int], dump: SourceDump, now) -> None:
        """Entries a later save of the page changed: through the models, as editors' changes are."""
        entries = prepared.entries
        for stored in Entry.objects.filter(pk__in=list(changed)).prefetch_related("pictures"):
            number = changed[stored.pk]
            self._update(stored, entries["body"][number - 1], entries["line"][number - 1],
                         prepared.pictures_of(number), dump, now)
        if self.link:
            self.linker.write_links({pk: prepared.mentions_of(number) for pk, number in changed.items()})

    def _update(self, stored: Entry, body: str, line: int, pictures: list[ParsedPicture], dump: SourceDump, now) -> None:
        """A later save of the page: new text replaces the published text, never an editor's."""
        conflict = dict(entry=stored, source_dump=dump, source_line=line, detected_at=now)
        if stored.original_body != body:
            if "body" in stored.edited_fields:
                EntryConflict.objects.create(field="body", editor_value=stored.body, ingested_value=body, **conflict)
            else:
                stored.body = body
            stored.original_body = body
        stored.source_dump, stored.source_line, stored.updated_at = dump, line, now
        stored.save(update_fields=["original_body", "body", "source_dump", "source_line", "updated_at"])
        before = [(p.slug, p.original_caption, p.original_credit) for p in stored.pictures.all()]
        if before != [(p.slug, p.caption, p.credit) for p in pictures]:
            if any(p.edited for p in stored.pictures.all()):
                EntryConflict.objects.create(
                    field="pictures", editor_value=_describe(stored.pictures.all()),
                    ingested_value=_describe(pictures), **conflict,
                )
            else:
                stored.pictures.all().delete()
                Picture.objects.bulk_create(
                    [Picture(entry=stored, **_picture_fields(n, p)) for n, p in enumerate(pictures)]
                )


# --- statements -------------------------------------------------------------------------
LOCK_SQL = (
    "SELECT pg_advisory_xact_lock(hashtext(%s)), set_config('synchronous_commit', 'off', true), "
    "set_config('default_toast_compression', %s, true), set_config('plan_cache_mode', 'force_generic_plan', true)"
)
COMPRESSION_SQL = (
    "SELECT CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE boot_val END FROM pg_settings "
    "WHERE name = 'default_toast_compression'"
)
SECTION_SQL = f"SELECT section FROM {Ticker._meta.db_table} WHERE slug = %s"
# The dump's ticker, unless it exists or the dump is stored already (and not read again).
TICKER_SQL = (
    f"INSERT INTO {Ticker._meta.db_table} (title, slug, section, created_at) "
    "SELECT %(title)s, %(slug)s, %(section)s, %(now)s "
    f"WHERE %(force)s OR NOT EXISTS (SELECT FROM {SourceDump._meta.db_table} WHERE sha256 = %(sha256)s) "
    "ON CONFLICT (slug) DO NOTHING"
)
TICKER_SECTION_SQL = f"UPDATE {Ticker._meta.db_table} SET section = %s WHERE id = %s"
_DUMP_COLUMNS = (
    "file_name", "path", "sha256", "size", "encoding", "page_datetime", "date_source", "raw_text",
    "parse_warnings", "unparsed_lines", "entry_count", "ingested_at",
)
# The ticker by its slug: it may have been created by the statement before, in the same
# pipeline. Returns (id, ticker id) of the row written: none for a dump stored before.
DUMP_SQL = (
    f"INSERT INTO {SourceDump._meta.db_table} (ticker_id, {', '.join(_DUMP_COLUMNS)}) "
    f"VALUES ((SELECT id FROM {Ticker._meta.db_table} WHERE slug = %(slug)s), %(file_name)s, %(path)s, %(sha256)s, "
    "%(size)s, %(encoding)s, %(page_datetime)s, %(date_source)s, %(raw_text)s, %(parse_warnings)s::jsonb, "
    "%(unparsed_lines)s::jsonb, %(entry_count)s, %(now)s) ON CONFLICT (sha256) DO NOTHING RETURNING id, ticker_id"
)
# With --force a dump stored before replaces its row, as update_or_create would.
DUMP_UPDATE_SQL = DUMP_SQL.replace(
    "DO NOTHING", "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in ("ticker_id", *_DUMP_COLUMNS) if c != "sha256")
)
# The stored entries and tombstones of a dump's ticker and time span (the caller picks those
# with the keys of its entries); times as seconds since the epoch, as the dump has them.
STORED_SQL = f"""
    WITH ticker AS (SELECT id FROM {Ticker._meta.db_table} WHERE slug = %(slug)s)
    SELECT extract(epoch FROM e.original_published_at)::float8, e.original_headline, e.id, e.original_body,
           (SELECT json_agg(json_build_array(p.slug, p.original_caption, p.original_credit) ORDER BY p.position)
            FROM {Picture._meta.db_table} p WHERE p.entry_id = e.id)
    FROM {Entry._meta.db_table} e
    WHERE e.ticker_id = (SELECT id FROM ticker)
        AND e.original_published_at BETWEEN to_timestamp(%(first)s) AND to_timestamp(%(last)s)
    UNION ALL
    SELECT extract(epoch FROM t.original_published_at)::float8, t.original_headline, NULL, NULL, NULL
    FROM {EntryTombstone._meta.db_table} t
    WHERE t.ticker_id = (SELECT id FROM ticker)
        AND t.original_published_at BETWEEN to_timestamp(%(first)s) AND to_timestamp(%(last)s)
"""
IDS_SQL = f"SELECT nextval(pg_get_serial_sequence('{Entry._meta.db_table}', 'id')) FROM generate_series(1, %s)"
EVENT_PARAMETERS = ("started_at", "finished_at", "event_path", "event_sha256", "status", "entries_created",
                    "entries_updated", "entries_unchanged", "error")
_EVENT_COLUMNS = ("started_at, finished_at, path, sha256, status, entries_created, entries_updated, "
                  "entries_unchanged, error")
EVENT_SQL = (
    f"INSERT INTO {IngestEvent._meta.db_table} ({_EVENT_COLUMNS}) VALUES ("
    + ", ".join(f"%({p})s" for p in EVENT_PARAMETERS) + ")"
)
# The log line of a dump stored before, with the count of its entries, if it is stored.
UNCHANGED_SQL = f"""
    WITH stored AS (SELECT entry_count, parse_warnings FROM {SourceDump._meta.db_table} WHERE sha256 = %(event_sha256)s),
    event AS (
        INSERT INTO {IngestEvent._meta.db_table} ({_EVENT_COLUMNS})
        SELECT {", ".join("entry_count" if p == "entries_unchanged" else f"%({p})s" for p in EVENT_PARAMETERS)}
        FROM stored
    )
    SELECT entry_count, parse_warnings FROM stored
"""


def _unnest(columns, types) -> str:
    """unnest() of array parameters that arrive as literals (text)."""
    return "unnest(" + ", ".join(f"%({c})s::text::{t}[]" for c, t in zip(columns, types)) + ")"


# The places (people) the new entries name, locked and checked by the statement (see
# models.targets_locked_sql): if one is gone, the loader reads the gazetteer again and stores
# the dump once more.
_NAMED = "SELECT DISTINCT l.target FROM {unnest} AS l (n, target) JOIN new USING (n)"
# What the linker found in each entry, {id: mentions}, and the array readers use (migration
# 0014): a new entry has no editor's links yet, so both hold the same ids.
_FOUND = ("SELECT n, array_agg(target ORDER BY target) AS ids, jsonb_object_agg(target, mentions) AS found "
          "FROM {unnest} AS l (n, target, mentions) GROUP BY n")
# A dump's new entries with what the linker found in them, their pictures and its line in the
# load-event log, in one statement. `ids` has an id for each entry to insert and NULL for the others.
WRITE_SQL = f"""
    WITH new (id, n) AS (SELECT id, n FROM unnest(%(ids)s::text::bigint[]) WITH ORDINALITY AS new (id, n) WHERE id IS NOT NULL),
    places AS ({_FOUND.format(unnest=_unnest(PLACE_COLUMNS, ("int", "bigint", "int")))}),
    people AS ({_FOUND.format(unnest=_unnest(PERSON_COLUMNS, ("int", "bigint", "int")))}),
    {targets_locked_sql("place", _NAMED.format(unnest=_unnest(PLACE_COLUMNS[:2], ("int", "bigint"))))},
    {targets_locked_sql("person", _NAMED.format(unnest=_unnest(PERSON_COLUMNS[:2], ("int", "bigint"))))},
    entries AS (
        INSERT INTO {Entry._meta.db_table} (id, ticker_id, source_dump_id, published_at, headline, body,
            original_published_at, original_headline, original_body, edited_fields, source_line, position_key,
            created_at, updated_at, place_ids, person_ids, auto_places, auto_people)
        SELECT new.id, %(ticker)s, %(dump)s, to_timestamp(e.at), e.headline, e.body, to_timestamp(e.at), e.headline,
            e.body, '[]', e.line, e.position, %(now)s, %(now)s, coalesce(places.ids, '{{}}'),
            coalesce(people.ids, '{{}}'), coalesce(places.found, '{{}}'), coalesce(people.found, '{{}}')
        FROM {_unnest(ENTRY_COLUMNS, ("float8", "text", "text", "int", "int"))}
            WITH ORDINALITY AS e (at, headline, body, line, position, n) JOIN new USING (n)
            LEFT JOIN places USING (n) LEFT JOIN people USING (n)
        WHERE {none_missing_sql("place")} AND {none_missing_sql("person")}
    ),
    pictures AS (
        INSERT INTO {Picture._meta.db_table} (entry_id, position, slug, caption, credit, original_caption,
            original_credit, edited, source_line)
        SELECT new.id, p.position, p.slug, p.caption, p.credit, p.caption, p.credit, false, p.line
        FROM {_unnest(PICTURE_COLUMNS, ("int", "int", "text", "text", "text", "int"))}
            AS p (n, position, slug, caption, credit, line) JOIN new USING (n)
    )
    {EVENT_SQL}
"""


def _connection(prepared_statements: bool = False) -> psycopg.Connection:
    """The psycopg connection Django uses (and so its transaction). Django turns prepared
    statements off (prepare_threshold None: psycopg then prepares nothing, not even what asks
    for it); `prepared_statements` turns them back on for ours alone (a threshold no other
    statement reaches), for the rest of this connection."""
    connection.ensure_connection()
    conn = connection.connection
    if prepared_statements and conn.prepare_threshold is None:
        conn.prepare_threshold = 2**31
    return conn


def _execute(conn: psycopg.Connection, statement: str, parameters, *, prepare: bool = True) -> psycopg.Cursor:
    """A statement (prepared, unless `prepare` is False) on a cursor of its own: in a pipeline,
    each result stays with its cursor until it is read. The parameters travel apart from it."""
    return psycopg.Cursor(conn).execute(statement, parameters, prepare=prepare)


def _event(prepared: PreparedDump, result: FileResult) -> dict:
    """The load-event log's line for this dump: in the dump's transaction when it is stored,
    on its own when the dump failed."""
    return dict(zip(EVENT_PARAMETERS, (
        prepared.started_at, timezone.now(), prepared.path, prepared.sha256, result.status,
        result.created, result.updated, result.unchanged, result.error or "",
    )))


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal of numbers, texts and NULLs."""
    return "{" + ",".join(
        "NULL" if v is None else str(v) if not isinstance(v, str)
        else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    ) + "}"


def _arrays(*columns: dict[str, list]) -> dict[str, str]:
    return {name: _array_literal(values) for group in columns for name, values in group.items()}


def _picture_fields(position: int, picture) -> dict:
    """A parsed picture as stored (the columns of Picture after entry_id)."""
    credit = picture.credit or ""
    return {"position": position, "slug": picture.slug or "", "caption": picture.caption, "credit": credit,
            "original_caption": picture.caption, "original_credit": credit, "edited": False,
            "source_line": picture.line}


def _describe(pictures) -> str:
    return "\n".join(f"{p.caption} (Foto: {p.credit or '-'})" for p in pictures)
