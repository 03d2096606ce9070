"""Parser tests: plain functions on bytes, no Django settings and no database.

`parse_fixture("name.txt", **options)` parses tests/fixtures/dumps/name.txt as the ingest
command would (its path goes along, for messages and the date in the file name).
"""
from datetime import timezone

import pytest

from ingest.parser import ParsedDump, parse_dump
from support import FIXTURE_DUMPS


@pytest.fixture
def parse_fixture():
    def parse(name: str, **options) -> ParsedDump:
        path = FIXTURE_DUMPS / name
        return parse_dump(path.read_bytes(), path=str(path), **options)
    return parse


@pytest.fixture
def times():
    """Entry times as a user reads them: ISO 8601 with the UTC offset (None when undated)."""
    def times(dump: ParsedDump) -> list[str | None]:
        return [e.published_at.isoformat() if e.published_at else None for e in dump.entries]
    return times


@pytest.fixture
def utc():
    """An entry's instant in UTC, independent of how the wall time is written."""
    def utc(moment):
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return utc


@pytest.fixture(autouse=True)
def _plain_static_storage():
    """Replaces tests/conftest.py's fixture of that name: it needs Django settings, these tests nothing."""
