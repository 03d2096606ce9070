"""Writes the fixtures whose bytes matter (encodings, line ends, binary). Run from this folder."""
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = (
    "Politik\n\nUkraine-Krieg im Liveticker+++ 13:15 Schäden an Ölverladeanlage in Noworossijsk +++\n\n"
    "14.11.2025, 00:10 Uhr\n\n„Der Betrieb ruht“, sagen Insider – die Reparatur dauert. Größere Schäden gebe es nicht.\n\n"
    "+++ 12:50 Orbán will gegen Gasverbot klagen +++\n\nUngarns Regierungschef Viktor Orbán kündigt eine Klage an.\n\n"
    "Alle früheren Entwicklungen können Sie hier nachverfolgen."
)

(HERE / "cp1252_2025-11-14.txt").write_bytes(PAGE.encode("cp1252"))
(HERE / "latin1_2025-11-14.txt").write_bytes(PAGE.replace("„", '"').replace("“", '"').replace("–", "-").encode("latin-1"))
(HERE / "crlf-bom_2025-11-14.txt").write_bytes(b"\xef\xbb\xbf" + PAGE.replace("\n", "\r\n").encode())
(HERE / "cr-only_2025-11-14.txt").write_bytes(PAGE.replace("\n", "\r").encode())
(HERE / "junk-binary.txt").write_bytes(bytes(range(256)) * 4)
