"""Pages of an invented ticker for the editorial tests."""
from datetime import datetime

from ingest.render import DraftEntry, DraftPicture, render_dump

TITLE = "Ukraine-Krieg im Liveticker"
PORT = DraftEntry(
    "09:53", "Hafen Noworossijsk stoppt Ölexport",
    ["Nach einem Drohnenangriff stoppt der Hafen Noworossijsk den Export."],
    [DraftPicture("Hafen-Noworossijsk-am-Morgen", "Der Hafen am Morgen.", "picture alliance/dpa")],
)
MARKET = DraftEntry("08:10", "Angriff auf Markt in Region Odessa", ["In Tschornomorsk sterben zwei Menschen."])


def page_bytes(*entries) -> bytes:
    return render_dump(title=TITLE, entries=list(entries), page_datetime=datetime(2025, 11, 14, 0, 10)).encode()
