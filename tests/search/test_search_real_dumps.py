"""Searches over the two real dumps (skipped where ../shared is absent)."""
import pytest

from ingest.loader import DumpLoader
from support import SHARED

REAL = SHARED / "dumps" / "ntv"
pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not REAL.is_dir(), reason="../shared is not present")]


@pytest.fixture
def real_archive(db):
    for path in sorted(REAL.glob("*.txt")):
        assert DumpLoader().load(path).created > 0


def results(client, **params):
    data = client.get("/api/entries/", params).json()
    return data["count"], [r["headline"] for r in data["results"]]


def test_the_30th_of_november_holds_its_four_evening_entries(client, real_archive):
    count, headlines = results(client, date_from="2025-11-30", date_to="2025-11-30")
    assert count == 4
    assert headlines == ["Flughafen in Vilnius erneut lahmgelegt", "Sieben Zivilisten in Cherson verletzt",
                         "Ukraine-Verhandlungen beendet", "Rubio sieht weiteren Verhandlungsbedarf"]


def test_energieinfrastruktur_finds_pistorius(client, real_archive):
    count, headlines = results(client, q="Energieinfrastruktur")
    assert '"Menschenverachtung": Pistorius verurteilt Putins Angriffe auf Energieinfrastruktur' in headlines


def test_exclusion_narrows(client, real_archive):
    with_trump, _ = results(client, q="Putin")
    without_trump, headlines = results(client, q="Putin -Trump")
    assert 0 < without_trump < with_trump
    assert not any("Trump" in h for h in headlines)
