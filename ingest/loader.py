"""Load parsed dumps into the archive: one transaction per dump, idempotent.

A dump is loaded in two halves. `prepare` needs no database: it reads and parses the file,
drops entries the page repeats, finds the places and people each entry names and formats
the rows as COPY text. `write` is the database's half, in the dump's own transaction: a
handful of statements and COPYs whatever the number of entries. `load_many` prepares the
next dumps in a second process while this one writes (see ingest/pipeline.py), so that
Python and PostgreSQL work at the same time instead of taking turns.

The management command only parses its arguments; everything about loading lives here.
"""
from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ingest.parser import DumpError, ParsedDump, Picture as ParsedPicture, parse_dump
from tickerarchive.models import (
    Entry, EntryConflict, EntryTombstone, IngestEvent, Picture, SourceDump, Ticker,
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
    parsed: ParsedDump | None = None  # set by load(); load_many() does not carry the parse over


class PreparedEntry(NamedTuple):
    """One entry of a dump, ready to be compared with the archive and written."""

    published_at: datetime
    headline: str
    body: str
    line: int
    pictures: list[ParsedPicture]
    row: str  # COPY text of the entry after its id, ticker, dump and timestamps (ENTRY_COPY)
    picture_rows: list[str]  # COPY text of each picture after its entry id (PICTURE_COPY)
    mentions: object | None  # linker.Mentions, found without the database; None without linking

    @property
    def stored_pictures(self) -> list[list[str]]:
        """The pictures as Picture rows keep what the ticker published (slug, caption, credit)."""
        return [[p.slug or "", p.caption, p.credit or ""] for p in self.pictures]


@dataclass
class PreparedDump:
    """A dump parsed and formatted for writing: everything `write` needs, and nothing of the
    parse it does not need (this crosses from the preparing process to the writing one)."""

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
    entries: list[PreparedEntry] = field(default_factory=list)  # each entry once
    parsed: ParsedDump | None = None  # only when prepared and written in one process


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash, tab and line breaks escaped)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    return value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


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
        self._ids: list[int] = []
        self._toast_compression: str | None = None

    @property
    def linker(self):
        """Built once per loader from the gazetteer (an automaton over every name)."""
        if self._linker is None:
            from ingest.linker import Linker

            self._linker = Linker.from_database()
        return self._linker

    def parse(self, path: Path, data: bytes | None = None) -> ParsedDump:
        if data is None:
            try:
                size = Path(path).stat().st_size
                if size > self.max_bytes:
                    raise DumpError(
                        f"{size / 2**20:.0f} MiB is too large for one day page (limit {self.max_bytes / 2**20:.0f} MiB): "
                        "split the file into pages",
                        path=str(path),
                    )
                data = Path(path).read_bytes()
            except OSError as err:
                raise DumpError(f"cannot read the file: {err.strerror}", path=str(path)) from err
        return parse_dump(data, path=str(path), default_date=self.default_date, ticker_title=self.ticker_title)

    def load_text(self, data: bytes, path: str) -> FileResult:
        """Load a dump already in memory (the admin's re-ingest of a stored dump)."""
        return self.load(Path(path), data)

    def load(self, path: Path, data: bytes | None = None) -> FileResult:
        prepared = self.prepare(path, data)
        result = self.write(prepared)
        result.parsed = prepared.parsed
        return result

    def load_many(self, paths: Iterable[Path]) -> Iterator[FileResult]:
        """load() each path, in order; the next dumps are prepared in a second process while
        this one writes."""
        from ingest.pipeline import prepared_in_order

        if self.link:
            self.linker  # noqa: B018 - built here, so the preparing process has it too
        for prepared in prepared_in_order(self, list(paths)):
            yield self.write(prepared)

    # --- the half without the database --------------------------------------------------
    def prepare(self, path: Path, data: bytes | None = None) -> PreparedDump:
        """Parse the dump and make its rows. A dump that cannot be stored comes back with its
        error (naming file and line), not as an exception."""
        prepared = PreparedDump(path=str(path), started_at=timezone.now())
        try:
            parsed = prepared.parsed = self.parse(path, data)
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
        first_line: dict[tuple, int] = {}
        for entry in parsed.entries:
            key = (entry.published_at, entry.headline)
            if key in first_line:
                prepared.repeated.append({
                    "line": entry.line, "message": f"the same entry as on line {first_line[key]}: stored once",
                })
                continue
            first_line[key] = entry.line
            body = entry.body
            at, headline, text = entry.published_at.isoformat(), _copy_text(entry.headline), _copy_text(body)
            prepared.entries.append(PreparedEntry(
                published_at=entry.published_at, headline=entry.headline, body=body, line=entry.line,
                pictures=entry.pictures,
                row=f"{at}\t{headline}\t{text}\t{at}\t{headline}\t{text}\t[]\t{entry.line}\t{entry.position}\n",
                picture_rows=[_picture_row(n, p) for n, p in enumerate(entry.pictures)],
                mentions=self.linker.find_in(_linked_text(entry.headline, body, entry.pictures)) if self.link else None,
            ))
        return prepared

    # --- the database's half --------------------------------------------------------------
    def write(self, prepared: PreparedDump) -> FileResult:
        """Store a prepared dump in its own transaction, with its line in the load-event log."""
        result = FileResult(path=prepared.path, warnings=list(prepared.warnings))
        if prepared.error is None:
            try:
                with transaction.atomic(), connection.wrap_database_errors:
                    self._store(prepared, result)
            except DatabaseError as err:  # the dump's transaction rolled back; the next dump goes on
                result.error = f"{prepared.path}: database error: {err}".strip()
            if self.link:
                self.linker.transaction_ended(committed=result.error is None)
            if result.error is None:
                return result
        else:
            result.error = prepared.error
        result.status = IngestEvent.Status.FAILED
        result.created = result.updated = result.unchanged = result.skipped = 0
        _insert_event(_cursor(), prepared, result)
        return result

    def _store(self, prepared: PreparedDump, result: FileResult) -> None:
        cursor = _cursor()
        slug = Ticker.slug_for(prepared.title)
        # Concurrent ingests of one ticker take turns: no duplicates, no deadlock. A commit
        # need not wait for the disk: should the server lose the last commits in a crash, the
        # next run finds those dumps not stored and loads them again (loading is idempotent).
        # Raw text and long entries are compressed with lz4 where the server has it: several
        # times faster than pglz, to write and to read. The prepared statements below are
        # planned once, not at every dump (each looks rows up by a key or range of one index).
        cursor.execute(LOCK_SQL, [f"ingest:{slug}", self._compression(cursor)], prepare=True)
        # A statement of its own: it must see what a concurrent ingest committed while we waited.
        stored_dump, ticker_id, section = cursor.execute(LOOKUP_SQL, [prepared.sha256, slug], prepare=True).fetchone()
        now = timezone.now()
        if stored_dump is not None and not self.force:
            result.status = IngestEvent.Status.UNCHANGED
            result.unchanged = prepared.entry_count
            _insert_event(cursor, prepared, result)
            return
        result.warnings.extend(prepared.repeated)
        new_ticker = ticker_id is None
        if new_ticker:
            ticker_id = cursor.execute(TICKER_SQL, [prepared.title, slug, prepared.section or "", now]).fetchone()[0]
        elif prepared.section and section != prepared.section:
            cursor.execute(TICKER_SECTION_SQL, [prepared.section, ticker_id])
        dump_id = cursor.execute(DUMP_SQL, [
            ticker_id, os.path.basename(prepared.path), prepared.path, prepared.sha256, prepared.size,
            prepared.encoding, prepared.page_datetime, prepared.date_source, prepared.text,
            prepared.warnings_json, prepared.unparsed_json, prepared.entry_count, now,
        ], prepare=True).fetchone()[0]
        new_entries, changed = self._compare(cursor, ticker_id, prepared.entries, result) if not new_ticker else (
            prepared.entries, {},
        )
        ids = self._take_ids(cursor, len(new_entries))
        stamp = f"{ticker_id}\t{dump_id}\t{now.isoformat()}\t{now.isoformat()}\t"
        _copy(cursor, ENTRY_COPY, "".join(f"{pk}\t{stamp}{e.row}" for pk, e in zip(ids, new_entries)))
        _copy(cursor, PICTURE_COPY, "".join(
            f"{pk}\t{row}" for pk, e in zip(ids, new_entries) for row in e.picture_rows
        ))
        result.created = len(new_entries)
        if changed:
            self._update_changed(changed, SourceDump(pk=dump_id), now)
            result.updated = len(changed)
        if self.link:
            self.linker.write_links({pk: e.mentions for pk, e in zip(ids, new_entries)}, new=True)
            self.linker.write_links({pk: e.mentions for pk, e in changed.items()})
        _insert_event(cursor, prepared, result)

    def _compare(self, cursor, ticker_id: int, entries: list[PreparedEntry], result: FileResult):
        """(entries the archive does not have yet, {id: entry} of stored ones whose text or
        pictures changed). Entries an editor deleted or merged away stay away."""
        stored, tombstones = {}, set()
        if not entries:
            return [], {}
        times = [e.published_at for e in entries]
        span = {"ticker": ticker_id, "first": min(times), "last": max(times)}
        for at, headline, pk, body, pictures in cursor.execute(STORED_SQL, span, prepare=True):
            if pk is None:
                tombstones.add((at, headline))
            else:
                stored[at, headline] = (pk, body, pictures or [])
        new_entries: list[PreparedEntry] = []
        changed: dict[int, PreparedEntry] = {}
        for entry in entries:
            key = (entry.published_at, entry.headline)
            match = stored.get(key)
            if match is None:
                if key in tombstones:
                    result.skipped += 1
                else:
                    new_entries.append(entry)
            elif match[1] == entry.body and match[2] == entry.stored_pictures:
                result.unchanged += 1
            else:
                changed[match[0]] = entry
        return new_entries, changed

    def _compression(self, cursor) -> str:
        if self._toast_compression is None:
            self._toast_compression = cursor.execute(COMPRESSION_SQL).fetchone()[0]
        return self._toast_compression

    def _take_ids(self, cursor, count: int) -> list[int]:
        """Ids for new entries, so that pictures and links can refer to them in the same COPYs."""
        if len(self._ids) < count:
            cursor.execute(IDS_SQL, [max(count - len(self._ids), ID_BLOCK)])
            self._ids += [row[0] for row in cursor.fetchall()]
        ids, self._ids = self._ids[:count], self._ids[count:]
        return ids

    def _update_changed(self, changed: dict[int, PreparedEntry], dump: SourceDump, now) -> None:
        for stored in Entry.objects.filter(pk__in=list(changed)).prefetch_related("pictures"):
            self._update(stored, changed[stored.pk], dump, now)

    @staticmethod
    def _pictures(entry: Entry, parsed_entry) -> list[Picture]:
        return [Picture(entry=entry, **_picture_fields(n, p)) for n, p in enumerate(parsed_entry.pictures)]

    def _update(self, stored: Entry, parsed_entry: PreparedEntry, dump: SourceDump, now) -> None:
        """A later save of the page: new text replaces the published text, never an editor's."""
        pictures = [(p.slug, p.original_caption, p.original_credit) for p in stored.pictures.all()]
        new_pictures = [tuple(p) for p in parsed_entry.stored_pictures]
        conflict = dict(entry=stored, source_dump=dump, source_line=parsed_entry.line, detected_at=now)
        if stored.original_body != parsed_entry.body:
            if "body" in stored.edited_fields:
                EntryConflict.objects.create(
                    field="body", editor_value=stored.body, ingested_value=parsed_entry.body, **conflict
                )
            else:
                stored.body = parsed_entry.body
            stored.original_body = parsed_entry.body
        stored.source_dump, stored.source_line, stored.updated_at = dump, parsed_entry.line, now
        stored.save(update_fields=["original_body", "body", "source_dump", "source_line", "updated_at"])
        if pictures != new_pictures:
            if any(p.edited for p in stored.pictures.all()):
                EntryConflict.objects.create(
                    field="pictures", editor_value=_describe(stored.pictures.all()),
                    ingested_value=_describe(parsed_entry.pictures), **conflict,
                )
            else:
                stored.pictures.all().delete()
                Picture.objects.bulk_create(self._pictures(stored, parsed_entry))


# --- statements -------------------------------------------------------------------------
# Column order puts what only the writer knows (id, ticker, dump, timestamps) first, so the
# preparing process can format the rest of each row.
ENTRY_COPY = (
    f"COPY {Entry._meta.db_table} (id, ticker_id, source_dump_id, created_at, updated_at, published_at, headline, "
    "body, original_published_at, original_headline, original_body, edited_fields, source_line, position_key) "
    "FROM STDIN"
)
PICTURE_COPY = (
    f"COPY {Picture._meta.db_table} (entry_id, position, slug, caption, credit, original_caption, original_credit, "
    "edited, source_line) FROM STDIN"
)
LOCK_SQL = (
    "SELECT pg_advisory_xact_lock(hashtext(%s)), set_config('synchronous_commit', 'off', true), "
    "set_config('default_toast_compression', %s, true), set_config('plan_cache_mode', 'force_generic_plan', true)"
)
COMPRESSION_SQL = (
    "SELECT CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE boot_val END FROM pg_settings "
    "WHERE name = 'default_toast_compression'"
)
LOOKUP_SQL = (
    f"SELECT (SELECT id FROM {SourceDump._meta.db_table} WHERE sha256 = %s), t.id, t.section "
    f"FROM (VALUES (1)) AS one LEFT JOIN {Ticker._meta.db_table} t ON t.slug = %s"
)
TICKER_SQL = f"INSERT INTO {Ticker._meta.db_table} (title, slug, section, created_at) VALUES (%s, %s, %s, %s) RETURNING id"
TICKER_SECTION_SQL = f"UPDATE {Ticker._meta.db_table} SET section = %s WHERE id = %s"
_DUMP_COLUMNS = (
    "ticker_id", "file_name", "path", "sha256", "size", "encoding", "page_datetime", "date_source", "raw_text",
    "parse_warnings", "unparsed_lines", "entry_count", "ingested_at",
)
# A dump read again with --force replaces its stored row, as update_or_create would.
DUMP_SQL = (
    f"INSERT INTO {SourceDump._meta.db_table} ({', '.join(_DUMP_COLUMNS)}) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s) ON CONFLICT (sha256) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _DUMP_COLUMNS if c != "sha256") + " RETURNING id"
)
# The stored entries and tombstones of a dump's ticker and time span, in one round trip (the
# caller picks those with the keys of its entries).
STORED_SQL = f"""
    SELECT e.original_published_at, e.original_headline, e.id, e.original_body,
           (SELECT json_agg(json_build_array(p.slug, p.original_caption, p.original_credit) ORDER BY p.position)
            FROM {Picture._meta.db_table} p WHERE p.entry_id = e.id)
    FROM {Entry._meta.db_table} e WHERE e.ticker_id = %(ticker)s AND e.original_published_at BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT t.original_published_at, t.original_headline, NULL, NULL, NULL
    FROM {EntryTombstone._meta.db_table} t
    WHERE t.ticker_id = %(ticker)s AND t.original_published_at BETWEEN %(first)s AND %(last)s
"""
IDS_SQL = f"SELECT nextval(pg_get_serial_sequence('{Entry._meta.db_table}', 'id')) FROM generate_series(1, %s)"
EVENT_SQL = (
    f"INSERT INTO {IngestEvent._meta.db_table} (started_at, finished_at, path, sha256, status, entries_created, "
    "entries_updated, entries_unchanged, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _cursor() -> psycopg.Cursor:
    """A cursor that sends parameters apart from the statement (no quoting of the raw text on
    our side) on the connection, and so inside the transaction, Django uses."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _copy(cursor: psycopg.Cursor, statement: str, data: str) -> None:
    if data:
        with cursor.copy(statement) as copy:
            copy.write(data)


def _insert_event(cursor: psycopg.Cursor, prepared: PreparedDump, result: FileResult) -> None:
    """The load-event log's line for this dump: in the dump's transaction when it is stored,
    on its own when the dump failed."""
    with connection.wrap_database_errors:
        cursor.execute(EVENT_SQL, [
            prepared.started_at, timezone.now(), prepared.path, prepared.sha256, result.status,
            result.created, result.updated, result.unchanged, result.error or "",
        ], prepare=True)


def _picture_fields(position: int, picture) -> dict:
    """A parsed picture as stored, in PICTURE_COPY's column order after entry_id."""
    credit = picture.credit or ""
    return {"position": position, "slug": picture.slug or "", "caption": picture.caption, "credit": credit,
            "original_caption": picture.caption, "original_credit": credit, "edited": False,
            "source_line": picture.line}


def _picture_row(position: int, picture: ParsedPicture) -> str:
    """PICTURE_COPY's text for one picture, after its entry id."""
    fields = _picture_fields(position, picture)
    fields["edited"] = "f"
    return "\t".join(_copy_text(str(value)) for value in fields.values()) + "\n"


def _linked_text(headline: str, body: str, pictures: list[ParsedPicture]) -> str:
    """What linking reads: headline, body and picture captions (as Linker.text_of does for stored entries)."""
    return "\n".join([headline, body, *(p.caption for p in pictures)])


def _describe(pictures) -> str:
    return "\n".join(f"{p.caption} (Foto: {p.credit or '-'})" for p in pictures)
