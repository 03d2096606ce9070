"""Generate realistic ticker dumps for benchmarks and load tests: same seed, same bytes.

Day pages per ticker, newest first, each also showing the last entries of the evening
before (as the real pages do, so consecutive pages overlap); a Zipf-like German
vocabulary; place and person mentions in their spelling variants; pictures; and the
format's quirks (NO-BREAK SPACE markers, the audio player, CRLF, BOM, CP1252 files).
Pure Python; pages are written one at a time, so memory stays flat for any N.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from ingest.parser import BERLIN, UTC
from ingest.render import DraftEntry, DraftPicture, render_dump

ENTRIES_PER_DAY = 40
EVENING_OVERLAP = 3  # entries of the previous evening repeated at the bottom of a page
NEWEST_DAY = date(2025, 12, 1)

TICKERS = [
    ("Ukraine-Krieg im Liveticker", "Politik"),
    ("Nahost-Krieg im Liveticker", "Politik"),
    ("US-Wahl im Liveticker", "Politik"),
    ("Coronavirus-Liveticker", "Panorama"),
]

# Mentions as the news writes them, spelling variants and genitives included.
PLACES = [
    "Kiew", "Kiews", "Charkiw", "Odessa", "Region Odessa", "Tschornomorsk", "Noworossijsk", "Novorossijsk",
    "Noworossisk", "Krim", "Kursk", "Region Kursk", "Saporischschja", "Region Saporischschja", "Dnipro",
    "Cherson", "Moskau", "Russland", "Russlands", "Ukraine", "Berlin", "Brüssel", "Washington", "Pokrowsk",
    "Region Krasnodar", "Belgorod", "Region Dnipropetrowsk", "Sumy", "Lwiw", "Vilnius", "Budapest", "Paris",
]
PEOPLE = [
    "Wolodymyr Selenskyj", "Selenskyj", "Wladimir Putin", "Putin", "Putins", "Donald Trump", "Trump",
    "Boris Pistorius", "Pistorius", "Friedrich Merz", "Merz", "Kaja Kallas", "Marco Rubio", "Rustem Umerow",
    "Steve Witkoff", "Maria Sacharowa", "Dmitri Peskow", "Sergej Lawrow", "Emmanuel Macron", "Johann Wadephul",
]
ROLES = ["Präsident", "Außenminister", "Gouverneur", "Ministeriumssprecherin", "Bundeskanzler", "Verteidigungsminister"]
WORDS = """
die der und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat
dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis
mehr durch man sein wurde sei ab seit laut nach Angaben Angriff Angriffe Drohnen Drohnenangriff Raketen Armee
Truppen Soldaten Front Regierung Präsident Minister Ministerium Sprecher Behörden Menschen Zivilisten verletzt
getötet Hafen Ölexport Energieinfrastruktur Stromversorgung Waffenruhe Verhandlungen Gespräche Friedensplan
Sanktionen Milliarden Euro Hilfe Unterstützung Luftabwehr Nacht Morgen Abend Stadt Region Gebiet Grenze Lage
Kreml Nato EU USA Bundesregierung Bundeswehr Geheimdienst Berichten zufolge demnach erklärt teilt mit sagt
warnt fordert kündigt an wirft vor bestätigt dementiert meldet berichtet schwer massiv erneut weiterhin
zunächst offenbar angeblich deutlich wichtige neue russische ukrainische deutsche europäische amerikanische
Tote Verletzte Schäden Brand Explosion Evakuierung Wohnhaus Infrastruktur Kraftwerk Umspannwerk Öldepot
Munitionsdepot Kampfjet Panzer Artillerie Marschflugkörper Kriegswinter Offensive Vormarsch Rückzug Kontrolle
""".split()
# The long tail: news vocabulary is Zipf-distributed over tens of thousands of words, so most
# words of an archive are rare. 40,000 compounds (Stromnetzausfall, Hafensicherheitsbehörde)
# continue the ranks after WORDS, in a fixed shuffled order, so that a query for a tail word
# finds tens to hundreds of entries in a million, as a rare word in a real archive does.
TAIL_FIRST = """
Energie Strom Wasser Grenz Luft Bahn Hafen Öl Gas Kriegs Friedens Militär Regierungs Flüchtlings Wahl
Steuer Polizei Kinder Schul Kranken Bau Land See Fluss Wald Feuer Not Hilfs Nahrungs Getreide Dünger
Chemie Atom Kohle Wind Solar Daten Cyber Medien Presse Justiz Gerichts Haushalts Finanz Handels Zoll
Export Import Rüstungs Wetter
""".split()
TAIL_MIDDLE = """
- sicherheits versorgungs schutz verwaltungs notfall ersatz reserve kontroll überwachungs
wiederaufbau transport logistik reparatur leit prüf melde einsatz krisen planungs
""".split()
TAIL_LAST = """
versorgung netz politik gipfel anlage station verkehr krise kommission behörde amt konferenz lager
reform gesetz streit bericht haus dienst ausschuss vertrag abkommen zentrale markt preis mangel
ausfall leitung werk depot terminal korridor route zone plan programm fonds stelle team
""".split()
CAPTION_CREDIT_RE = re.compile(r"^(.+) \+\+\+ dpa-Bildfunk \+\+\+ (\(Foto: [^)]*\))$", re.M)
CREDITS = ["picture alliance/dpa", "IMAGO/ITAR-TASS", "REUTERS", "picture alliance/AP", "IMAGO/Ukrinform"]


def _zipf_weights(count: int, exponent: float = 1.2) -> list[float]:
    return list(accumulate(1 / (rank ** exponent) for rank in range(1, count + 1)))


def _minutes(time_text: str) -> int:
    hours, minutes = time_text.split(":")
    return int(hours) * 60 + int(minutes)


def tail_words() -> list[str]:
    """The long tail of the vocabulary, rarest last; the same list on every run."""
    words = [first + ("" if middle == "-" else middle) + last
             for first in TAIL_FIRST for middle in TAIL_MIDDLE for last in TAIL_LAST]
    random.Random(0).shuffle(words)
    return words


def vocabulary() -> list[str]:
    """Every word the generator writes apart from names, by rank (most frequent first)."""
    return WORDS + tail_words()


@dataclass
class CorpusStats:
    files: int = 0
    entries: int = 0  # distinct entries (those repeated on the next page count once)
    bytes: int = 0


class CorpusGenerator:
    def __init__(self, seed: int, *, more_places: list[str] = (), more_people: list[str] = ()):
        """`more_places` and `more_people`: further names (a gazetteer's, with their spelling
        variants), mentioned less often than the ones the news names every day."""
        self.rng = random.Random(seed)
        self.places = PLACES
        self.people = PEOPLE
        self.more_places = sorted(set(more_places) - set(PLACES))
        self.more_people = sorted(set(more_people) - set(PEOPLE))
        self.vocabulary = vocabulary()
        self.weights = _zipf_weights(len(self.vocabulary))

    def place(self) -> str:
        # One mention in seven names a place beyond the daily ones, as a town hit overnight.
        if self.more_places and self.rng.random() < 0.15:
            return self.rng.choice(self.more_places)
        return self.rng.choice(self.places)

    def person(self) -> str:
        if self.more_people and self.rng.random() < 0.15:
            return self.rng.choice(self.more_people)
        return self.rng.choice(self.people)

    def words(self, count: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self.weights, k=count)

    def sentence(self, length: int) -> str:
        words = self.words(length)
        # Densities measured on the real dumps: 2.6 places and 1.0 people per entry.
        for _ in range(self.rng.choice((0, 0, 0, 0, 1))):
            words.insert(self.rng.randrange(len(words) + 1), self.place())
        if self.rng.random() < 0.12:
            person = self.person()
            if " " in person and self.rng.random() < 0.5:
                person = f"{self.rng.choice(ROLES)} {person}"
            words.insert(self.rng.randrange(len(words) + 1), person)
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence(self.rng.randint(8, 22)) for _ in range(self.rng.randint(2, 4)))

    def headline(self) -> str:
        words = self.words(self.rng.randint(4, 9))
        words.insert(self.rng.randrange(len(words) + 1), self.place())
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        roll = self.rng.random()
        if roll < 0.15:
            return f"{self.person().split()[-1]}: {text}"
        if roll < 0.22:
            return f'"{text}"'
        if roll < 0.24:
            return f'"{text}'  # an unbalanced quote, as on the real pages
        if roll < 0.27:
            return f"{self.rng.randint(2, 400)} {text}"
        return text

    def entry(self, time_text: str) -> DraftEntry:
        if self.rng.random() < 0.04:  # a video announcement: a quote as headline, one sentence
            return DraftEntry(
                time_text=time_text,
                headline=f'ntv-Reporterin in {self.place()}: "{self.sentence(self.rng.randint(3, 6)).rstrip(".")}"',
                paragraphs=[self.sentence(self.rng.randint(8, 16))],
            )
        pictures = []
        if self.rng.random() < 0.05:
            caption = self.sentence(self.rng.randint(8, 16))
            slug = "-".join(w.replace("ö", "oe").replace("ä", "ae").replace("ü", "ue").replace("ß", "ss")
                            for w in caption.rstrip(".").split()[:12])
            pictures.append(DraftPicture(slug, caption, self.rng.choice(CREDITS)))
        return DraftEntry(
            time_text=time_text,
            headline=self.headline(),
            paragraphs=[self.paragraph() for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3)))],
            pictures=pictures,
            audio_player=self.rng.random() < 0.1,
        )

    def day(self, day: date) -> list[DraftEntry]:
        """One day's entries, newest first, at distinct instants of that Berlin day: no 02:xx on
        the day the clocks go forward, and 02:xx twice on the day they go back."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
        next_midnight = datetime(day.year, day.month, day.day, tzinfo=BERLIN) + timedelta(days=1)
        minutes = int((next_midnight.astimezone(UTC) - midnight).total_seconds() // 60)
        instants = sorted(self.rng.sample(range(5, minutes), ENTRIES_PER_DAY), reverse=True)
        entries = [self.entry(f"{(midnight + timedelta(minutes=m)).astimezone(BERLIN):%H:%M}") for m in instants]
        for newer, older in zip(entries, entries[1:]):
            if self.rng.random() < 0.03:
                newer.paragraphs[-1] += f" (Siehe Eintrag um {older.time_text} Uhr)"
        if self.rng.random() < 0.05:  # an editor's late insertion: two close entries out of order
            number = self.rng.randrange(1, len(entries) - 1)
            newer, older = entries[number], entries[number + 1]
            if not {newer.time_text[:2], older.time_text[:2]} & {"02", "03"} and \
                    0 < _minutes(newer.time_text) - _minutes(older.time_text) < 60:
                entries[number], entries[number + 1] = older, newer
        return entries

    def write(self, entries: int, out: Path) -> CorpusStats:
        stats = CorpusStats()
        days_total = max(1, -(-entries // ENTRIES_PER_DAY))
        per_ticker = -(-days_total // len(TICKERS))
        remaining = entries
        for ticker_number, (title, section) in enumerate(TICKERS):
            slug = title.lower().replace(" ", "-").replace("-im-liveticker", "-liveticker")
            folder = out / slug
            folder.mkdir(parents=True, exist_ok=True)
            # Oldest day first, so each page can repeat the previous evening.
            days = min(per_ticker, -(-remaining // ENTRIES_PER_DAY))
            previous: list[DraftEntry] = []
            for offset in range(days - 1, -1, -1):
                day = NEWEST_DAY - timedelta(days=offset + ticker_number)
                today = self.day(day)[: max(1, min(ENTRIES_PER_DAY, remaining))]
                remaining -= len(today)
                page = today + previous[:EVENING_OVERLAP]
                # Older pages have no section or no date line (the date is then in the file name).
                text = render_dump(
                    title=title, section=None if self.rng.random() < 0.03 else section, entries=page,
                    page_datetime=None if self.rng.random() < 0.02 else datetime(day.year, day.month, day.day, 0, 10),
                )
                text = self._layout(text, title, page, len(today))
                stats.bytes += self._save(folder / f"{slug}_{day.isoformat()}.txt", text, page)
                stats.files += 1
                stats.entries += len(today)
                previous = today
            if remaining <= 0:
                break
        return stats

    def _layout(self, text: str, title: str, page: list[DraftEntry], today: int) -> str:
        """The other layouts of dump-format.md, each on a few pages."""
        if self.rng.random() < 0.1:
            text = text.replace(f"{title}+++", f"{title} +++", 1)
        if self.rng.random() < 0.3:  # the credit on a line of its own under the caption
            text = CAPTION_CREDIT_RE.sub(r"\1\n\2", text)
        if self.rng.random() < 0.02:
            text = text.replace("\n\n", "\n")
        if self.rng.random() < 0.01 and len(page) > today:
            # Saved part-way, inside the marker of an evening entry the page before has in full.
            marker = f"+++ {page[today].time_text}"
            cut = text.rfind("\n" + marker)
            if cut > 0:
                text = text[:cut + 1] + marker[:-2]
        return text

    def _save(self, path: Path, text: str, page: list[DraftEntry]) -> int:
        roll = self.rng.random()
        if roll < 0.1 and page:
            text = text.replace(f"+++ {page[0].time_text} ", f"+++ {page[0].time_text}\u00a0", 1)
        if roll < 0.03:
            data = text.encode("cp1252", errors="replace")
        elif roll < 0.08:
            data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
        else:
            data = text.encode()
        path.write_bytes(data)
        return len(data)
