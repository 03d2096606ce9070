"""The two real dumps, through the command's contract: `ingest --dry-run --json` checked by
the shared check_parse.py against the expected parses (skipped where ../shared is absent)."""
import json
import subprocess
import sys

import pytest

from support import SHARED, run_command

pytestmark = pytest.mark.skipif(not (SHARED / "dumps" / "ntv").is_dir(), reason="../shared is not present")


def test_real_dumps_parse_exactly(tmp_path):
    run = run_command("ingest", "--dry-run", "--json", SHARED / "dumps" / "ntv")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    out = tmp_path / "out.json"
    out.write_text(run.stdout, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "check_parse.py"), str(SHARED / "expected"), str(out)],
        capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stdout
    assert check.stdout.strip().endswith("entries exact: 61/61")
    by_name = {f["path"].rsplit("/", 1)[-1]: f for f in report["files"]}
    for name, count, previous_evening, previous_day in (
        ("ukraine-liveticker_2025-11-14.txt", 30, 3, "2025-11-13"),
        ("ukraine-liveticker_2025-12-01.txt", 31, 4, "2025-11-30"),
    ):
        entries = by_name[name]["entries"]
        assert len(entries) == count
        assert sum(e["published_at"].startswith(previous_day) for e in entries) == previous_evening
        assert by_name[name]["unparsed_lines"] == [] and by_name[name]["warnings"] == []
