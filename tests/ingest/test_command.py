"""The `ingest` command against a real database: idempotence, overlapping saves, failures."""
import json
from datetime import datetime, timedelta

import pytest

from support import run_command
from ingest.loader import DumpLoader
from ingest.parser import BERLIN
from ingest.render import DraftEntry, DraftPicture, render_dump
from tickerarchive.models import Entry, IngestEvent, SourceDump, Ticker

pytestmark = pytest.mark.django_db

TITLE = "Ukraine-Krieg im Liveticker"


def page(*entries, title=TITLE, opened=datetime(2025, 11, 14, 0, 10), **kwargs) -> bytes:
    return render_dump(title=title, entries=list(entries), page_datetime=opened, **kwargs).encode()


EVENING = DraftEntry("21:48", "Pistorius empfängt Amtskollegen", ["Der Minister lädt nach Berlin ein."])
MORNING = DraftEntry("09:53", "Hafen Noworossijsk stoppt Ölexport", ["Nach einem Drohnenangriff ruht der Export."])
NOON = DraftEntry(
    "12:25", "Tote nach Angriff auf Markt in Region Odessa",
    ["Bei einem Drohnenangriff auf einen Markt in Tschornomorsk sterben zwei Menschen.", "Die Behörden ermitteln."],
    [DraftPicture("Markt-in-Tschornomorsk-nach-dem-Angriff", "Der Markt nach dem Angriff.", "picture alliance/dpa")],
)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def ingest_json(*args):
    run = run_command("ingest", "--json", *args)
    return run, json.loads(run.stdout)


def test_ingest_stores_entries_with_times_text_pictures_and_provenance(tmp_path):
    dump = write(tmp_path, "ukraine_2025-11-14.txt", page(NOON, MORNING, EVENING))
    run, report = ingest_json(dump)
    assert run.exit_code == 0
    assert report["entries_created"] == 3 and report["failed"] == []
    noon = Entry.objects.get(headline=NOON.headline)
    assert noon.published_at.isoformat() == "2025-11-14T11:25:00+00:00"
    assert noon.body == "\n\n".join(NOON.paragraphs)
    assert noon.ticker.title == TITLE and noon.ticker.section == "Politik"
    [picture] = noon.pictures.all()
    assert (picture.slug, picture.caption, picture.credit) == (
        "Markt-in-Tschornomorsk-nach-dem-Angriff", "Der Markt nach dem Angriff.", "picture alliance/dpa"
    )
    assert noon.source_dump.file_name == "ukraine_2025-11-14.txt"
    assert noon.source_dump.lines(noon.source_line, noon.source_line)[0][1].startswith(TITLE + "+++ 12:25")
    evening = Entry.objects.get(headline=EVENING.headline)
    assert evening.published_at.isoformat() == "2025-11-13T20:48:00+00:00"  # the day before, 21:48 CET


def test_second_run_creates_nothing(tmp_path):
    write(tmp_path, "a_2025-11-14.txt", page(NOON, MORNING, EVENING))
    write(tmp_path, "b_2025-11-15.txt", page(MORNING, opened=datetime(2025, 11, 15, 0, 10)))
    first = ingest_json(tmp_path)[1]
    again_run, again = ingest_json(tmp_path)
    assert first["entries_created"] == 4
    assert again_run.exit_code == 0
    assert again["entries_created"] == 0 and again["entries_updated"] == 0 and again["entries_unchanged"] == 4
    assert Entry.objects.count() == 4 and SourceDump.objects.count() == 2


def test_overlapping_saves_make_one_entry_and_later_save_adds_new_ones(tmp_path):
    early = write(tmp_path, "day_2025-11-14_1000.txt", page(MORNING, EVENING))
    late = write(tmp_path, "day_2025-11-14_1300.txt", page(NOON, MORNING, EVENING))
    assert ingest_json(early)[1]["entries_created"] == 2
    report = ingest_json(late)[1]
    assert (report["entries_created"], report["entries_unchanged"]) == (1, 2)
    assert Entry.objects.count() == 3
    assert Entry.objects.get(headline=MORNING.headline).source_dump.file_name == "day_2025-11-14_1000.txt"


def test_later_save_with_new_text_updates_entry_but_never_an_editors_correction(tmp_path):
    ingest_json(write(tmp_path, "v1.txt", page(NOON, MORNING)))
    morning = Entry.objects.get(headline=MORNING.headline)
    noon = Entry.objects.get(headline=NOON.headline)
    noon.body, noon.edited_fields = "Von der Redaktion korrigiert.", ["body"]
    noon.save()
    revised_morning = DraftEntry(MORNING.time_text, MORNING.headline, MORNING.paragraphs + ["Update: Der Export läuft wieder."])
    revised_noon = DraftEntry(NOON.time_text, NOON.headline, ["Neue Fassung aus dem Ticker."], NOON.pictures)
    report = ingest_json(write(tmp_path, "v2.txt", page(revised_noon, revised_morning)))[1]
    assert (report["entries_created"], report["entries_updated"]) == (0, 2)
    morning.refresh_from_db()
    noon.refresh_from_db()
    assert morning.body.endswith("Update: Der Export läuft wieder.")
    assert noon.body == "Von der Redaktion korrigiert."
    assert noon.original_body == "Neue Fassung aus dem Ticker."


def test_corrected_headline_and_time_do_not_duplicate_on_reingest(tmp_path):
    dump = write(tmp_path, "d.txt", page(NOON, MORNING))
    ingest_json(dump)
    entry = Entry.objects.get(headline=MORNING.headline)
    entry.headline = "Hafen Noworossijsk stoppt den Ölexport"
    entry.published_at = entry.published_at.replace(minute=0)
    entry.edited_fields = ["headline", "published_at"]
    entry.save()
    report = ingest_json("--force", dump)[1]
    assert report["entries_created"] == 0
    assert Entry.objects.count() == 2
    entry.refresh_from_db()
    assert entry.headline == "Hafen Noworossijsk stoppt den Ölexport"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "the file is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary data"),
        ("page.txt", b"<!DOCTYPE html>\n<html><body><p>+++ 12:00 Ticker +++</p></body></html>", "HTML page"),
        ("prose.txt", "Nur ein Text\n\nohne einen einzigen Eintrag.".encode(), "no entry marker"),
    ],
)
def test_junk_fails_with_its_name_and_reason_while_good_dump_lands(tmp_path, name, data, reason):
    junk = write(tmp_path, name, data)
    good = write(tmp_path, "good_2025-11-14.txt", page(NOON))
    run, report = ingest_json(junk, good)
    assert run.exit_code == 1
    [failure] = report["failed"]
    assert failure["path"] == str(junk) and name in failure["error"] and reason in failure["error"]
    assert report["entries_created"] == 1
    assert Entry.objects.get().headline == NOON.headline
    assert not SourceDump.objects.filter(file_name=name).exists()
    assert IngestEvent.objects.get(path=str(junk)).status == IngestEvent.Status.FAILED


def test_plain_summary_names_failed_file(tmp_path):
    junk = write(tmp_path, "empty.txt", b"   \n")
    run = run_command("ingest", junk)
    assert run.exit_code == 1
    assert f"FAILED {junk}" in run.stderr and "empty" in run.stderr


def test_dump_without_page_date_needs_a_date(tmp_path):
    undated = write(tmp_path, "undated.txt", page(MORNING, EVENING, opened=None))
    run, report = ingest_json(undated)
    assert run.exit_code == 1 and "--date" in report["failed"][0]["error"]
    assert Entry.objects.count() == 0
    run, report = ingest_json("--date", "2025-03-02", undated)
    assert run.exit_code == 0
    assert sorted(e.published_at.isoformat() for e in Entry.objects.all()) == [
        "2025-03-01T20:48:00+00:00", "2025-03-02T08:53:00+00:00",
    ]


def test_date_from_the_file_name(tmp_path):
    ingest_json(write(tmp_path, "ticker_2025-06-30.txt", page(MORNING, opened=None)))
    assert Entry.objects.get().published_at.isoformat() == "2025-06-30T07:53:00+00:00"  # CEST


def test_dump_without_title_needs_ticker_option(tmp_path):
    untitled = write(tmp_path, "untitled_2025-11-14.txt", page(MORNING, title=""))
    run, report = ingest_json(untitled)
    assert run.exit_code == 1 and "--ticker" in report["failed"][0]["error"]
    run, report = ingest_json("--ticker", "Nahost-Krieg im Liveticker", untitled)
    assert run.exit_code == 0
    assert Ticker.objects.get().slug == "nahost-krieg-im-liveticker"


def test_dry_run_shows_the_parse_and_writes_nothing(tmp_path):
    dump = write(tmp_path, "d_2025-11-14.txt", page(NOON, MORNING, EVENING))
    untitled = write(tmp_path, "untitled_2025-11-14.txt", page(MORNING, title=""))
    run, report = ingest_json("--dry-run", dump, untitled)
    assert Entry.objects.count() == 0 and SourceDump.objects.count() == 0
    assert run.exit_code == 1  # the untitled one could not be stored
    parsed, shown_untitled = report["files"]
    assert parsed["ticker"] == {"title": TITLE, "section": "Politik"}
    assert parsed["page_datetime"] == "2025-11-14T00:10:00+01:00"
    assert [e["published_at"] for e in parsed["entries"]] == [
        "2025-11-14T12:25:00+01:00", "2025-11-14T09:53:00+01:00", "2025-11-13T21:48:00+01:00",
    ]
    assert parsed["entries"][0]["body"] == "\n\n".join(NOON.paragraphs)
    assert parsed["entries"][0]["images"] == [
        {"slug": "Markt-in-Tschornomorsk-nach-dem-Angriff", "caption": "Der Markt nach dem Angriff.", "credit": "picture alliance/dpa"}
    ]
    assert parsed["entries"][0]["line"] == 3
    assert shown_untitled["entries"][0]["headline"] == MORNING.headline
    assert [f["path"] for f in report["failed"]] == [str(untitled)]


def test_directories_globs_and_missing_paths(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    write(tmp_path / "sub" / "deeper", "a_2025-11-14.txt", page(MORNING))
    write(tmp_path / "sub", "b_2025-11-15.txt", page(NOON, opened=datetime(2025, 11, 15, 0, 10)))
    write(tmp_path / "sub", "notes.md", b"not a dump")
    run, report = ingest_json(tmp_path / "sub", str(tmp_path / "*.nothing"), tmp_path / "gone.txt")
    assert report["files"] == 2 and report["entries_created"] == 2
    assert sorted(f["error"] for f in report["failed"]) == ["no file matches this pattern", "no such file or directory"]
    assert run.exit_code == 1


def test_oversized_file_fails_with_a_clear_message_before_reading_it(tmp_path):
    big = write(tmp_path, "huge.txt", page(NOON) + b" " * 2048)
    good = write(tmp_path, "good.txt", page(MORNING))
    loader = DumpLoader(max_bytes=1024)
    result = loader.load(big)
    assert result.error and "too large" in result.error and "huge.txt" in result.error
    assert loader.load(good).created == 1


def test_200_mb_dump_is_refused_by_name_and_the_rest_still_lands(tmp_path):
    huge = tmp_path / "riesig_2025-11-14.txt"
    with huge.open("wb") as f:
        f.truncate(200 * 10**6)  # sparse: no disk used, and never read
    write(tmp_path, "good_2025-11-14.txt", page(MORNING))
    run, report = ingest_json(tmp_path)
    assert run.exit_code == 1 and report["entries_created"] == 1
    [failure] = report["failed"]
    assert failure["path"] == str(huge)
    assert "riesig_2025-11-14.txt" in failure["error"] and "too large" in failure["error"]
    assert not SourceDump.objects.filter(file_name=huge.name).exists()


def test_page_with_fifty_thousand_entries_ingests(tmp_path):
    newest = datetime(2025, 11, 14, 23, 59)
    entries = [
        DraftEntry(f"{newest - timedelta(minutes=n):%H:%M}", f"Meldung Nummer {n}", [f"Text der Meldung {n}."])
        for n in range(50_000)
    ]
    dump = write(tmp_path, "long_2025-11-14.txt", page(*entries))
    run, report = ingest_json(dump)
    assert run.exit_code == 0 and report["entries_created"] == 50_000
    oldest = Entry.objects.order_by("published_at").first()
    assert oldest.headline == "Meldung Nummer 49999"
    # one minute apart, 34 days back across the October clock change: wall-clock arithmetic
    assert oldest.published_at == (newest - timedelta(minutes=49_999)).replace(tzinfo=BERLIN)


def test_many_dumps_land_in_order_and_a_bad_one_among_them_fails_alone(tmp_path):
    # Enough files that they are prepared in a second process while this one writes.
    days = [datetime(2025, 11, day, 0, 10) for day in range(1, 13)]
    for opened in days:
        evening = DraftEntry("21:48", f"Abendmeldung vom {opened:%d.%m.}", ["Am Abend."])
        write(tmp_path, f"t_{opened:%Y-%m-%d}_1.txt", page(NOON, MORNING, evening, opened=opened))
    # A later save of the last day: a new entry on top, and the noon entry with more text.
    last = days[-1]
    longer_noon = DraftEntry(NOON.time_text, NOON.headline, NOON.paragraphs + ["Nachtrag."], NOON.pictures)
    late = DraftEntry("23:05", "Späte Meldung", ["Noch spät."])
    write(tmp_path, f"t_{last:%Y-%m-%d}_2.txt", page(late, longer_noon, MORNING, opened=last))
    broken = write(tmp_path, "t_2025-11-06_1b.txt", b"<!DOCTYPE html>\n<html><body>+++ 12:00 Ticker +++</body></html>")
    run, report = ingest_json(tmp_path)
    assert run.exit_code == 1
    [failure] = report["failed"]
    assert failure["path"] == str(broken) and "t_2025-11-06_1b.txt" in failure["error"] and "HTML" in failure["error"]
    assert (report["files"], report["files_loaded"]) == (14, 13)
    assert (report["entries_created"], report["entries_updated"], report["entries_unchanged"]) == (12 * 3 + 1, 1, 1)
    assert Entry.objects.count() == 12 * 3 + 1
    noon = Entry.objects.get(headline=NOON.headline, published_at__date=last.date())
    assert noon.body.endswith("Nachtrag.") and noon.source_dump.file_name == f"t_{last:%Y-%m-%d}_2.txt"
    # The load-event log has one line per file, in the order of the files.
    assert list(IngestEvent.objects.order_by("id").values_list("path", flat=True)) == sorted(
        str(p) for p in tmp_path.iterdir()
    )
    # Run again: the stored dumps are unchanged (with the counts of their pages), the bad one fails again.
    again_run, again = ingest_json(tmp_path)
    assert again_run.exit_code == 1 and [f["path"] for f in again["failed"]] == [str(broken)]
    assert (again["files_unchanged"], again["entries_unchanged"], again["entries_created"]) == (13, 12 * 3 + 3, 0)
    assert again["warnings"] == [w for w in report["warnings"] if "stored once" not in w["message"]]


def test_dump_the_database_refuses_fails_alone_and_names_its_file(tmp_path):
    # An editor gave the ticker another slug: a dump of a ticker by that title cannot create
    # it again (titles are unique), and says so; a dump of another ticker still lands.
    Ticker.objects.create(title=TITLE, slug="umbenannt")
    refused = write(tmp_path, "a_2025-11-14.txt", page(NOON))
    good = write(tmp_path, "b_2025-11-14.txt", page(MORNING, title="Nahost-Krieg im Liveticker"))
    run, report = ingest_json(refused, good)
    assert run.exit_code == 1
    [failure] = report["failed"]
    assert failure["path"] == str(refused) and "a_2025-11-14.txt" in failure["error"]
    assert "database error" in failure["error"] and "title" in failure["error"]
    assert report["entries_created"] == 1 and Entry.objects.get().headline == MORNING.headline
    assert not SourceDump.objects.filter(file_name=refused.name).exists()
    assert IngestEvent.objects.get(path=str(refused)).status == IngestEvent.Status.FAILED
