"""Write entries back out as dump text, in the layout of the real pages.

The inverse of the parser for well-formed pages: used to generate test corpora and for
round-trip checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

FOOTER = "Alle früheren Entwicklungen können Sie hier nachverfolgen."
AUDIO_PLAYER = ("00:00", "Diese Audioversion wurde künstlich generiert. Mehr Infos")


@dataclass
class DraftPicture:
    slug: str | None
    caption: str
    credit: str | None


@dataclass
class DraftEntry:
    time_text: str  # "HH:MM"
    headline: str
    paragraphs: list[str]
    pictures: list[DraftPicture] = field(default_factory=list)
    audio_player: bool = False  # the site's audio player between marker and body
    marker_space: str = " "  # some saved pages have a NO-BREAK SPACE after the time


def render_dump(
    *, title: str, entries: list[DraftEntry], section: str | None = "Politik",
    page_datetime: datetime | None = None, footer: bool = True, newline: str = "\n",
) -> str:
    """Entries newest first; the first entry's body follows the page date line, as on the site."""
    lines: list[str] = []
    if section:
        lines += [section, ""]
    for number, entry in enumerate(entries):
        marker = f"+++ {entry.time_text}{entry.marker_space}{entry.headline} +++"
        lines += [(title + marker) if number == 0 else marker, ""]
        if number == 0 and page_datetime is not None:
            lines += [f"{page_datetime:%d.%m.%Y, %H:%M} Uhr", ""]
        if entry.audio_player:
            lines += [*AUDIO_PLAYER, ""]
        for paragraph in entry.paragraphs:
            lines += [paragraph, ""]
        for picture in entry.pictures:
            if picture.slug:
                lines.append(picture.slug)
            credit = f" (Foto: {picture.credit})" if picture.credit else ""
            lines += [f"{picture.caption} +++ dpa-Bildfunk +++{credit}", ""]
    if footer:
        lines.append(FOOTER)
    while lines and not lines[-1]:
        lines.pop()
    return newline.join(lines)  # no trailing newline, like the saved pages
