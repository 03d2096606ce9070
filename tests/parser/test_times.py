"""Entry times: the date of the newest entry, day changes, late insertions, clock changes."""
from datetime import date

import pytest

from ingest.parser import parse_dump
from support import FIXTURE_DUMPS


def warning_lines(dump):
    return [w.line for w in dump.warnings]


def undated_page_saved_as(path, **options):
    """no-page-date.txt (no page date line) as if saved under `path`: the file name may give the date."""
    return parse_dump((FIXTURE_DUMPS / "no-page-date.txt").read_bytes(), path=path, **options)


def test_one_rollover_to_the_evening_before(parse_fixture, times):
    dump = parse_fixture("glued-title_2025-11-14.txt")
    assert dump.date_source == "page"
    assert times(dump) == [
        "2025-11-14T16:05:00+01:00", "2025-11-14T15:34:00+01:00", "2025-11-14T00:42:00+01:00",
        "2025-11-13T23:42:00+01:00", "2025-11-13T21:48:00+01:00",
    ]


def test_several_rollovers_a_page_over_three_days(parse_fixture, times):
    dump = parse_fixture("rollovers-several.txt")
    assert times(dump) == [
        "2025-06-03T01:15:00+02:00", "2025-06-03T00:20:00+02:00",
        "2025-06-02T22:40:00+02:00", "2025-06-02T14:00:00+02:00", "2025-06-02T08:05:00+02:00",
        "2025-06-02T00:30:00+02:00",
        "2025-06-01T23:55:00+02:00", "2025-06-01T21:10:00+02:00",
    ]
    assert dump.warnings == []


def test_first_entry_after_midnight_then_the_evening_before(parse_fixture, times):
    dump = parse_fixture("first-entry-after-midnight.txt")
    # The page was opened at 00:10, before its newest entry (00:45): still the same day.
    assert dump.page_datetime.isoformat() == "2025-11-30T00:10:00+01:00"
    assert times(dump) == [
        "2025-11-30T00:45:00+01:00", "2025-11-29T23:55:00+01:00",
        "2025-11-29T23:20:00+01:00", "2025-11-29T22:05:00+01:00",
    ]
    assert dump.warnings == []


def test_late_insertions_stay_on_the_same_day_with_a_warning_on_their_line(parse_fixture, times):
    dump = parse_fixture("out-of-order.txt")
    assert times(dump) == [
        "2025-08-20T14:30:00+02:00",
        "2025-08-20T14:45:00+02:00",  # 15 minutes later than the entry above: a late insertion
        "2025-08-20T14:10:00+02:00",
        "2025-08-20T12:00:00+02:00",
        "2025-08-20T13:40:00+02:00",  # 1 h 40 later: still a late insertion
        "2025-08-20T11:15:00+02:00",
        "2025-08-20T00:20:00+02:00",
        "2025-08-19T23:40:00+02:00",  # 23 h 20 later: the day before
    ]
    assert warning_lines(dump) == [9, 21]


def test_october_clock_change_the_repeated_hour_is_resolved_by_page_order(parse_fixture, times):
    dump = parse_fixture("dst-october-2025-10-26.txt")
    assert times(dump) == [
        "2025-10-26T03:10:00+01:00",
        "2025-10-26T02:50:00+01:00",  # the second 02:xx, winter time
        "2025-10-26T02:05:00+01:00",
        "2025-10-26T02:40:00+02:00",  # 02:05 then 02:40 is the clock change, not a new day
        "2025-10-26T02:10:00+02:00",  # the first 02:xx, summer time
        "2025-10-26T01:50:00+02:00",
        "2025-10-25T23:30:00+02:00",
    ]
    instants = [e.published_at.timestamp() for e in dump.entries]
    assert instants == sorted(instants, reverse=True)  # newest first in real time, too
    assert dump.warnings == []


def test_october_clock_change_a_lone_entry_in_the_repeated_hour_is_summer_time_with_a_warning(parse_fixture, times):
    dump = parse_fixture("dst-october-lone-hour-2025-10-26.txt")
    assert times(dump) == [
        "2025-10-26T04:15:00+01:00",
        "2025-10-26T02:30:00+02:00",
        "2025-10-26T01:20:00+02:00",
        "2025-10-25T22:00:00+02:00",
    ]
    assert warning_lines(dump) == [9]  # the 02:30 marker


def test_march_clock_change_a_time_that_does_not_exist_warns(parse_fixture, times, utc):
    dump = parse_fixture("dst-march-2026-03-29.txt")
    assert times(dump)[:2] == ["2026-03-29T04:00:00+02:00", "2026-03-29T03:05:00+02:00"]
    assert times(dump)[3:] == ["2026-03-29T01:45:00+01:00", "2026-03-28T23:50:00+01:00"]
    # 02:30 never happened that night: it is read as 02:30+01:00, the instant of 03:30 summer time.
    assert utc(dump.entries[2].published_at) == "2026-03-29 01:30 UTC"
    assert [(w.line, w.message) for w in dump.warnings] == [
        (13, "02:30 on 29.03.2026 does not exist (clock change): read as 03:30 summer time"),
    ]


def test_date_from_the_file_name_when_there_is_no_page_date_line(times):
    dump = undated_page_saved_as("ukraine-liveticker_2025-03-02.txt")
    assert dump.page_datetime is None and dump.date_source == "file name"
    assert times(dump) == ["2025-03-02T00:45:00+01:00", "2025-03-01T23:55:00+01:00", "2025-03-01T22:30:00+01:00"]
    assert dump.missing == []


def test_date_option_wins_over_the_file_name(times):
    dump = undated_page_saved_as("ukraine-liveticker_2025-03-02.txt", default_date=date(2024, 7, 1))
    assert dump.date_source == "option"
    assert times(dump) == ["2024-07-01T00:45:00+02:00", "2024-06-30T23:55:00+02:00", "2024-06-30T22:30:00+02:00"]


def test_page_date_line_wins_over_the_option(parse_fixture, times):
    dump = parse_fixture("glued-title_2025-11-14.txt", default_date=date(2020, 1, 1))
    assert dump.date_source == "page"
    assert times(dump)[0] == "2025-11-14T16:05:00+01:00"
    assert [w.message for w in dump.warnings] == ["--date 2020-01-01 ignored: the page date line says 2025-11-14"]


def test_no_date_anywhere_still_parses_and_says_what_is_missing(parse_fixture, times):
    dump = parse_fixture("no-page-date.txt")
    assert dump.date_source is None
    assert [e.headline for e in dump.entries] == [
        "Drohnenalarm in Kiew", "Selenskyj dankt Europa nach Londoner Gipfel", "Starmer: Koalition der Willigen steht bereit",
    ]
    assert times(dump) == [None, None, None]
    [problem] = dump.missing
    assert "--date" in problem
    dated = parse_fixture("no-page-date.txt", default_date=date(2025, 3, 2))
    assert dated.missing == []
    assert times(dated) == ["2025-03-02T00:45:00+01:00", "2025-03-01T23:55:00+01:00", "2025-03-01T22:30:00+01:00"]


def test_october_clock_change_on_the_day_before_the_page_date(parse_fixture, times):
    dump = parse_fixture("dst-october-day-before.txt")
    assert times(dump) == [
        "2025-10-27T00:30:00+01:00",
        "2025-10-26T22:15:00+01:00",
        "2025-10-26T03:10:00+01:00",
        "2025-10-26T02:45:00+01:00",
        "2025-10-26T02:20:00+01:00",
        "2025-10-26T02:50:00+02:00",
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T01:30:00+02:00",
        "2025-10-25T23:40:00+02:00",
    ]
    assert dump.warnings == []


def test_march_clock_change_on_the_day_before_the_page_date(parse_fixture, times, utc):
    dump = parse_fixture("dst-march-day-before.txt")
    assert times(dump)[:3] == ["2026-03-30T00:20:00+02:00", "2026-03-29T23:10:00+02:00", "2026-03-29T04:00:00+02:00"]
    assert utc(dump.entries[3].published_at) == "2026-03-29 01:15 UTC"  # 02:15 read as 02:15+01:00
    assert times(dump)[4] == "2026-03-29T01:10:00+01:00"
    assert warning_lines(dump) == [17]


@pytest.mark.parametrize("path, day", [
    ("dumps/ukraine-liveticker_2025-11-14_1830.txt", "2025-11-14"),
    ("C:\\Users\\redaktion\\dumps\\2025-11-13-ukraine.txt", "2025-11-13"),
    ("dumps/2025-11-13/ukraine-liveticker.txt", None),  # a date in a folder name is not the file's
    ("dumps/ukraine-liveticker_2025-13-45.txt", None),  # not a date
])
def test_only_a_real_date_in_the_file_base_name_counts(times, path, day):
    dump = undated_page_saved_as(path)
    if day is None:
        assert times(dump)[0] is None and dump.date_source is None
    else:
        assert times(dump)[0] == f"{day}T00:45:00+01:00" and dump.date_source == "file name"


def test_late_insertion_is_under_two_hours_two_hours_up_is_the_day_before(parse_fixture, times):
    dump = parse_fixture("late-insertion-boundary.txt")
    assert times(dump) == [
        "2025-08-20T12:00:00+02:00",
        "2025-08-20T13:59:00+02:00",  # 1 h 59 later than the entry above: late insertion
        "2025-08-20T11:00:00+02:00",
        "2025-08-19T13:00:00+02:00",  # 2 h later: the day before
    ]
    assert warning_lines(dump) == [9]
