"""Every quirk of the dump format, on invented fixture dumps (tests/dumps/)."""
import re
from datetime import date

import pytest

from ingest.parser import DumpError, LineRole, parse_dump
from support import TESTS

DUMPS = TESTS / "dumps"


def parse(name, **options):
    path = DUMPS / name
    return parse_dump(path.read_bytes(), path=str(path), **options)


def times(dump):
    return [e.published_at.isoformat() for e in dump.entries]


def warnings(dump):
    return [(w.line, w.message) for w in dump.warnings]


def test_glued_title_section_page_date_and_rollover_to_the_evening_before():
    dump = parse("glued-title_2025-11-14.txt")
    assert (dump.section, dump.title) == ("Politik", "Ukraine-Krieg im Liveticker")
    assert dump.page_datetime.isoformat() == "2025-11-14T00:10:00+01:00"
    assert times(dump) == [
        "2025-11-14T16:05:00+01:00", "2025-11-14T15:34:00+01:00", "2025-11-14T00:42:00+01:00",
        "2025-11-13T23:42:00+01:00", "2025-11-13T21:48:00+01:00",
    ]
    first, second = dump.entries[:2]
    # The first entry's body comes after the page date line.
    assert first.body.startswith("Das russische Außenministerium weist")
    assert second.headline == '"Kältekrieg": Pistorius verurteilt Angriffe auf Kraftwerke'
    assert second.paragraphs == [
        "Russland greife gezielt die Energieversorgung an, sagt Bundesverteidigungsminister Boris Pistorius. "
        "Präsident Wladimir Putin wolle die Ukraine im Winter zermürben.",
        "Pistorius kündigt weitere Hilfe an.",
    ]
    assert dump.footer == "Alle früheren Entwicklungen können Sie hier nachverfolgen."
    assert [e.line for e in dump.entries] == [3, 9, 15, 19, 23]
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_title_separated_by_a_space_and_no_section():
    dump = parse("title-space-no-section.txt")
    assert (dump.section, dump.title) == (None, "Nahost-Krieg im Liveticker")
    assert [e.headline for e in dump.entries] == ["Waffenruhe hält vorerst", "Vermittler reisen nach Kairo"]


def test_no_break_space_tabs_and_thin_spaces_inside_markers():
    dump = parse("odd-whitespace_2025-12-01.txt")
    assert [e.headline for e in dump.entries] == [
        "Stau an der kasachischen Grenze", "Kämpfe um Pokrowsk dauern an", "Belgien bremst beim Kredit",
    ]
    assert times(dump)[1] == "2025-12-01T14:54:00+01:00"


def test_several_rollovers_in_one_dump():
    assert times(parse("rollovers-several_2025-06-03.txt")) == [
        "2025-06-03T01:15:00+02:00", "2025-06-02T22:40:00+02:00", "2025-06-02T08:05:00+02:00",
        "2025-06-01T23:55:00+02:00", "2025-06-01T23:10:00+02:00",
    ]


def test_october_clock_change_repeated_hour_resolved_by_order():
    dump = parse("dst-october_2025-10-26.txt")
    assert times(dump) == [
        "2025-10-26T03:10:00+01:00",
        "2025-10-26T02:50:00+01:00",  # second pass through 02:xx, winter time
        "2025-10-26T02:05:00+01:00",
        "2025-10-26T02:40:00+02:00",  # first pass, summer time: not the day before
        "2025-10-26T02:10:00+02:00",
        "2025-10-26T01:50:00+02:00",
        "2025-10-25T23:30:00+02:00",
    ]
    instants = [e.published_at.timestamp() for e in dump.entries]
    assert instants == sorted(instants, reverse=True)  # strictly newest first in real time
    assert dump.warnings == []


def test_march_clock_change_missing_hour_warns():
    dump = parse("dst-march_2026-03-29.txt")
    assert times(dump) == ["2026-03-29T04:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-29T01:45:00+01:00"]
    assert warnings(dump) == [(9, "02:30 on 29.03.2026 does not exist (clock change): read as 03:30 summer time")]


def test_late_insertion_stays_on_the_same_day_with_a_warning():
    dump = parse("out-of-order_2025-08-20.txt")
    assert times(dump) == ["2025-08-20T14:30:00+02:00", "2025-08-20T14:45:00+02:00", "2025-08-20T14:10:00+02:00"]
    [(line, message)] = warnings(dump)
    assert line == 9 and "late insertion" in message


def test_first_entry_after_midnight_then_the_evening_before():
    assert times(parse("after-midnight_2025-11-30.txt")) == [
        "2025-11-30T00:45:00+01:00", "2025-11-29T23:55:00+01:00", "2025-11-29T23:20:00+01:00",
    ]


def test_pictures_slug_caption_credit_in_the_middle_of_a_body_and_with_credit_lines():
    macron, odessa, wadephul = parse("pictures_2025-12-01.txt").entries
    [picture] = macron.pictures
    assert picture.slug == "Franzoesischer-Praesident-Emmanuel-Macron-und-Wolodymyr-Selenskyj-vor-dem-Elysee-Palast"
    assert picture.caption == "Emmanuel Macron (r) und Wolodymyr Selenskyj vor dem Élysée-Palast."
    assert picture.credit == "picture alliance/dpa/MAXPPP"
    # The paragraphs around the picture stay one body; the picture is not part of it.
    assert macron.paragraphs == [
        "Frankreichs Präsident Emmanuel Macron empfängt heute den ukrainischen Präsidenten.",
        "Beide wollen über Sicherheitsgarantien sprechen.",
    ]
    # Caption line, the same caption repeated, and a separate credit line: one picture.
    assert [(p.slug, p.caption, p.credit) for p in odessa.pictures] == [
        (None, "Ein beschädigtes Lagerhaus im Hafen von Odessa.", "IMAGO/Ukrinform")
    ]
    assert odessa.paragraphs == ["Der Gouverneur der Region Odessa meldet Schäden an einem Hafen."]
    assert [(p.caption, p.credit) for p in wadephul.pictures] == [
        ("Johann Wadephul am Flughafen.", "IMAGO/photothek (Thomas Imo)")
    ]


def test_audio_player_furniture_and_no_blank_lines():
    dump = parse("player-no-blank-lines_2025-09-10.txt")
    reporter, poland, regions = dump.entries
    assert reporter.headline == 'Reporterin in Kiew: "Eine schlimme Nacht"'
    assert reporter.paragraphs == ["Russland greift in der Nacht mit Hunderten Drohnen an."]
    assert poland.paragraphs == ["Warschau sperrt den Luftraum entlang der Grenze.", "Die Maßnahme gilt bis auf Weiteres."]
    assert regions.headline == "21 Regionen melden Luftalarm" and regions.time_text == "10:40"
    assert [dump.line_roles[n] for n in (4, 5)] == [LineRole.FURNITURE, LineRole.FURNITURE]
    assert dump.unparsed_lines == []


def test_headlines_with_numbers_quotes_colons_and_an_unbalanced_quote():
    dump = parse("headlines_2025-04-01.txt")
    assert [e.headline for e in dump.entries] == [
        "12 Bundesländer melden Engpässe bei Schutzräumen",
        '"Deutschland ist in einem Aufwach-Stadium',
        'Kreml: "Keine Pläne" für Treffen: Peskow dementiert Bericht',
    ]
    assert dump.entries[1].body.endswith("(Siehe Eintrag um 02:43 Uhr)")  # a cross-reference is body text


def test_file_cut_off_inside_a_marker():
    dump = parse("truncated-marker_2025-07-07.txt")
    assert [e.headline for e in dump.entries] == ["Rutte: Nato steht zusammen"]
    assert [(u.line, u.text) for u in dump.unparsed_lines] == [(9, "+++ 18:")]
    assert (9, "incomplete entry marker: the page was saved part-way") in warnings(dump)


def test_file_cut_off_inside_a_body_keeps_the_text_and_warns():
    dump = parse("truncated-body_2025-07-08.txt")
    assert dump.entries[0].body == "Der US-Sondergesandte Steve Witkoff wird in Moskau erwartet, wo er"
    assert any("saved part-way" in message for _, message in warnings(dump))


def test_fragment_that_starts_mid_entry():
    dump = parse("fragment-mid-entry_2025-05-05.txt")
    assert dump.title is None and [e.headline for e in dump.entries] == ["Lawrow trifft Wang Yi"]
    assert [u.line for u in dump.unparsed_lines] == [1, 3]
    assert dump.missing == ['no ticker title in the dump: pass --ticker "Title"']
    assert parse("fragment-mid-entry_2025-05-05.txt", ticker_title="Ukraine-Krieg im Liveticker").missing == []


def test_date_from_option_then_file_name_then_missing():
    from_name = parse("no-page-date_2025-03-02.txt")
    assert from_name.date_source == "file name"
    assert times(from_name) == ["2025-03-02T00:45:00+01:00", "2025-03-01T23:55:00+01:00"]
    from_option = parse("no-page-date_2025-03-02.txt", default_date=date(2024, 7, 1))
    assert from_option.date_source == "option" and times(from_option)[0] == "2024-07-01T00:45:00+02:00"
    undated = parse("no-date-anywhere.txt")
    assert [e.published_at for e in undated.entries] == [None, None]
    assert "pass --date YYYY-MM-DD" in undated.missing[0]


def test_page_date_line_wins_over_the_option():
    dump = parse("glued-title_2025-11-14.txt", default_date=date(2020, 1, 1))
    assert times(dump)[0] == "2025-11-14T16:05:00+01:00"
    assert any("--date 2020-01-01 ignored" in message for _, message in warnings(dump))


def test_no_title_needs_the_option():
    dump = parse("no-title.txt")
    assert (dump.title, dump.section) == (None, "Politik")
    assert parse("no-title.txt", ticker_title="Ukraine-Krieg im Liveticker").title == "Ukraine-Krieg im Liveticker"


def test_other_ticker_and_section():
    dump = parse("panorama-corona_2020-11-02.txt")
    assert (dump.section, dump.title) == ("Panorama", "Coronavirus-Liveticker")


@pytest.mark.parametrize("name, encoding", [
    ("cp1252_2025-11-14.txt", "cp1252"),
    ("latin1_2025-11-14.txt", "cp1252"),
    ("crlf-bom_2025-11-14.txt", "utf-8-sig"),
    ("cr-only_2025-11-14.txt", "utf-8"),
])
def test_encodings_and_line_ends_decode_to_the_same_text(name, encoding):
    dump = parse(name)
    assert dump.encoding == encoding
    assert [e.headline for e in dump.entries] == [
        "Schäden an Ölverladeanlage in Noworossijsk", "Orbán will gegen Gasverbot klagen",
    ]
    assert "Größere Schäden gebe es nicht." in dump.entries[0].body
    assert [e.line for e in dump.entries] == [3, 9]
    if encoding == "cp1252":
        assert dump.entries[0].body.startswith(("„Der Betrieb ruht“, sagen Insider – ", '"Der Betrieb ruht", sagen Insider - '))
        assert warnings(dump)[0] == (3, "not UTF-8 (first invalid byte on this line): decoded as CP1252 (Windows-1252)")
    else:
        assert dump.warnings == []


@pytest.mark.parametrize("name, reason", [
    ("junk-empty.txt", "the file is empty"),
    ("junk-binary.txt", "binary data"),
    ("junk-page.html", "an HTML page, not a text dump"),
    ("junk-no-marker.txt", "no entry marker"),
])
def test_junk_is_rejected_with_the_file_named(name, reason):
    with pytest.raises(DumpError) as error:
        parse(name)
    assert str(error.value).startswith(str(DUMPS / name)) and reason in str(error.value)


FIXTURES = sorted(p.name for p in DUMPS.iterdir() if p.suffix in {".txt", ".html"} and not p.name.startswith("junk-"))


@pytest.mark.parametrize("name", FIXTURES)
def test_every_non_blank_line_is_accounted_for(name):
    dump = parse(name)
    lines = re.split(r"\r\n|\r|\n", dump.text)
    non_blank = {n for n, text in enumerate(lines, 1) if text.strip().strip("\u00a0\ufeff")}
    assert set(dump.line_roles) == non_blank
    body_lines = [n for n, role in dump.line_roles.items() if role is LineRole.BODY]
    assert [lines[n - 1].strip() for n in sorted(body_lines)] == [p for e in dump.entries for p in e.paragraphs]
    assert not any("+++" in p and re.search(r"\+\+\+\s*\d", p) for e in dump.entries for p in e.paragraphs)
    assert {n for n, r in dump.line_roles.items() if r is LineRole.MARKER} == {e.line for e in dump.entries}
