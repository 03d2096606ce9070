"""Parse the text dump of one live-ticker day page into entries.

Pure Python, no Django: bytes in, a `ParsedDump` out. The format and its quirks are
described in docs/dump-format.md. Every non-blank input line ends up with a
role (`LineRole`), so nothing is dropped silently: lines the parser cannot place are
listed in `ParsedDump.unparsed_lines` with the reason.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


class DumpError(Exception):
    """A dump that cannot be read as a ticker page. `line` is 1-based, or None."""

    def __init__(self, message: str, *, path: str = "<dump>", line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class LineRole(str, Enum):
    SECTION = "section"
    TITLE = "title"
    PAGE_DATE = "page_date"
    MARKER = "marker"  # `+++ HH:MM Headline +++`
    BODY = "body"
    PICTURE = "picture"  # image slug, caption or credit line
    FURNITURE = "furniture"  # audio player time display and notice
    FOOTER = "footer"
    UNPARSED = "unparsed"


@dataclass
class Warning:
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass
class Picture:
    slug: str | None
    caption: str
    credit: str | None
    line: int  # first line of the picture

    def as_dict(self) -> dict:
        return {"slug": self.slug, "caption": self.caption, "credit": self.credit}


@dataclass
class ParsedEntry:
    line: int  # line of the entry marker
    position: int  # 0-based position on the page, newest first
    time_text: str  # "HH:MM" as printed
    headline: str  # whitespace normalised (NO-BREAK SPACE etc. become a plain space)
    paragraphs: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    published_at: datetime | None = None  # aware, Europe/Berlin; None when the date is unknown

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class UnparsedLine:
    line: int
    text: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "text": self.text, "reason": self.reason}


@dataclass
class ParsedDump:
    path: str
    sha256: str
    size: int
    encoding: str
    text: str  # the decoded text, line numbers refer to it
    section: str | None = None
    title: str | None = None
    page_datetime: datetime | None = None
    date_source: str | None = None  # "page", "option", "file name" or None
    footer: str | None = None
    entries: list[ParsedEntry] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    unparsed_lines: list[UnparsedLine] = field(default_factory=list)
    line_roles: dict[int, LineRole] = field(default_factory=dict)  # every non-blank line

    @property
    def missing(self) -> list[str]:
        """What the dump lacks to be stored (it can still be shown by --dry-run)."""
        problems = []
        if not self.title:
            problems.append("no ticker title in the dump: pass --ticker \"Title\"")
        if self.entries and self.entries[0].published_at is None:
            problems.append(
                "no page date line (DD.MM.YYYY, HH:MM Uhr) in the dump and no date in its "
                "file name: pass --date YYYY-MM-DD (the date of its newest entry)"
            )
        return problems


# --- patterns -------------------------------------------------------------------------
# Whitespace as it occurs in saved pages: \s covers NO-BREAK SPACE and the other Unicode
# spaces; zero-width characters and a stray BOM come on top.
_W = r"[\s\u200b\u2060\ufeff]"
_STRIP = " \t\r\n\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u2060\ufeff\x85"

MARKER_RE = re.compile(
    rf"^(?P<before>.*?)\+\+\+{_W}+(?P<hour>\d{{1,2}})[:.](?P<minute>\d{{2}})"
    rf"(?:{_W}+(?P<headline>.*?))?{_W}*(?P<close>\+\+\+)?{_W}*$"
)
# A line that starts like a marker but is not one (a page saved part-way: `+++ 18:`).
BROKEN_MARKER_RE = re.compile(rf"^\+\+\+{_W}*\d{{0,2}}[:.]?\d{{0,1}}{_W}*$")
PAGE_DATE_RE = re.compile(
    rf"^(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}}),?{_W}*"
    rf"(?P<hour>\d{{1,2}}):(?P<minute>\d{{2}}){_W}*Uhr$"
)
FOOTER_RE = re.compile(r"^Alle (?:früheren|bisherigen|älteren) Entwicklungen .*(?:nachverfolgen|nachlesen)\.?$")
PLAYER_TIME_RE = re.compile(rf"^\d{{1,2}}:\d{{2}}(?:{_W}*/{_W}*\d{{1,2}}:\d{{2}})?$")
PLAYER_NOTICE_RE = re.compile(r"^Diese Audioversion wurde künstlich generiert\.?(?:\s*Mehr Infos\.?)?$")
# `(Foto: picture alliance/dpa/FR60642 AP)` at the end of a caption, one level of nested parentheses.
CREDIT_RE = re.compile(
    rf"\((?:Fotos?|Bild(?:er)?|Quelle|Photo){_W}*:{_W}*(?P<credit>[^()]*(?:\([^()]*\)[^()]*)*?){_W}*\){_W}*$"
)
AGENCY_TAG_RE = re.compile(rf"{_W}*\+\+\+{_W}*[\w-]*Bildfunk{_W}*\+\+\+{_W}*")
# An image file slug: two or more words joined by hyphens, no spaces (`US-Aussenminister-Marco-Rubio-...`,
# `Kaja-Kallas`). It only counts when a caption line follows, so a hyphenated word in a body is safe.
SLUG_RE = re.compile(r"^[0-9A-Za-zÄÖÜäöüß][0-9A-Za-zÄÖÜäöüß_.]*(?:-[0-9A-Za-zÄÖÜäöüß_.]+)+$")
DATE_IN_NAME_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
# Control characters other than tab, line feed, form feed and carriage return: binary data.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
SENTENCE_END = tuple('.!?:;,"“”»«)')

# An upward step in the clock smaller than this is an editor's late insertion on the same
# day, not a day change; live tickers post far more often than every two hours.
LATE_INSERTION_MAX = timedelta(hours=2)
UTC = ZoneInfo("UTC")


def clean(text: str) -> str:
    """Strip and collapse every kind of whitespace to one plain space."""
    return re.sub(rf"{_W}+", " ", text).strip(_STRIP)


# --- decoding -------------------------------------------------------------------------
def decode(data: bytes, path: str) -> tuple[str, str, list[Warning]]:
    if not data.strip():
        raise DumpError("the file is empty", path=path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", [Warning(None, "UTF-16 file, decoded as UTF-16")]
        except UnicodeDecodeError as err:  # cut off mid-character, or not UTF-16 after all
            raise DumpError(f"UTF-16 byte-order mark, but invalid UTF-16 at byte offset {err.start}", path=path) from None
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise DumpError(f"binary data (NUL byte at offset {offset}), not a text dump", path=path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode("utf-8"), encoding, []
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes CP1252 leaves undefined: Latin-1 maps every byte
        text, encoding = data.decode("latin-1"), "latin-1"
    label = {"cp1252": "CP1252 (Windows-1252)", "latin-1": "Latin-1 (ISO-8859-1)"}[encoding]
    return text, encoding, [Warning(line, f"not UTF-8 (first invalid byte on this line): decoded as {label}")]


def _check_is_text(text: str, path: str) -> None:
    controls = len(CONTROL_RE.findall(text))
    if controls > max(8, len(text) // 100):
        raise DumpError(f"binary data ({controls} control characters), not a text dump", path=path)
    head = text.lstrip(_STRIP)[:500].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body")) or "<html" in head:
        raise DumpError(
            "an HTML page, not a text dump: open the ticker page in a browser and save it as text",
            path=path,
        )


# --- structure ------------------------------------------------------------------------
def _is_short_label(text: str) -> bool:
    """A header line (section, title): short, not a sentence, not a marker."""
    return 0 < len(text) <= 80 and not text.endswith(SENTENCE_END) and "+++" not in text


def _credit_of(text: str) -> tuple[str, str | None]:
    """Split a caption into (caption without agency tag and credit, credit)."""
    match = CREDIT_RE.search(text)
    credit = clean(match.group("credit")) if match else None
    caption = text[: match.start()] if match else text
    return clean(AGENCY_TAG_RE.sub(" ", caption)), credit


def _valid_time(marker: re.Match) -> bool:
    return int(marker["hour"]) <= 23 and int(marker["minute"]) <= 59


def _is_caption(text: str) -> bool:
    return bool(AGENCY_TAG_RE.search(text) or CREDIT_RE.search(text))


def _is_credit_only(text: str) -> bool:
    match = CREDIT_RE.search(text)
    return bool(match) and match.start() == 0


class _PageReader:
    """One pass over the lines: gives every non-blank line a role."""

    def __init__(self, dump: ParsedDump, lines: list[str]):
        self.dump = dump
        self.lines = [line.strip(_STRIP) for line in lines]
        self.raw = lines
        self.entry: ParsedEntry | None = None
        self.after_footer = False
        self.skipping: str | None = None  # why the lines under a rejected marker are not stored
        self._body_lines: list[int] = []
        self._paragraph_break = True

    # helpers
    def role(self, number: int, role: LineRole) -> None:
        self.dump.line_roles[number] = role

    def unparsed(self, number: int, reason: str) -> None:
        self.role(number, LineRole.UNPARSED)
        self.dump.unparsed_lines.append(UnparsedLine(number, self.lines[number - 1], reason))

    def warn(self, line: int | None, message: str) -> None:
        self.dump.warnings.append(Warning(line, message))

    def text(self, number: int) -> str:
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""

    def read(self) -> None:
        first_marker = self._find_first_marker()
        if first_marker is None:
            raise DumpError(
                "no entry marker ('+++ HH:MM Headline +++') in the file: not a ticker dump",
                path=self.dump.path,
            )
        self._read_header(first_marker)
        number = first_marker
        total = len(self.lines)
        while number <= total:
            number = self._read_line(number)
        if self.dump.footer is None:
            self.warn(None, "no footer line ('Alle früheren Entwicklungen ...'): the page may have been saved part-way")

    def _find_first_marker(self) -> int | None:
        for number, text in enumerate(self.lines, start=1):
            match = MARKER_RE.match(text)
            if match and match.group("headline") is not None and _valid_time(match):
                return number
        return None

    def _read_header(self, first_marker: int) -> None:
        """Lines above the first marker: section, title, page date, or a page fragment."""
        match = MARKER_RE.match(self.lines[first_marker - 1])
        glued_title = clean(match.group("before"))
        before = [n for n in range(1, first_marker) if self.lines[n - 1]]
        # A page that starts mid-entry has no header: a short line in it (`Weitere Informationen
        # in Kürze`) is the end of a body, not a title.
        mid_entry = any(
            not _is_short_label(self.lines[n - 1]) and not PAGE_DATE_RE.match(self.lines[n - 1]) for n in before
        )
        labels: list[int] = []
        for number in before:
            if PAGE_DATE_RE.match(self.lines[number - 1]):
                self._page_date(number)
            elif mid_entry:
                self.unparsed(number, "text before the first entry marker (the page starts mid-entry)")
            else:
                labels.append(number)
        if self.dump.unparsed_lines:
            self.warn(self.dump.unparsed_lines[0].line, "the page starts mid-entry: text before the first entry marker is not stored")
        if glued_title:
            self.dump.title = glued_title
            for number in labels[:-1]:
                self.unparsed(number, "unexpected header line")
            if labels:
                self.dump.section = self.lines[labels[-1] - 1]
                self.role(labels[-1], LineRole.SECTION)
        elif len(labels) >= 2:
            for number in labels[:-2]:
                self.unparsed(number, "unexpected header line")
            self.dump.section = self.lines[labels[-2] - 1]
            self.role(labels[-2], LineRole.SECTION)
            self.dump.title = self.lines[labels[-1] - 1]
            self.role(labels[-1], LineRole.TITLE)
        elif labels:
            text = self.lines[labels[0] - 1]
            # One label alone: a one-word rubric (`Politik`) is the section, anything else the title.
            if "ticker" in text.lower() or " " in text:
                self.dump.title = text
                self.role(labels[0], LineRole.TITLE)
            else:
                self.dump.section = text
                self.role(labels[0], LineRole.SECTION)

    def _page_date(self, number: int) -> None:
        match = PAGE_DATE_RE.match(self.lines[number - 1])
        self.role(number, LineRole.PAGE_DATE)
        try:
            opened = datetime(
                int(match["year"]), int(match["month"]), int(match["day"]),
                int(match["hour"]), int(match["minute"]), tzinfo=BERLIN,
            )
        except ValueError:
            self.warn(number, f"page date line is not a valid date: {self.lines[number - 1]!r}")
            return
        if self.dump.page_datetime is None:
            self.dump.page_datetime = opened
            self.dump.date_source = "page"
        elif opened != self.dump.page_datetime:
            self.warn(number, "a second, different page date line: ignored")

    def _read_line(self, number: int) -> int:
        """Classify line `number`; returns the next line to read."""
        text = self.lines[number - 1]
        if not text:
            if self.entry is not None:
                self._paragraph_break = True
            return number + 1
        marker = MARKER_RE.match(text)
        is_first = self.entry is None
        if marker and marker.group("headline") is not None and (is_first or not marker.group("before").strip(_STRIP)):
            self._start_entry(number, marker)
            return number + 1
        if BROKEN_MARKER_RE.match(text):
            last = not any(self.lines[number:])
            self.unparsed(number, "incomplete entry marker" + (" at the end of the file" if last else ""))
            self.warn(number, "incomplete entry marker: the page was saved part-way" if last else "incomplete entry marker")
            return number + 1
        if PAGE_DATE_RE.match(text):
            self._page_date(number)
            return number + 1
        if FOOTER_RE.match(text):
            self.role(number, LineRole.FOOTER)
            if self.dump.footer is None:
                self.dump.footer = text
            self.after_footer = True
            return number + 1
        if self.after_footer:
            self.unparsed(number, "text after the footer")
            return number + 1
        if self.skipping:
            self.unparsed(number, self.skipping)
            return number + 1
        if PLAYER_TIME_RE.match(text) or PLAYER_NOTICE_RE.match(text):
            self.role(number, LineRole.FURNITURE)
            return number + 1
        picture_end = self._read_picture(number)
        if picture_end:
            return picture_end
        self.role(number, LineRole.BODY)
        self.entry.paragraphs.append(text)
        self._body_lines.append(number)
        self._paragraph_break = False
        return number + 1

    def _start_entry(self, number: int, marker: re.Match) -> None:
        hour, minute = int(marker["hour"]), int(marker["minute"])
        if not _valid_time(marker):
            self.unparsed(number, f"entry marker with an impossible time {marker['hour']}:{marker['minute']}")
            self.warn(number, "entry marker with an impossible time: it and its text are not stored")
            self.skipping = "text of an entry whose marker has an impossible time"
            return
        self.skipping = None
        headline = clean(marker["headline"] or "")
        self.role(number, LineRole.MARKER)
        if marker["close"] is None:
            last = not any(self.lines[number:])
            self.warn(number, "entry marker without closing '+++'" + (": the page was saved part-way" if last else ""))
        if not headline:
            self.warn(number, "entry without a headline")
        self.entry = ParsedEntry(
            line=number, position=len(self.dump.entries),
            time_text=f"{hour:02d}:{minute:02d}", headline=headline,
        )
        self.dump.entries.append(self.entry)
        self._body_lines: list[int] = []
        self._paragraph_break = True

    def _read_picture(self, number: int) -> int | None:
        """A picture block starting at `number`: returns the line after it, or None."""
        text = self.lines[number - 1]
        following = self.text(number + 1)
        slug = None
        lines = [number]
        if SLUG_RE.match(text) and (_is_caption(following) or _is_credit_only(following)):
            slug, caption_line = text, number + 1
            lines.append(caption_line)
        elif _is_caption(text):
            caption_line = number
        else:
            return None
        caption_text = self.lines[caption_line - 1]
        caption, credit = _credit_of(caption_text)
        if _is_credit_only(caption_text):
            caption = self._take_caption_above(number)
        elif credit is None and _is_credit_only(self.text(caption_line + 1)):
            lines.append(caption_line + 1)
            _, credit = _credit_of(self.text(caption_line + 1))
        if slug is None and caption:
            self._drop_repeated_caption(number, caption)
        if not caption:
            self.warn(number, "picture credit without a caption")
        for line in lines:
            self.role(line, LineRole.PICTURE)
        self.entry.pictures.append(Picture(slug=slug, caption=caption, credit=credit, line=number))
        return lines[-1] + 1

    def _take_caption_above(self, number: int) -> str:
        """A lone credit line: its caption is the body line directly above (no blank line)."""
        above = number - 1
        if self._body_lines and self._body_lines[-1] == above and not self._paragraph_break:
            self._body_lines.pop()
            caption = self.entry.paragraphs.pop()
            self.role(above, LineRole.PICTURE)
            self._drop_repeated_caption(above, caption)
            return clean(AGENCY_TAG_RE.sub(" ", caption))
        return ""

    def _drop_repeated_caption(self, number: int, caption: str) -> None:
        """Saved pages sometimes show a caption twice: the copy directly above is the picture too."""
        above = number - 1
        if (
            self._body_lines and self._body_lines[-1] == above
            and clean(AGENCY_TAG_RE.sub(" ", _credit_of(self.lines[above - 1])[0])) == caption
        ):
            self._body_lines.pop()
            self.entry.paragraphs.pop()
            self.role(above, LineRole.PICTURE)


# --- times ----------------------------------------------------------------------------
def _has_repeated_hour(day: date) -> bool:
    """The October clock change: 02:00-02:59 happens twice."""
    probe = datetime(day.year, day.month, day.day, 2, 30, tzinfo=BERLIN)
    # In the March gap the two folds differ too, but there the time does not exist at all.
    return probe.utcoffset() != probe.replace(fold=1).utcoffset() and not _is_missing(probe)


def _normalised(moment: datetime) -> datetime:
    """The same instant as a correct Berlin wall time (astimezone to the same zone is a no-op)."""
    return moment.astimezone(UTC).astimezone(BERLIN)


def _is_missing(moment: datetime) -> bool:
    """The March clock change: a wall time that never happened."""
    return _normalised(moment).replace(tzinfo=None) != moment.replace(tzinfo=None)


def _in_repeated_hour(minutes: int) -> bool:
    return 120 <= minutes < 180


def assign_times(dump: ParsedDump, newest_day: date) -> None:
    """Give each entry its date: newest first, the day rolls back when the clock goes up."""
    day = newest_day
    previous: int | None = None
    placed: list[tuple[ParsedEntry, date]] = []
    second_pass: set[int] = set()  # ids of entries in the second 02:xx (CET) of an October day
    pending: list[ParsedEntry] = []  # 02:xx entries of that day not yet known to be first or second
    switched: set[date] = set()
    for entry in dump.entries:
        hour, minute = map(int, entry.time_text.split(":"))
        minutes = hour * 60 + minute
        if previous is not None and minutes > previous:
            step = timedelta(minutes=minutes - previous)
            if (
                _has_repeated_hour(day) and day not in switched
                and _in_repeated_hour(previous) and _in_repeated_hour(minutes)
            ):
                switched.add(day)  # the clock went back: what we read so far was the second pass
                second_pass.update(id(e) for e in pending)
                pending.clear()
            elif step < LATE_INSERTION_MAX:
                dump.warnings.append(Warning(
                    entry.line,
                    f"{entry.time_text} is later than the entry above it "
                    f"({previous // 60:02d}:{previous % 60:02d}): read as a late insertion on the same day",
                ))
            else:
                day -= timedelta(days=1)
        if _has_repeated_hour(day) and day not in switched and _in_repeated_hour(minutes):
            pending.append(entry)
        placed.append((entry, day))
        previous = minutes
    ambiguous = {id(e) for e in pending}
    for entry, entry_day in placed:
        hour, minute = map(int, entry.time_text.split(":"))
        moment = datetime(
            entry_day.year, entry_day.month, entry_day.day, hour, minute,
            fold=1 if id(entry) in second_pass else 0, tzinfo=BERLIN,
        )
        if id(entry) in ambiguous:
            dump.warnings.append(Warning(
                entry.line,
                f"{entry.time_text} on {entry_day:%d.%m.%Y} happened twice (clock change): "
                "read as the first, summer time (+02:00)",
            ))
        elif _is_missing(moment):
            dump.warnings.append(Warning(
                entry.line,
                f"{entry.time_text} on {entry_day:%d.%m.%Y} does not exist (clock change): "
                f"read as {_normalised(moment):%H:%M} summer time",
            ))
        entry.published_at = _normalised(moment)


# --- entry point ----------------------------------------------------------------------
def _date_from_name(path: str) -> date | None:
    name = re.split(r"[\\/]", path)[-1]
    for match in DATE_IN_NAME_RE.finditer(name):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def parse_dump(
    data: bytes,
    *,
    path: str = "<dump>",
    default_date: date | None = None,
    ticker_title: str | None = None,
) -> ParsedDump:
    """Parse one dump. Raises DumpError for a file that is not a ticker page at all."""
    text, encoding, warnings = decode(data, path)
    _check_is_text(text, path)
    dump = ParsedDump(
        path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        encoding=encoding, text=text, warnings=warnings,
    )
    _PageReader(dump, LINE_BREAK_RE.split(text)).read()
    if dump.title is None and ticker_title:
        dump.title = clean(ticker_title)
    newest_day = None
    if dump.page_datetime is not None:
        newest_day = dump.page_datetime.date()
        if default_date and default_date != newest_day:
            dump.warnings.append(Warning(None, f"--date {default_date} ignored: the page date line says {newest_day}"))
    elif default_date is not None:
        newest_day, dump.date_source = default_date, "option"
    elif (from_name := _date_from_name(path)) is not None:
        newest_day, dump.date_source = from_name, "file name"
    if newest_day is not None:
        assign_times(dump, newest_day)
    dump.warnings.sort(key=lambda w: (w.line is None, w.line or 0))
    return dump
