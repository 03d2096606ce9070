"""Load parsed dumps into the archive: one transaction per dump, idempotent.

The management command only parses its arguments; everything about loading lives here.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ingest.parser import DumpError, ParsedDump, ParsedEntry, parse_dump
from tickerarchive.models import Entry, EntryConflict, EntryTombstone, IngestEvent, Picture, SourceDump, Ticker

GLOB_CHARS = set("*?[")
# A day page is well under a megabyte; far larger files are not single pages and would be
# held in memory whole (raw text is stored for provenance).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


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
    parsed: ParsedDump | None = None


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
        result = FileResult(path=str(path))
        event = IngestEvent(path=str(path), status=IngestEvent.Status.FAILED)
        try:
            parsed = result.parsed = self.parse(path, data)
            result.warnings = [w.as_dict() for w in parsed.warnings]
            event.sha256 = parsed.sha256
            if parsed.missing:
                raise DumpError("; ".join(parsed.missing), path=str(path))
            with transaction.atomic():
                self._store(parsed, result)
        except DumpError as err:
            result.status, result.error = IngestEvent.Status.FAILED, str(err)
        except DatabaseError as err:  # the dump's transaction rolled back; the next dump goes on
            result.status, result.error = IngestEvent.Status.FAILED, f"{path}: database error: {err}".strip()
        event.status = result.status
        event.entries_created, event.entries_updated, event.entries_unchanged = (
            result.created, result.updated, result.unchanged,
        )
        event.error = result.error or ""
        event.finished_at = timezone.now()
        event.save()
        return result

    # --- inside the dump's transaction -------------------------------------------------
    def _store(self, parsed: ParsedDump, result: FileResult) -> None:
        slug = Ticker.slug_for(parsed.title)
        self._lock(slug)  # concurrent ingests of one ticker take turns; no duplicates, no deadlock
        if not self.force and SourceDump.objects.filter(sha256=parsed.sha256).exists():
            result.status = IngestEvent.Status.UNCHANGED
            result.unchanged = len(parsed.entries)
            return
        ticker, _ = Ticker.objects.get_or_create(slug=slug, defaults={"title": parsed.title, "section": parsed.section or ""})
        if parsed.section and ticker.section != parsed.section:
            ticker.section = parsed.section
            ticker.save(update_fields=["section"])
        dump, _ = SourceDump.objects.update_or_create(
            sha256=parsed.sha256,
            defaults=dict(
                ticker=ticker, file_name=os.path.basename(parsed.path), path=parsed.path,
                size=parsed.size, encoding=parsed.encoding, page_datetime=parsed.page_datetime,
                date_source=parsed.date_source or "", raw_text=parsed.text,
                parse_warnings=[w.as_dict() for w in parsed.warnings],
                unparsed_lines=[u.as_dict() for u in parsed.unparsed_lines],
                entry_count=len(parsed.entries), ingested_at=timezone.now(),
            ),
        )
        self._store_entries(ticker, dump, parsed, result)

    @staticmethod
    def _lock(ticker_slug: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"ingest:{ticker_slug}"])

    def _store_entries(self, ticker: Ticker, dump: SourceDump, parsed: ParsedDump, result: FileResult) -> None:
        unique: dict[tuple, ParsedEntry] = {}
        for entry in parsed.entries:
            key = (entry.published_at, entry.headline)
            if key in unique:
                result.warnings.append({
                    "line": entry.line,
                    "message": f"the same entry as on line {unique[key].line}: stored once",
                })
                continue
            unique[key] = entry
        same_keys = dict(
            ticker=ticker,
            original_published_at__in={k[0] for k in unique},
            original_headline__in={k[1] for k in unique},
        )
        existing = {
            (e.original_published_at, e.original_headline): e
            for e in Entry.objects.filter(**same_keys).prefetch_related("pictures")
        }
        tombstones = set(EntryTombstone.objects.filter(**same_keys).values_list("original_published_at", "original_headline"))
        now = timezone.now()
        new_entries: list[ParsedEntry] = []
        changed: list[Entry] = []
        parsed_by_pk: dict[int, ParsedEntry] = {}
        for key, parsed_entry in unique.items():
            stored = existing.get(key)
            if key in tombstones and stored is None:
                result.skipped += 1
            elif stored is None:
                new_entries.append(parsed_entry)
            elif self._update(stored, parsed_entry, dump, now):
                result.updated += 1
                changed.append(stored)
                parsed_by_pk[stored.pk] = parsed_entry
            else:
                result.unchanged += 1
        # Links are found first, so that the new entries are written with their arrays of linked
        # places and people (see Entry) and the trigger on the link rows finds nothing to change.
        found = self.linker.links_of(dict(enumerate(_linked_text(parsed) for parsed in new_entries))) if self.link else {}
        new_ids = _copy_new_entries(ticker, dump, new_entries, now, found)
        result.created = len(new_entries)
        if self.link:
            self.linker.write({pk: found[n] for n, pk in enumerate(new_ids)}, new=True)
            self.linker.link({entry.pk: _linked_text(parsed_by_pk[entry.pk]) for entry in changed})

    @staticmethod
    def _pictures(entry: Entry, parsed_entry: ParsedEntry) -> list[Picture]:
        return [Picture(entry=entry, **_picture_fields(n, p)) for n, p in enumerate(parsed_entry.pictures)]

    def _update(self, stored: Entry, parsed_entry: ParsedEntry, dump: SourceDump, now) -> bool:
        """A later save of the page: new text replaces the published text, never an editor's."""
        pictures = [(p.slug, p.original_caption, p.original_credit) for p in stored.pictures.all()]
        new_pictures = [(p.slug or "", p.caption, p.credit or "") for p in parsed_entry.pictures]
        if stored.original_body == parsed_entry.body and pictures == new_pictures:
            return False
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
        return True


ENTRY_COPY = (
    "COPY {table} (id, ticker_id, published_at, headline, body, original_published_at, original_headline, "
    "original_body, edited_fields, source_dump_id, source_line, position_key, created_at, updated_at, "
    "place_ids, person_ids) FROM STDIN"
)
PICTURE_COPY = (
    "COPY {table} (entry_id, position, slug, caption, credit, original_caption, original_credit, edited, source_line) "
    "FROM STDIN"
)


def _picture_fields(position: int, picture) -> dict:
    """A parsed picture as stored, in PICTURE_COPY's column order after entry_id."""
    credit = picture.credit or ""
    return {"position": position, "slug": picture.slug or "", "caption": picture.caption, "credit": credit,
            "original_caption": picture.caption, "original_credit": credit, "edited": False,
            "source_line": picture.line}


def _copy_new_entries(ticker: Ticker, dump: SourceDump, entries: list[ParsedEntry], now, found: dict) -> list[int]:
    """Write entries that are not in the archive yet, with their pictures, by COPY (several
    times faster than INSERT, no model objects). The ids are drawn from the table's sequence
    first, so pictures and links can refer to them. `found`: position in entries → the
    Mentions the links will be written from (none without linking). Returns the ids in the
    order of entries.

    Like bulk_create, this sends no signals: new entries get their history from the first
    editor's change (see tickerarchive.admin)."""
    if not entries:
        return []
    table = Entry._meta.db_table
    # COPY goes through psycopg's own cursor: wrap its errors as Django's, so a bad row fails
    # this dump (DatabaseError in load) and not the whole run.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(entries)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(ENTRY_COPY.format(table=table)) as copy:
            for n, (pk, entry) in enumerate(zip(ids, entries)):
                mentions = found.get(n)
                copy.write_row((
                    pk, ticker.pk, entry.published_at, entry.headline, entry.body, entry.published_at, entry.headline,
                    entry.body, "[]", dump.pk, entry.line, entry.position, now, now,
                    _array_text(mentions.places if mentions else ()), _array_text(mentions.people if mentions else ()),
                ))
        pictures = [(pk, n, p) for pk, entry in zip(ids, entries) for n, p in enumerate(entry.pictures)]
        if pictures:
            with cursor.cursor.copy(PICTURE_COPY.format(table=Picture._meta.db_table)) as copy:
                for pk, n, p in pictures:
                    copy.write_row((pk, *_picture_fields(n, p).values()))
    return ids


def _array_text(ids) -> str:
    """Ids as PostgreSQL's text form of an array, sorted as the trigger on the link rows sorts
    them: psycopg's adaptation of a list, row by row, cost more than the rest of the row."""
    return "{" + ",".join(map(str, sorted(ids))) + "}"


def _linked_text(entry: ParsedEntry) -> str:
    """What linking reads: headline, body and picture captions (as Linker.text_of does for stored entries)."""
    return "\n".join([entry.headline, entry.body, *(p.caption for p in entry.pictures)])


def _describe(pictures) -> str:
    return "\n".join(f"{p.caption} (Foto: {p.credit or '-'})" for p in pictures)
