"""/api/openapi.json describes the API as it answers: real responses are checked against it."""
import copy
import csv
import io
import json

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from tickerarchive.models import Entry
from tickerarchive.openapi import SPEC

pytestmark = pytest.mark.django_db

SEARCHES = [
    {"q": "Kiew"}, {"q": "Noworossijsk", "region": "ukraine"}, {"person": "wladimir-putin", "order": "relevance", "q": "Putin"},
    {"date_from": "2025-11-14", "date_to": "2025-11-14", "ticker": "ukraine-krieg-im-liveticker"}, {"q": "Mondlandung"},
    {"q": "Nowoross"},  # no whole word: the prefix fallback
    {},
]
INVALID = [{"date_from": "2025-02-30"}, {"region": "atlantis", "person": "niemand"}, {"order": "zufall"},
           {"date_from": "2025-11-14", "date_to": "2025-11-01"}]


@pytest.fixture
def openapi(client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(SPEC))
    return OpenAPI.from_dict(served.json())


def check(openapi, response):
    """Validates the response against the operation of its path and method; raises if it differs."""
    openapi.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
    return response


def test_the_description_is_valid_openapi_and_names_every_endpoint(client):
    validate_spec(SPEC)
    assert set(SPEC["paths"]) == {
        "/api/entries/", "/api/entries/{id}/", "/api/places/", "/api/people/",
        "/api/entries.csv", "/api/entries.jsonl", "/feed/", "/api/openapi.json",
    }
    check(OpenAPI.from_dict(SPEC), client.get("/api/openapi.json"))


@pytest.mark.parametrize("params", SEARCHES)
def test_search_pages(client, archive, openapi, params):
    response = check(openapi, client.get("/api/entries/", params))
    assert response.status_code == 200
    following = response.json()["next"]
    if following:
        check(openapi, client.get(following))


def test_every_page_and_entry(client, hostile_archive, openapi):
    url, params = "/api/entries/", {}
    while url:
        data = check(openapi, client.get(url, params)).json()
        url, params = data["next"], None
    for entry in Entry.objects.all():
        assert check(openapi, client.get(f"/api/entries/{entry.pk}/")).status_code == 200
    assert check(openapi, client.get("/api/entries/999999/")).status_code == 404


@pytest.mark.parametrize("path", ["/api/entries/", "/api/entries.csv", "/api/entries.jsonl", "/feed/"])
def test_invalid_parameters(client, archive, openapi, path):
    for params in INVALID:
        assert check(openapi, client.get(path, params)).status_code == 400


def test_places_and_people(client, archive, openapi):
    for q in ["", "kiew", "Tschornomorsk", "Odesa", "putin", "zzz"]:
        assert check(openapi, client.get("/api/places/", {"q": q})).status_code == 200
        assert check(openapi, client.get("/api/people/", {"q": q})).status_code == 200


@pytest.mark.parametrize("params", SEARCHES)
def test_exports_and_feed(client, hostile_archive, openapi, params):
    rows = OAS31Validator(SPEC["components"]["schemas"]["ExportRow"])
    lines = client.get("/api/entries.jsonl", params)
    text = b"".join(lines.streaming_content).decode()
    if text:  # openapi-core takes an empty body (no hits, no lines) for a missing one
        check(openapi, client.get("/api/entries.jsonl", params))
    for line in text.splitlines():
        rows.validate(json.loads(line))
    table = check(openapi, client.get("/api/entries.csv", params))
    header = next(csv.reader(io.StringIO(b"".join(table.streaming_content).decode())))
    assert header == list(SPEC["components"]["schemas"]["ExportRow"]["properties"])
    assert check(openapi, client.get("/feed/", params)).status_code == 200


def broken(change) -> OpenAPI:
    spec = copy.deepcopy(SPEC)
    change(spec["components"]["schemas"])
    return OpenAPI.from_dict(spec)


@pytest.mark.parametrize("change", [
    lambda schemas: schemas["EntrySummary"]["properties"].pop("snippet"),  # a field the API sends, unknown to the spec
    lambda schemas: schemas["EntrySummary"]["properties"].update(id={"type": "string"}),  # a wrong type
    lambda schemas: schemas["EntryList"]["required"].append("total"),  # a field the API does not send
], ids=["undescribed-field", "wrong-type", "missing-field"])
def test_a_spec_that_differs_from_the_responses_fails(client, archive, change):
    with pytest.raises(Exception, match="(?i)invalid|validat"):
        check(broken(change), client.get("/api/entries/", {"q": "Kiew"}))


def test_a_wrong_error_shape_fails(client, archive):
    spec = broken(lambda schemas: schemas["Errors"]["properties"]["errors"].update(additionalProperties={"type": "string"}))
    with pytest.raises(Exception, match="(?i)invalid|validat"):
        check(spec, client.get("/feed/", {"order": "zufall"}))
