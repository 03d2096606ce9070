"""For every fixture dump and every sample dump: every line is accounted for, nothing twice.

Every non-blank line has exactly one role; the BODY lines are exactly the entries' body text,
entry by entry; no marker, picture, furniture or footer text leaks into a body; the counts add up.
"""
import re
from collections import Counter

import pytest

from ingest.parser import LineRole, parse_dump
from support import FIXTURE_DUMPS, TESTS

ROOT = TESTS.parent
SAMPLES = ROOT / "samples" / "dumps"
DUMPS = sorted(
    [p for p in FIXTURE_DUMPS.iterdir() if p.is_file() and not p.name.startswith("junk-")]
    + list(SAMPLES.glob("*.txt"))
)
MARKER_TEXT = re.compile(r"\+\+\+\s*\d{1,2}:\d{2}")


def words(text):
    return " ".join(text.split())


@pytest.fixture(params=DUMPS, ids=[str(p.relative_to(ROOT)) for p in DUMPS])
def parsed(request):
    path = request.param
    dump = parse_dump(path.read_bytes(), path=str(path))
    return dump, re.split(r"\r\n|\r|\n", dump.text)


def test_the_fixture_list_is_complete():
    assert len([p for p in DUMPS if p.parent == FIXTURE_DUMPS]) >= 25
    assert len([p for p in DUMPS if p.parent == SAMPLES]) >= 4


def test_every_non_blank_line_has_one_role(parsed):
    dump, lines = parsed
    non_blank = {n for n, text in enumerate(lines, 1) if text.strip()}
    assert set(dump.line_roles) == non_blank
    assert all(isinstance(role, LineRole) for role in dump.line_roles.values())


def test_body_lines_are_exactly_the_body_text_entry_by_entry(parsed):
    dump, lines = parsed
    markers = [e.line for e in dump.entries]
    for index, entry in enumerate(dump.entries):
        end = markers[index + 1] if index + 1 < len(markers) else len(lines) + 1
        body_lines = [
            lines[n - 1] for n in range(entry.line + 1, end) if dump.line_roles.get(n) is LineRole.BODY
        ]
        assert words(" ".join(body_lines)) == words(" ".join(entry.paragraphs)), entry.headline
        assert words(entry.body) == words(" ".join(entry.paragraphs))
        assert all(p.strip() == p and p for p in entry.paragraphs)
    # No BODY line above the first marker: those lines are header or unparsed.
    assert not any(role is LineRole.BODY and n < markers[0] for n, role in dump.line_roles.items())


def test_no_marker_picture_furniture_or_footer_text_in_bodies(parsed):
    dump, lines = parsed
    not_body = {
        words(lines[n - 1]) for n, role in dump.line_roles.items()
        if role in (LineRole.PICTURE, LineRole.FURNITURE, LineRole.FOOTER, LineRole.MARKER, LineRole.PAGE_DATE)
    }
    for entry in dump.entries:
        for paragraph in entry.paragraphs:
            assert not MARKER_TEXT.search(paragraph), paragraph
            assert words(paragraph) not in not_body, paragraph
            assert "dpa-Bildfunk" not in paragraph and not paragraph.startswith("(Foto:")
        assert "+++" not in entry.headline
        for picture in entry.pictures:
            assert "+++" not in picture.caption and "(Foto:" not in picture.caption


def test_the_counts_add_up(parsed):
    dump, lines = parsed
    roles = Counter(dump.line_roles.values())
    assert sum(roles.values()) == len([text for text in lines if text.strip()])
    assert roles[LineRole.MARKER] == len(dump.entries)
    assert sorted(n for n, r in dump.line_roles.items() if r is LineRole.MARKER) == [e.line for e in dump.entries]
    assert [e.position for e in dump.entries] == list(range(len(dump.entries)))
    assert roles[LineRole.BODY] >= sum(len(e.paragraphs) for e in dump.entries)  # a paragraph is one line or more
    assert roles[LineRole.UNPARSED] == len(dump.unparsed_lines)
    assert sorted(n for n, r in dump.line_roles.items() if r is LineRole.UNPARSED) == [
        u.line for u in dump.unparsed_lines
    ]
    assert all(u.reason and u.text == lines[u.line - 1].strip() for u in dump.unparsed_lines)
    assert roles[LineRole.FOOTER] == (1 if dump.footer else 0)
    assert roles[LineRole.SECTION] == (1 if dump.section else 0)
    assert roles[LineRole.PAGE_DATE] == (1 if dump.page_datetime else 0)
    pictures = [p for e in dump.entries for p in e.pictures]
    assert len(pictures) <= roles[LineRole.PICTURE] <= 3 * len(pictures)
    assert all(dump.line_roles[p.line] is LineRole.PICTURE for p in pictures)
    assert all(1 <= w.line <= len(lines) for w in dump.warnings if w.line is not None)
