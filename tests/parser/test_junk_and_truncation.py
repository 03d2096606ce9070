"""Files that are not ticker pages are refused; pages saved part-way keep what they have."""
from datetime import date

import pytest

from ingest.parser import DumpError, LineRole
from support import FIXTURE_DUMPS


@pytest.mark.parametrize("name, reason", [
    ("junk-empty.txt", "empty"),
    ("junk-whitespace.txt", "empty"),
    ("junk-binary.bin", "binary"),
    ("junk-page.html", "HTML"),
    ("junk-no-marker.txt", "marker"),
])
def test_junk_raises_a_clear_error_naming_the_file(parse_fixture, name, reason):
    with pytest.raises(DumpError) as error:
        parse_fixture(name)
    message = str(error.value)
    assert str(FIXTURE_DUMPS / name) in message
    assert reason in message


def test_file_ending_inside_a_marker(parse_fixture, times):
    dump = parse_fixture("truncated-marker.txt")
    assert [e.headline for e in dump.entries] == [
        "Rutte: Bündnis steht geschlossen hinter Kiew", "Angriff auf Dnipro: Zahl der Verletzten steigt",
    ]
    assert times(dump) == ["2025-07-07T18:42:00+02:00", "2025-07-07T18:20:00+02:00"]
    assert dump.entries[-1].body == "Nach dem Raketenangriff auf Dnipro steigt die Zahl der Verletzten auf 31."
    [unparsed] = dump.unparsed_lines
    assert (unparsed.line, unparsed.text) == (13, "+++ 18:") and unparsed.reason
    assert dump.line_roles[13] is LineRole.UNPARSED
    assert dump.footer is None
    # One warning on the broken marker's line, one for the missing footer (no line).
    assert {w.line for w in dump.warnings} == {13, None}
    assert "saved part-way" in dump.warnings[0].message


def test_file_ending_mid_sentence_keeps_the_text_and_warns(parse_fixture, times):
    dump = parse_fixture("truncated-body.txt")
    [entry] = dump.entries
    assert entry.headline == "Witkoff reist erneut nach Moskau"
    assert times(dump) == ["2025-07-08T09:10:00+02:00"]
    assert entry.body == "Der US-Sondergesandte Steve Witkoff wird am Abend in Moskau erwartet, wo er"
    assert dump.footer is None and dump.unparsed_lines == []
    assert [w.line for w in dump.warnings] == [None]  # the missing footer: saved part-way


def test_fragment_starting_mid_entry(parse_fixture):
    dump = parse_fixture("fragment-mid-entry.txt")
    assert [(e.line, e.headline) for e in dump.entries] == [
        (5, "Lawrow trifft Wang Yi in Moskau"), (9, "Kiew meldet Angriffe auf Raffinerie"),
    ]
    assert [u.line for u in dump.unparsed_lines] == [1, 3]
    assert all(u.reason for u in dump.unparsed_lines)
    assert dump.unparsed_lines[1].text == "Am Abend seien erneut Drohnen über der Stadt gesichtet worden."
    assert [w.line for w in dump.warnings] == [1]
    # Neither title nor date in the fragment: it parses, and says what it lacks.
    assert dump.title is None and dump.section is None
    assert [e.published_at for e in dump.entries] == [None, None]
    assert len(dump.missing) == 2


def test_fragment_with_title_and_date_from_the_options(parse_fixture, times):
    dump = parse_fixture(
        "fragment-mid-entry.txt", ticker_title="Ukraine-Krieg im Liveticker", default_date=date(2025, 5, 5),
    )
    assert dump.title == "Ukraine-Krieg im Liveticker" and dump.date_source == "option"
    assert times(dump) == ["2025-05-05T10:15:00+02:00", "2025-05-05T09:40:00+02:00"]
    assert dump.missing == []
    assert [u.line for u in dump.unparsed_lines] == [1, 3]


def test_fragment_whose_last_line_is_short_is_still_a_fragment(parse_fixture):
    # The title comes from the marker line (glued or after a space), not from a short fragment line.
    dump = parse_fixture("fragment-short-last-line.txt")
    assert [e.headline for e in dump.entries] == ["Lawrow trifft Wang Yi in Moskau"]
    assert dump.title is None
    assert [u.line for u in dump.unparsed_lines] == [1, 3]
    assert [w.line for w in dump.warnings] == [1]
