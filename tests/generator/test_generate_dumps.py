"""`generate_dumps`: corpora for benchmarks must be reproducible, parse like the real pages
(quirks included) and read like news: a few words everywhere, most words rare, places and
people in the spellings the gazetteer knows."""
import hashlib
import re
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db.models import Count
from django.db.models.functions import TruncDate

from ingest.generator import ENTRIES_PER_DAY, PEOPLE, PLACES, WORDS, CorpusGenerator
from ingest.parser import BERLIN, parse_dump
from support import run_command
from tickerarchive.models import Entry, Place
from tickerarchive.search import linked_to_any

ENTRIES = 8000  # 200 pages: enough for the quirks of a few pages in a hundred


def corpus_digest(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.txt")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def generate(folder, entries=ENTRIES, seed=1):
    run = run_command("generate_dumps", "--entries", entries, "--seed", seed, "--out", folder)
    assert run.exit_code == 0, run.stderr
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("corpus"))


def test_same_seed_same_bytes_other_seed_other_bytes(corpus, tmp_path):
    assert corpus_digest(generate(tmp_path / "again")) == corpus_digest(corpus)
    assert corpus_digest(generate(tmp_path / "other", seed=2)) != corpus_digest(corpus)


def utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_every_page_parses_completely_and_has_the_quirks_of_the_real_pages(corpus):
    pages = sorted(corpus.rglob("*.txt"))
    warnings, texts, unparsed = [], [], []
    for path in pages:
        parsed = parse_dump(path.read_bytes(), path=path.name)
        assert not parsed.missing and all(entry.published_at for entry in parsed.entries), path.name
        non_blank = [n for n, line in enumerate(parsed.text.splitlines(), 1) if line.strip()]
        assert set(non_blank) <= set(parsed.line_roles)
        warnings += [w.message for w in parsed.warnings]
        unparsed += [u.reason for u in parsed.unparsed_lines]
        texts.append(parsed.text)
    raw = [path.read_bytes() for path in pages]
    assert sum(data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data for data in raw) >= 2
    assert sum(not utf8(data) for data in raw) >= 1  # saved as CP1252
    assert any(re.search(r"\+\+\+ \d\d:\d\d\u00a0", text) for text in texts)
    assert any("Liveticker +++ " in text for text in texts) and any("Liveticker+++ " in text for text in texts)
    assert any(not text.startswith(("Politik", "Panorama", "\ufeff")) for text in texts)  # no section line
    assert any(not re.search(r"^\d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr$", text, re.M) for text in texts)
    assert any("\n\n" not in text for text in texts)  # no blank lines at all
    assert any(re.search(r"dpa-Bildfunk \+\+\+ \(Foto: ", text) for text in texts)
    assert any(re.search(r"^\(Foto: [^)]+\)$", text, re.M) for text in texts)  # credit on its own line
    assert any("Diese Audioversion wurde künstlich generiert" in text for text in texts)
    assert any("(Siehe Eintrag um " in text for text in texts)
    assert any(re.search(r'\+\+\+ \d\d:\d\d "[^"]*\+\+\+', text) for text in texts)  # unbalanced quote
    assert any(re.search(r"\+\+\+ \d\d:\d\d \d+ ", text) for text in texts)  # headline starts with a number
    assert any("read as a late insertion" in message for message in warnings)
    # The only lines left over are the cut-off markers of pages saved part-way.
    assert unparsed and set(unparsed) == {"incomplete entry marker at the end of the file"}


def test_days_follow_the_clock_changes():
    generator = CorpusGenerator(3)
    march = [entry.time_text for _ in range(20) for entry in generator.day(date(2025, 3, 30))]
    assert not [t for t in march if t.startswith("02:")]
    # In October 02:00-02:59 comes twice: on a newest-first page the clock then goes up
    # inside that hour (02:05, then 02:40).
    october = [[entry.time_text for entry in generator.day(date(2025, 10, 26))] for _ in range(20)]
    assert any(
        newer < older and newer.startswith("02:") and older.startswith("02:")
        for times in october for newer, older in zip(times, times[1:])
    )


@pytest.mark.django_db
def test_ingested_corpus_has_every_entry_once_on_its_berlin_day(corpus, gazetteer):
    run = run_command("ingest", corpus)
    assert run.exit_code == 0, run.stderr
    # Each page repeats the evening before; those repeats must fold into the day they belong to.
    assert Entry.objects.count() == ENTRIES
    per_day = (Entry.objects.annotate(day=TruncDate("published_at", tzinfo=BERLIN))
               .values("ticker", "day").annotate(n=Count("id")))
    assert {row["n"] for row in per_day} == {ENTRIES_PER_DAY}
    newest = Entry.objects.order_by("-published_at").first().published_at.astimezone(BERLIN)
    assert newest.date() - Entry.objects.order_by("published_at").first().published_at.astimezone(BERLIN).date() \
        > timedelta(days=ENTRIES // ENTRIES_PER_DAY // 4 - 2)

    # Mentions come from the gazetteer, spelling variants included, well beyond the daily names.
    linked = Entry.objects.linked_ids(Entry.objects.values_list("pk", flat=True)).values()
    assert len({pk for places, _ in linked for pk in places}) > 3 * len(PLACES)
    noworossijsk = Place.objects.get(name="Noworossijsk")
    spellings = Counter()
    for entry in Entry.objects.filter(linked_to_any("place", [noworossijsk.pk])):
        text = entry.headline + " " + entry.body
        spellings.update(s for s in ("Noworossijsk", "Novorossijsk", "Noworossisk") if s in text)
    assert len(spellings) == 3
    assert len({pk for _, people in linked for pk in people}) > len(PEOPLE) // 2


def test_vocabulary_is_zipf_like_with_a_long_tail(corpus):
    words = Counter()
    for path in corpus.rglob("*.txt"):
        for entry in parse_dump(path.read_bytes(), path=path.name).entries:
            words.update(entry.body.split())
    ranked = [count for _, count in words.most_common()]
    # A few words everywhere, and most words rare, as in real text (and unlike a short word list,
    # where every query word would match a large share of the archive).
    assert len(words) > 10 * len(WORDS)
    assert sum(1 for count in ranked if count <= 3) > len(words) / 3
    assert ranked[0] > 1000 * ranked[len(ranked) // 2]
