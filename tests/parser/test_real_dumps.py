"""The two real dumps (../shared/dumps/ntv) against their expected parses (../shared/expected).

Skipped where ../shared is not beside the repository. Compared as a reader sees them: times
with their UTC offset, headlines and bodies with whitespace normalised, pictures; and once
through the command's contract, `ingest --dry-run --json` checked by the shared check_parse.py.
"""
import json
import re
import subprocess
import sys
from datetime import datetime

import pytest

from ingest.parser import parse_dump
from support import SHARED, run_command

NAMES = ["ukraine-liveticker_2025-11-14", "ukraine-liveticker_2025-12-01"]

pytestmark = pytest.mark.skipif(
    not (SHARED / "dumps" / "ntv").is_dir() or not (SHARED / "expected").is_dir(),
    reason="../shared (the real dumps and their expected parses) is not present",
)


def norm(text):
    return re.sub(r"\s+", " ", (text or "").replace("\u00a0", " ")).strip()


@pytest.fixture(params=NAMES)
def real(request):
    path = SHARED / "dumps" / "ntv" / f"{request.param}.txt"
    expected = json.loads((SHARED / "expected" / f"{request.param}.json").read_text(encoding="utf-8"))
    return parse_dump(path.read_bytes(), path=str(path)), expected


def test_all_61_entries_are_expected():
    total = sum(
        len(json.loads((SHARED / "expected" / f"{name}.json").read_text(encoding="utf-8"))["entries"])
        for name in NAMES
    )
    assert total == 61


def test_header_and_footer(real):
    dump, expected = real
    assert (dump.section, dump.title, dump.footer) == (expected["section"], expected["title"], expected["footer"])
    assert dump.page_datetime == datetime.fromisoformat(expected["page_datetime"])
    assert dump.page_datetime.utcoffset() == datetime.fromisoformat(expected["page_datetime"]).utcoffset()
    assert dump.date_source == "page"


def test_entry_times_with_offsets(real):
    dump, expected = real
    assert [e.published_at.isoformat() for e in dump.entries] == [
        datetime.fromisoformat(e["published_at"]).isoformat() for e in expected["entries"]
    ]


def test_headlines_and_marker_lines(real):
    dump, expected = real
    assert [(e.line, norm(e.headline)) for e in dump.entries] == [
        (e["line"], norm(e["headline"])) for e in expected["entries"]
    ]


def test_bodies(real):
    dump, expected = real
    assert len(dump.entries) == len(expected["entries"])
    for entry, want in zip(dump.entries, expected["entries"]):
        assert [norm(p) for p in entry.paragraphs] == [norm(p) for p in want["body"]], want["headline"]


def test_pictures(real):
    dump, expected = real
    assert [[(p.slug, norm(p.caption), p.credit) for p in e.pictures] for e in dump.entries] == [
        [(c["slug"], norm(c["caption"]), c["credit"]) for c in e.get("captions", [])] for e in expected["entries"]
    ]


def test_nothing_unparsed_and_no_warnings(real):
    dump, expected = real
    assert [u.as_dict() for u in dump.unparsed_lines] == expected["unparsed"]
    assert dump.warnings == []
    assert dump.missing == []


def test_the_evening_before_ends_each_page(real):
    dump, _ = real
    newest_day = dump.entries[0].published_at.date()
    previous_evening = [e for e in dump.entries if e.published_at.date() < newest_day]
    assert len(previous_evening) in (3, 4)
    assert previous_evening == dump.entries[-len(previous_evening):]


def test_ingest_dry_run_json_passes_the_shared_check(tmp_path):
    run = run_command("ingest", "--dry-run", "--json", SHARED / "dumps" / "ntv")
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "out.json"
    out.write_text(run.stdout, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "check_parse.py"), str(SHARED / "expected"), str(out)],
        capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stdout
    assert check.stdout.strip().endswith("entries exact: 61/61")
