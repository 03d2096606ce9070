"""The OpenAPI 3.1 description of the JSON API, the exports and the feed, served at /api/openapi.json.

Objects forbid fields the description does not name, so a test that checks real responses
against it notices any field added, dropped or changed in a view.
"""
from tickerarchive.search import COUNT_CAP


def german_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict, **optional) -> dict:
    return {"type": "object", "required": list(required), "properties": {**required, **optional},
            "additionalProperties": False}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
URL = {"type": "string", "format": "uri"}
BERLIN_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with the Berlin offset (+01:00 or +02:00)"}


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or STRING}


SEARCH_PARAMETERS = [
    query("q", 'Volltext (deutsch) in Websuche-Syntax: Wörter finden ihre Formen, "Wortgruppe", -Ausschluss, OR'),
    query("date_from", "erster Tag (Berliner Zeit), einschließlich", {"type": "string", "format": "date"}),
    query("date_to", "letzter Tag (Berliner Zeit), einschließlich", {"type": "string", "format": "date"}),
    query("ticker", "Kennung (slug) eines Tickers"),
    query("region", "Kennung eines Orts; eine Region schließt ihre Orte ein"),
    query("person", "Kennung einer Person"),
    query("order", "Reihenfolge; Exporte und Feed sind immer neueste zuerst. Nach Relevanz werden die neuesten "
          f"{german_number(COUNT_CAP)} Treffer geordnet (ranked_among_newest sagt, wenn es mehr gab)",
          {"type": "string", "enum": ["newest", "relevance"], "default": "newest"}),
]
PAGE_PARAMETERS = [
    query("nach", "Cursor der nächsten (älteren) Seite, aus `next`"),
    query("vor", "Cursor der vorherigen (neueren) Seite, aus `previous`"),
    query("seite", "Seitennummer bei order=relevance", {"type": "integer", "minimum": 1}),
]
NAME_PARAMETERS = [query("q", "Name oder Alias; Groß-/Kleinschreibung, Akzente und kleine Tippfehler egal")]


def json_body(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


INVALID = {"400": json_body(ref("Errors"), "ungültige Parameter, je Parameter die Meldungen")}


def export_operation(media_type: str, summary: str, row: str) -> dict:
    return {"get": {
        "summary": summary, "parameters": SEARCH_PARAMETERS,
        "responses": {
            "200": {
                "description": f"das ganze Ergebnis, neueste zuerst, gestreamt; {row}",
                "headers": {"Content-Disposition": {"schema": STRING, "description": "attachment; filename=…"}},
                "content": {media_type: {}},  # not JSON: no schema, the description says what a row holds
            },
            **INVALID,
        },
    }}


LINK = obj({"slug": STRING, "name": STRING})

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Ticker-Archiv",
        "version": "1",
        "description": "Suche in archivierten Nachrichten-Livetickern. Alle Zeiten als ISO 8601 mit Berliner Offset.",
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/entries/": {"get": {
            "summary": "Suche: eine Seite Treffer",
            "parameters": SEARCH_PARAMETERS + PAGE_PARAMETERS,
            "responses": {"200": json_body(ref("EntryList"), "eine Seite Treffer"), **INVALID},
        }},
        "/api/entries/{id}/": {"get": {
            "summary": "ein Eintrag mit Text, Bildern und Herkunft",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": INTEGER}],
            "responses": {
                "200": json_body(ref("EntryDetail"), "der Eintrag"),
                "404": {"description": "kein solcher Eintrag"},
            },
        }},
        "/api/places/": {"get": {
            "summary": "Orte nach Name oder Alias",
            "parameters": NAME_PARAMETERS,
            "responses": {"200": json_body(obj({"results": array(ref("Place"))}), "passende Orte")},
        }},
        "/api/people/": {"get": {
            "summary": "Personen nach Name oder Alias",
            "parameters": NAME_PARAMETERS,
            "responses": {"200": json_body(obj({"results": array(ref("Person"))}), "passende Personen")},
        }},
        "/api/entries.csv": export_operation(
            "text/csv", "das ganze Ergebnis als CSV",
            "eine Kopfzeile, dann je Eintrag eine Zeile mit den Feldern von ExportRow; "
            "places und people als durch Leerzeichen getrennte Kennungen",
        ),
        "/api/entries.jsonl": export_operation(
            "application/jsonl", "das ganze Ergebnis als JSON Lines", "je Zeile ein JSON-Objekt nach ExportRow",
        ),
        "/feed/": {"get": {
            "summary": "Atom-Feed einer Suche, die neuesten 50 Einträge",
            "parameters": SEARCH_PARAMETERS,
            "responses": {
                "200": {"description": "Atom 1.0", "content": {"application/atom+xml": {}}},
                **INVALID,
            },
        }},
        "/api/openapi.json": {"get": {
            "summary": "diese Beschreibung",
            "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1")},
        }},
    },
    "components": {"schemas": {
        "Link": LINK,
        "EntrySummary": obj({
            "id": INTEGER, "url": URL, "ticker": STRING, "published_at": BERLIN_TIME, "headline": STRING,
            "snippet": {"type": "string", "description": "HTML: Textauszug, Suchwörter in <mark>"},
            "places": array(ref("Link")), "people": array(ref("Link")),
        }),
        "EntryList": obj({
            "count": nullable({"type": "integer", "minimum": 0, "description": f"gezählt bis {german_number(COUNT_CAP)}; null, wenn es mehr sind"}),
            "count_is_exact": BOOLEAN,
            "ranked_among_newest": nullable({
                "type": "integer",
                "description": "order=relevance: nur die neuesten so vielen Treffer wurden nach Relevanz geordnet, "
                               "es gab mehr; sonst null",
            }),
            "suggestion": nullable({
                "type": "string",
                "description": "„Meinten Sie“: eine nahe Schreibweise, wenn die Wörter wie eingegeben nichts fanden und "
                               "eine Suche nach ihr mit denselben Filtern Einträge findet; sonst null",
            }),
            "word_beginnings": {
                "type": "boolean",
                "description": "die Wörter wie eingegeben fanden nichts: Treffer sind Einträge mit Wörtern, die so beginnen "
                               "(und die zum vorgeschlagenen Namen verknüpften)",
            },
            "known_names": array(obj({
                "type": {"type": "string", "enum": ["place", "person"]}, "slug": STRING, "name": STRING,
                "spellings": {**array(STRING), "description": "Schreibweisen, unter denen Treffer mitzählen"},
            })),
            "next": nullable(URL), "previous": nullable(URL),
            "results": array(ref("EntrySummary")),
        }),
        "EntryDetail": obj({
            "id": INTEGER, "url": URL, "ticker": STRING, "ticker_title": STRING, "published_at": BERLIN_TIME,
            "headline": STRING, "body": STRING,
            "pictures": array(obj({"slug": STRING, "caption": STRING, "credit": STRING})),
            "places": array(ref("Link")), "people": array(ref("Link")),
            "previous_id": nullable(INTEGER), "next_id": nullable(INTEGER),
            "provenance": obj({
                "source_dump": STRING, "sha256": STRING, "line": INTEGER,
                "raw_lines": array(obj({"line": INTEGER, "text": STRING})),
            }),
            "edited_fields": array({"type": "string", "enum": ["published_at", "headline", "body"]}),
        }),
        "Place": obj({
            "slug": STRING, "name": STRING, "kind": {"type": "string", "enum": ["country", "region", "city", "other"]},
            "parent": nullable(STRING), "aliases": array(STRING), "entry_count": INTEGER,
        }),
        "Person": obj({
            "slug": STRING, "name": STRING, "role": STRING,
            "status": {"type": "string", "enum": ["confirmed", "suggested", "rejected"]},
            "aliases": array(STRING), "entry_count": INTEGER,
        }),
        "ExportRow": obj({
            "id": INTEGER, "permalink": URL, "ticker": STRING, "published_at": BERLIN_TIME,
            "headline": STRING, "body": STRING, "places": array(STRING), "people": array(STRING),
            "source_dump": STRING, "source_line": INTEGER,
        }),
        "Errors": obj({"errors": {"type": "object", "additionalProperties": array(STRING)}}),
    }},
}
