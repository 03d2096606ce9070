"""Shared by the browser tests and their fixtures."""
import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # gitignored; looked at by people
EDITOR = ("redakteurin", "e2e-geheim-2025")


def screenshot(page, name: str, part: str | None = None) -> None:
    """The visible part of the page, or only the element `part` (a CSS selector)."""
    path = str(SCREENSHOTS / f"{name}.png")
    page.locator(part).screenshot(path=path) if part else page.screenshot(path=path)
