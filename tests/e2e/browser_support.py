"""Shared by the browser tests and their fixtures."""
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # gitignored; looked at by people
EDITOR = ("redakteurin", "e2e-geheim-2025")


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
