"""Property-based tests of the parser: round trips, and any input is handled or rejected cleanly.

`make fuzz` runs the `fuzz` profile: 3 x FUZZ_EXAMPLES inputs (default 34,000: 102,000 in all),
shared by cost: a generated page costs about fifteen random byte strings.
"""
import os
import string
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.parser import BERLIN, DumpError, LineRole, parse_dump
from ingest.render import DraftEntry, DraftPicture, render_dump

settings.register_profile("default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 34_000))


def fuzz_share(share: float):
    """This test's part of the fuzz budget (the shares add up to 3); in other profiles the profile's count."""
    if os.environ.get("HYPOTHESIS_PROFILE") != "fuzz":
        return lambda test: test
    return settings(max_examples=int(FUZZ_EXAMPLES * share))

LETTERS = string.ascii_letters + "äöüÄÖÜß"
word = st.text(LETTERS, min_size=1, max_size=12)
sentence = st.lists(word, min_size=1, max_size=25).map(" ".join).map(lambda s: s + ".")
headline_text = st.lists(
    st.one_of(word, st.sampled_from(['"Zitat"', "Kiew:", "-", "12", '"offen', "Trump-Putin-Treffen"])),
    min_size=1, max_size=12,
).map(" ".join)
picture = st.builds(
    DraftPicture,
    slug=st.one_of(st.none(), st.lists(word, min_size=2, max_size=8).map("-".join)),
    caption=sentence,
    credit=st.one_of(st.none(), st.sampled_from(["picture alliance/dpa", "IMAGO/ITAR-TASS", "REUTERS"])),
)


@st.composite
def pages(draw):
    """A well-formed page: entries newest first, an hour or more apart, crossing midnight."""
    count = draw(st.integers(1, 30))
    newest = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)))
    newest = newest.replace(second=0, microsecond=0)
    gaps = draw(st.lists(st.integers(1, 240), min_size=count - 1, max_size=count - 1))
    times = [newest]
    for gap in gaps:
        times.append(times[-1] - timedelta(minutes=gap))
    entries = [
        DraftEntry(
            f"{t:%H:%M}", draw(headline_text),
            draw(st.lists(sentence, min_size=1, max_size=3)),
            draw(st.lists(picture, max_size=1)),
        )
        for t in times
    ]
    opened = newest.replace(hour=0, minute=10)
    return entries, times, opened


def on_clock_change_day(times) -> bool:
    """Wall times on the two clock-change days are ambiguous or missing: checked in test_times."""
    for t in times:
        probe = t.replace(hour=2, minute=30, tzinfo=BERLIN)
        if probe.utcoffset() != probe.replace(fold=1).utcoffset():
            return True
    return False


@fuzz_share(0.25)
@given(pages(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_rendered_page_parses_back_to_the_same_entries(page, newline, with_bom):
    entries, times, opened = page
    # Steps of 60-119 minutes upward never occur here: entries only go back in time.
    text = render_dump(title="Test-Liveticker", entries=entries, page_datetime=opened, newline=newline)
    data = ("\ufeff" + text if with_bom else text).encode()
    parsed = parse_dump(data, path="page.txt")
    assert parsed.title == "Test-Liveticker"
    assert [e.headline for e in parsed.entries] == [e.headline for e in entries]
    assert [e.paragraphs for e in parsed.entries] == [e.paragraphs for e in entries]
    assert [[(p.slug, p.caption, p.credit) for p in e.pictures] for e in parsed.entries] == [
        [(p.slug, p.caption, p.credit) for p in e.pictures] for e in entries
    ]
    if not on_clock_change_day(times):
        assert [e.published_at.replace(tzinfo=None) for e in parsed.entries] == times
    assert parsed.unparsed_lines == []


@fuzz_share(1.75)
@given(st.binary(max_size=3000))
def test_any_bytes_parse_or_fail_with_a_dump_error(data):
    try:
        parsed = parse_dump(data, path="fuzz.txt")
    except DumpError as err:
        assert str(err).startswith("fuzz.txt")
        return
    assert_every_line_accounted_for(parsed)


marker_like = st.sampled_from([
    "+++ 12:00 Schlagzeile +++", "+++ 23:59 \"Zitat +++", "+++ 18:", "+++", "Ticker+++ 00:01 A +++",
    "14.11.2025, 00:10 Uhr", "00:00", "(Foto: IMAGO)", "Bild-von-etwas-hier", "x +++ dpa-Bildfunk +++",
    "Alle früheren Entwicklungen können Sie hier nachverfolgen.", "Politik", "", "\u00a0", "+++ 25:61 X +++",
    "+++ 02:30 Uhr +++", "<p>", "Diese Audioversion wurde künstlich generiert. Mehr Infos",
])


@fuzz_share(1.0)
@given(st.lists(st.one_of(marker_like, st.text(max_size=80)), max_size=60), st.sampled_from(["\n", "\r\n", "\r"]))
def test_line_soup_parses_or_fails_cleanly_and_accounts_for_every_line(lines, newline):
    data = newline.join(lines).encode("utf-8", "surrogatepass")
    try:
        parsed = parse_dump(data, path="soup.txt", default_date=datetime(2025, 10, 26).date())
    except DumpError:
        return
    assert_every_line_accounted_for(parsed)


def assert_every_line_accounted_for(parsed):
    import re

    lines = re.split(r"\r\n|\r|\n", parsed.text)
    non_blank = {n for n, line in enumerate(lines, start=1) if line.strip(" \t\f\v\u00a0\u200b\u2060\ufeff\x85\u2028\u2029\u3000\u202f\u205f\u1680" + "".join(chr(c) for c in range(0x2000, 0x200b)))}
    assert non_blank <= set(parsed.line_roles), sorted(non_blank - set(parsed.line_roles))[:5]
    body_lines = sum(1 for role in parsed.line_roles.values() if role is LineRole.BODY)
    assert body_lines == sum(len(e.paragraphs) for e in parsed.entries)
    assert {u.line for u in parsed.unparsed_lines} == {
        n for n, role in parsed.line_roles.items() if role is LineRole.UNPARSED
    }
