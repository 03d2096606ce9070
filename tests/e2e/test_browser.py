"""What a reader and an editor do, in a real browser: search, narrow by facets, timeline and
map, open an entry, correct it in the admin. Each test leaves a screenshot in screenshots/."""
import re

import pytest

from browser_support import EDITOR, screenshot

# The archive is served from another thread and filled once per module (fixture `site`); the
# mark only makes pytest-django create the test database, the tests write nothing themselves.
pytestmark = pytest.mark.django_db
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[test]')").expect


def test_search_shows_hits_timeline_and_map(page):
    page.goto("/")
    page.locator("#id_q").fill("Angriff")
    page.locator("#id_q").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suche: „Angriff“")
    expect(page.locator(".count")).to_contain_text(re.compile(r"\d+ Einträge"))
    assert page.locator(".entries > li").count() > 0
    expect(page.locator("figure.timeline svg a").first).to_be_visible()
    expect(page.locator(".map .map-place").first).to_be_visible()
    screenshot(page, "search")


def test_pages_ask_the_archive_for_nothing_it_does_not_have(page, site):
    """No 404 behind the reader's back: stylesheets, scripts, map data and the tab's icon."""
    failed = []
    page.on("response", lambda response: response.url.startswith(site) and response.status >= 400
            and failed.append(f"{response.status} {response.url}"))
    # The browser's own request for the tab's icon is no page response: it shows only as this.
    page.on("console", lambda message: "responded with a status of 4" in message.text and failed.append(message.text))
    page.goto("/?q=Angriff")
    expect(page.locator(".map .map-place").first).to_be_visible()
    page.locator(".entries > li a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert not failed, failed


def test_filter_by_region_then_person_from_the_facets(page):
    page.goto("/")
    facets = page.get_by_role("complementary", name="Ergebnisse eingrenzen")
    region = facets.locator("h2:has-text('Regionen und Städte') + ul a").first
    region_name = region.inner_text()
    region.click()
    expect(page).to_have_url(re.compile(r"region="))
    expect(page.locator(".active-filters .tag.place")).to_contain_text(region_name)
    person = facets.locator("h2:has-text('Personen') + ul a").first
    person_name = person.inner_text()
    person.click()
    expect(page).to_have_url(re.compile(r"region=.*person=|person=.*region="))
    expect(page.locator(".active-filters .tag.person")).to_contain_text(person_name)
    # Every hit left names the person (the cards list the people an entry names).
    cards = page.locator(".entries > li")
    assert cards.count() > 0
    for index in range(cards.count()):
        expect(cards.nth(index)).to_contain_text(person_name)
    screenshot(page, "facets-region-person")


def test_open_an_entry(page):
    page.goto("/?q=Noworossijsk")
    first = page.locator(".entries > li h2 a, .entries > li h3 a").first
    headline = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/eintrag/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    screenshot(page, "entry")


def test_follow_a_timeline_bar_on_a_phone(page):
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto("/?q=Kiew")
    bars = page.locator("figure.timeline svg a")
    label = bars.first.get_attribute("aria-label")  # "Mi, 12.11.2025: 3 Einträge"
    day, count = re.match(r"\w+, (\d\d\.\d\d\.\d{4}): (\d+) Eintr", label).groups()
    screenshot(page, "timeline-phone", "figure.timeline")
    bars.first.click()
    dd, mm, yyyy = day.split(".")
    expect(page).to_have_url(re.compile(rf"q=Kiew.*date_from={yyyy}-{mm}-{dd}&date_to={yyyy}-{mm}-{dd}"))
    expect(page.locator(".count")).to_contain_text(f"{count} Eintr")
    # One day: the timeline now counts per hour.
    expect(page.locator("figure.timeline figcaption")).to_contain_text("Treffer pro Stunde")
    screenshot(page, "timeline-bar-followed", "figure.timeline")


STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"


def with_strict_csp(route):
    """The policy another part of the archive sets: the map must work under it."""
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


def test_click_a_map_marker_filters_by_its_place(page):
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.route("**/*", with_strict_csp)
    page.goto("/")
    expect(page.locator(".map path.map-outline").first).to_be_attached()  # the offline outline is drawn
    marker = page.locator(".map-place[title^='Kiew: ']")
    expect(marker).to_be_visible()
    screenshot(page, "map", ".map-section")
    assert not violations, violations
    marker.click()
    expect(page).to_have_url(re.compile(r"region=kiew"))
    expect(page.locator(".active-filters .tag.place")).to_contain_text("Kiew")
    screenshot(page, "map-marker-followed")


def log_in_to(page, path: str) -> None:
    page.goto(f"/admin/login/?next={path}")
    page.get_by_label("Benutzername").fill(EDITOR[0])
    page.get_by_label("Passwort").fill(EDITOR[1])
    page.get_by_role("button", name="Anmelden").click()


def test_editor_corrects_a_headline_in_the_admin(page):
    missing = []  # the admin's pages ask for nothing the archive lacks either (the tab's icon)
    page.on("console", lambda message: "responded with a status of 4" in message.text and missing.append(message.text))
    page.goto("/?q=Noworossijsk")
    permalink = page.locator(".entries > li h2 a, .entries > li h3 a").first.get_attribute("href")
    entry_id = re.search(r"/eintrag/(\d+)/", permalink).group(1)
    log_in_to(page, f"/admin/tickerarchive/entry/{entry_id}/change/")
    headline = page.locator("#id_headline")
    headline.fill("Hafen Noworossijsk: Ölexport wieder aufgenommen")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("erfolgreich")
    page.goto(permalink)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hafen Noworossijsk: Ölexport wieder aufgenommen")
    screenshot(page, "admin-edit-permalink")
    assert not missing, missing


def test_editor_removes_a_place_the_linker_found_and_restores_it(page):
    page.goto("/?q=Tschornomorsk")
    permalink = page.locator(".entries > li h2 a, .entries > li h3 a").first.get_attribute("href")
    entry_id = re.search(r"/eintrag/(\d+)/", permalink).group(1)
    tags = page.locator("p.tags")
    log_in_to(page, f"/admin/tickerarchive/entry/{entry_id}/change/")
    found = page.locator(".field-remove_places")
    expect(found).to_contain_text(re.compile(r"Tschornomorsk \(\d+ Nennung(en)?\)"))
    found.get_by_label(re.compile("Tschornomorsk")).check()
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("erfolgreich")
    expect(page.locator("#entryplace_set-group")).to_contain_text("Tschornomorsk (entfernt)")
    screenshot(page, "admin-link-removed", "#entryplace_set-group")
    page.goto(permalink)
    expect(tags.first).to_be_visible()
    expect(page.locator("p.tags a.place", has_text="Tschornomorsk")).to_have_count(0)
    # Unticked again, the link the linker found counts once more (readers see the archive as before).
    page.goto(f"/admin/tickerarchive/entry/{entry_id}/change/")
    page.locator("#id_entryplace_set-0-removed").uncheck()
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("erfolgreich")
    page.goto(permalink)
    expect(page.locator("p.tags a.place", has_text="Tschornomorsk")).to_have_count(1)
