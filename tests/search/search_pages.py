"""Invented ticker pages for the search tests, rendered in the real dump format."""
from datetime import datetime

from ingest.render import DraftEntry as E, render_dump

UKRAINE = "Ukraine-Krieg im Liveticker"


def page(title, opened, *entries):
    return render_dump(title=title, entries=list(entries), page_datetime=opened).encode()


def corpus_pages() -> dict[str, bytes]:
    return {
        "ukraine_2025-11-14.txt": page(
            UKRAINE, datetime(2025, 11, 14, 0, 10),
            E("16:05", "Kreml: Warnungen sind Panikmache", ["Putin lässt ausrichten, die Nato übertreibe."]),
            E("15:34", "Pistorius verurteilt Putins Angriffe auf Energieinfrastruktur", ["Russland greife die Stromversorgung an."]),
            E("12:25", "Tote nach Angriffen auf Markt", ["In Tschornomorsk in der Region Odessa sterben zwei Menschen."]),
            E("09:53", "Schwarzmeerhafen Noworossijsk stoppt Ölexport", ["Nach dem Angriff ruht der Export."]),
            E("00:20", "Luftalarm in Kiew", ["Kurz nach Mitternacht heulen in Kiew die Sirenen."]),
            E("23:50", "Trump und Putin telefonieren", ["Trump spricht von einem guten Gespräch mit Putin."]),
            E("23:58", "Spätmeldung: Explosionen in Kiew", ["In Kiew sind Explosionen zu hören."]),
        ),
        "ukraine_2025-11-12.txt": page(
            UKRAINE, datetime(2025, 11, 12, 0, 10),
            E("10:00", "Hafen von Noworossijsk erneut getroffen", ["Der Hafen am Schwarzen Meer brennt."]),
        ),
        "nahost_2025-11-14.txt": page(
            "Nahost-Krieg im Liveticker", datetime(2025, 11, 14, 0, 10),
            E("11:00", "Waffenruhe in Gaza hält", ["Die Vermittler sind zuversichtlich."]),
            E("10:30", "<script>alert(1)</script> Angriff gemeldet", ['Ein Text mit <b>Tags</b> & "Zeichen" zum Angriff.']),
        ),
    }
