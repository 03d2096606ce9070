"""Encodings and line ends: CP1252, Latin-1, a byte order mark, CRLF and CR read like UTF-8.

The bytes are written by tests/fixtures/make_encoded.py from one page (utf8-reference.txt).
"""
import pytest

from ingest.parser import DumpError, parse_dump
from support import FIXTURE_DUMPS

HEADLINES = [
    "Schäden an Ölverladeanlage in Noworossijsk",
    "Orbán will gegen Importverbot für russisches Gas klagen",
    "Straßensperren in Cherson nach Beschuss",
]
TIMES = ["2025-11-14T13:15:00+01:00", "2025-11-14T12:50:00+01:00", "2025-11-14T00:42:00+01:00"]
FIRST_BODY = (
    "„Der Betrieb ruht vorerst“, sagen zwei Insider – die Reparatur werde Tage dauern. "
    "Größere Schäden an den Tanks gebe es nach ersten Erkenntnissen nicht."
)


def encoding_warnings(dump):
    return [w for w in dump.warnings if "UTF-8" in w.message]


def test_utf8_reference_page(parse_fixture, times):
    dump = parse_fixture("utf8-reference.txt")
    assert (dump.section, dump.title) == ("Politik", "Ukraine-Krieg im Liveticker")
    assert [e.headline for e in dump.entries] == HEADLINES
    assert [e.line for e in dump.entries] == [3, 9, 13]
    assert times(dump) == TIMES
    assert dump.entries[0].body == FIRST_BODY
    assert dump.footer == "Alle früheren Entwicklungen können Sie hier nachverfolgen."
    assert dump.warnings == []


@pytest.mark.parametrize("name", ["cp1252.txt", "crlf-bom.txt", "cr-only.txt"])
def test_same_page_in_other_bytes_reads_the_same(parse_fixture, times, name):
    reference = parse_fixture("utf8-reference.txt")
    dump = parse_fixture(name)
    assert (dump.section, dump.title, dump.footer) == (reference.section, reference.title, reference.footer)
    assert [(e.line, e.headline, e.paragraphs) for e in dump.entries] == [
        (e.line, e.headline, e.paragraphs) for e in reference.entries
    ]
    assert times(dump) == TIMES
    assert dump.line_roles == reference.line_roles  # line numbers do not shift with CRLF or CR


def test_cp1252_is_decoded_with_a_warning(parse_fixture):
    dump = parse_fixture("cp1252.txt")
    assert dump.entries[0].body == FIRST_BODY  # „ “ and – are CP1252 bytes 0x84, 0x93, 0x96
    [warning] = encoding_warnings(dump)
    assert warning.line == 3 and "CP1252" in warning.message  # the marker line holds the first ä


def test_latin1_is_decoded_with_a_warning(parse_fixture, times):
    dump = parse_fixture("latin1.txt")
    assert [e.headline for e in dump.entries] == HEADLINES
    assert times(dump) == TIMES
    assert dump.entries[0].body == (
        "»Der Betrieb ruht vorerst«, sagen zwei Insider - die Reparatur werde Tage dauern. "
        "Größere Schäden an den Tanks gebe es nach ersten Erkenntnissen nicht."
    )
    assert dump.entries[1].body.endswith("»Wir akzeptieren diese Entscheidung nicht«, sagt er in Budapest.")
    assert len(encoding_warnings(dump)) == 1


@pytest.mark.parametrize("name", ["utf8-reference.txt", "crlf-bom.txt", "cr-only.txt"])
def test_utf8_files_give_no_encoding_warning(parse_fixture, name):
    assert parse_fixture(name).warnings == []


def test_byte_order_mark_is_not_part_of_the_section(parse_fixture):
    dump = parse_fixture("crlf-bom.txt")
    assert dump.section == "Politik"
    assert not any("\ufeff" in e.headline or "\r" in e.body for e in dump.entries)


def test_utf16_page_reads_like_utf8_and_a_cut_off_one_is_refused_by_name(parse_fixture):
    """A page saved as UTF-16 (byte-order mark first) reads like the UTF-8 one; cut off in the
    middle of a character it is refused with the file's name, never a decoding traceback."""
    reference = parse_fixture("utf8-reference.txt")
    utf16 = (FIXTURE_DUMPS / "utf8-reference.txt").read_bytes().decode("utf-8").encode("utf-16")
    dump = parse_dump(utf16, path="utf16-page.txt")
    assert [(e.line, e.headline, e.paragraphs) for e in dump.entries] == [
        (e.line, e.headline, e.paragraphs) for e in reference.entries
    ]
    with pytest.raises(DumpError, match=r"^cut-off\.txt: .*invalid UTF-16"):
        parse_dump(utf16[:-1], path="cut-off.txt")
