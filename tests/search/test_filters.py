"""Filters: dates in Berlin time, ticker, region with its towns, person; invalid values."""
import pytest

pytestmark = pytest.mark.django_db


def api(client, **params):
    return client.get("/api/entries/", params)


def headlines(client, **params):
    response = api(client, **params)
    assert response.status_code == 200, response.content
    return {r["headline"] for r in response.json()["results"]}


def test_date_range_is_inclusive_in_berlin_time(client, archive):
    day_before = headlines(client, date_from="2025-11-13", date_to="2025-11-13")
    assert day_before == {"Trump und Putin telefonieren", "Spätmeldung: Explosionen in Kiew"}
    fourteenth = headlines(client, date_from="2025-11-14", date_to="2025-11-14", ticker="ukraine-krieg-im-liveticker")
    # 00:20 Berlin time is 23:20 UTC the day before: it belongs to the 14th.
    assert "Luftalarm in Kiew" in fourteenth and "Trump und Putin telefonieren" not in fourteenth
    assert len(fourteenth) == 5


def test_ticker_filter(client, archive):
    assert headlines(client, ticker="nahost-krieg-im-liveticker") == {
        "Waffenruhe in Gaza hält", "<script>alert(1)</script> Angriff gemeldet",
    }


def test_region_includes_its_towns(client, archive):
    assert headlines(client, region="region-odessa") == {"Tote nach Angriffen auf Markt"}
    assert "Luftalarm in Kiew" in headlines(client, region="ukraine")


def test_person_filter_and_removed_links(client, archive):
    from tickerarchive.models import EntryPerson

    linked = headlines(client, person="wladimir-putin")
    assert "Trump und Putin telefonieren" in linked
    EntryPerson.objects.filter(entry__headline="Trump und Putin telefonieren").update(removed=True)
    assert "Trump und Putin telefonieren" not in headlines(client, person="wladimir-putin")


@pytest.mark.parametrize("params, field", [
    ({"date_from": "14.11.2025x"}, "date_from"),
    ({"date_from": "2025-11-15", "date_to": "2025-11-14"}, "date_to"),
    ({"ticker": "gibt-es-nicht"}, "ticker"),
    ({"region": "atlantis"}, "region"),
    ({"person": "niemand"}, "person"),
    ({"order": "zufall"}, "order"),
])
def test_invalid_values_give_a_clear_message(client, archive, params, field):
    response = api(client, **params)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field] and errors[field][0]
    page = client.get("/", params)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'aria-describedby="id_{field}_error"' in html  # the field points screen readers at its message
    assert f'id="id_{field}_error"' in html and errors[field][0].replace('"', "&quot;")[:20] in html


def test_error_messages_name_the_value(client, archive):
    errors = client.get("/api/entries/", {"region": "atlantis", "person": "niemand", "ticker": "x"}).json()["errors"]
    assert errors["region"] == ["Einen Ort mit der Kennung „atlantis“ gibt es nicht."]
    assert errors["person"] == ["Eine Person mit der Kennung „niemand“ gibt es nicht."]
    assert errors["ticker"] == ["Einen Ticker „x“ gibt es im Archiv nicht."]
