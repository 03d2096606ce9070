"""Embedded pictures: slug, caption and credit; never body text, never an entry."""
from ingest.parser import LineRole


def pictures(entry):
    return [(p.slug, p.caption, p.credit) for p in entry.pictures]


def picture_lines(dump):
    return sorted(n for n, role in dump.line_roles.items() if role is LineRole.PICTURE)


def test_slug_and_caption_with_agency_tag_and_credit_between_two_paragraphs(parse_fixture):
    dump = parse_fixture("picture-mid-body.txt")
    macron = dump.entries[0]
    assert pictures(macron) == [(
        "Emmanuel-Macron-r-und-Wolodymyr-Selenskyj-vor-dem-Elysee-Palast-in-Paris",
        "Emmanuel Macron (r) und Wolodymyr Selenskyj vor dem Élysée-Palast in Paris.",
        "picture alliance/dpa/MAXPPP",
    )]
    assert macron.pictures[0].line == 9
    # The paragraphs on both sides of the picture stay one body; the picture is not part of it.
    assert macron.paragraphs == [
        "Frankreichs Präsident Emmanuel Macron empfängt heute den ukrainischen Präsidenten Wolodymyr "
        "Selenskyj im Élysée-Palast. Beide wollen über Sicherheitsgarantien für die Zeit nach einem "
        "Waffenstillstand sprechen.",
        "Nach französischen Angaben soll es auch um den von den USA vorgelegten Friedensplan gehen.",
    ]


def test_caption_with_only_a_credit_or_only_the_agency_tag(parse_fixture):
    dump = parse_fixture("picture-mid-body.txt")
    odessa, wang, wadephul = dump.entries[1:]
    assert pictures(odessa) == [(
        "Beschaedigtes-Getreidesilo-im-Hafen-von-Odessa",
        "Ein beschädigtes Getreidesilo im Hafen von Odessa.",
        "IMAGO/Ukrinform",
    )]
    assert pictures(wang) == [(
        "Chinas-Aussenminister-Wang-Yi-bei-einer-Pressekonferenz-in-Peking",
        "Chinas Außenminister Wang Yi bei einer Pressekonferenz in Peking.",
        None,
    )]
    assert odessa.paragraphs == [
        "Bei einem russischen Drohnenangriff auf den Hafen von Odessa sind nach Angaben von Gouverneur Oleh "
        "Kiper zwei Getreidesilos beschädigt worden. Verletzt wurde niemand."
    ]
    assert wang.body == (
        "Chinas Außenminister Wang Yi reist zu Sicherheitsgesprächen nach Moskau. Er folgt einer Einladung "
        "des russischen Sicherheitsrats."
    )
    assert wadephul.pictures == []


def test_pictures_are_neither_entries_nor_body_lines(parse_fixture):
    dump = parse_fixture("picture-mid-body.txt")
    assert [e.time_text for e in dump.entries] == ["06:37", "06:09", "05:37", "04:44"]
    assert picture_lines(dump) == [9, 10, 18, 19, 25, 26]
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_caption_line_with_a_separate_credit_line(parse_fixture):
    putin = parse_fixture("picture-credit-line.txt").entries[0]
    assert pictures(putin) == [(None, "Wladimir Putin und Steve Witkoff im Kreml.", "IMAGO/ITAR-TASS")]
    assert putin.paragraphs == [
        "Kremlchef Wladimir Putin hat den US-Sondergesandten Steve Witkoff zu Gesprächen über den "
        "amerikanischen Friedensplan empfangen. Das Treffen dauerte nach Angaben aus Moskau knapp fünf Stunden."
    ]


def test_repeated_caption_and_credit_line_are_one_picture(parse_fixture):
    charkiw = parse_fixture("picture-credit-line.txt").entries[1]
    assert pictures(charkiw) == [(None, "Rettungskräfte vor einem zerstörten Wohnhaus in Charkiw.", "IMAGO/Ukrinform")]
    assert charkiw.paragraphs == [
        "Bei einem Angriff mit Gleitbomben auf Charkiw ist ein Wohnhaus schwer beschädigt worden. "
        "Rettungskräfte suchen in den Trümmern nach Verschütteten."
    ]


def test_caption_and_credit_lines_between_two_paragraphs(parse_fixture):
    sacharowa = parse_fixture("picture-credit-line.txt").entries[2]
    assert pictures(sacharowa) == [(None, "Maria Sacharowa bei einer Pressekonferenz in Moskau.", "IMAGO/SNA")]
    assert sacharowa.paragraphs == [
        "Die Sprecherin des russischen Außenministeriums, Maria Sacharowa, wirft der EU vor, die "
        "Friedensgespräche zu sabotieren.",
        "Brüssel wolle den Krieg verlängern, um die eigene Rüstungsindustrie zu stärken, sagt Sacharowa.",
    ]


def test_caption_with_agency_tag_and_a_separate_credit_line(parse_fixture):
    kallas = parse_fixture("picture-credit-line.txt").entries[3]
    assert pictures(kallas) == [
        (None, "Kaja Kallas vor dem Treffen der EU-Außenminister in Brüssel.", "picture alliance/dpa/Belga")
    ]
    assert kallas.paragraphs == ["Die EU-Außenbeauftragte Kaja Kallas fordert mehr Luftabwehr für die Ukraine."]


def test_credit_holding_parentheses_of_its_own(parse_fixture):
    wadephul = parse_fixture("picture-credit-line.txt").entries[4]
    assert pictures(wadephul) == [(None, "Johann Wadephul am Flughafen Köln/Bonn.", "IMAGO/photothek (Thomas Imo)")]
    assert wadephul.paragraphs == ["Außenminister Johann Wadephul trifft in Brüssel seine Amtskollegen aus den EU-Staaten."]


def test_credit_lines_account_for_every_picture_line(parse_fixture):
    dump = parse_fixture("picture-credit-line.txt")
    assert [e.headline for e in dump.entries] == [
        "Putin empfängt Witkoff im Kreml", "Zerstörtes Wohnhaus in Charkiw",
        "Sacharowa kritisiert Brüssel", "Kallas sieht Europa in der Pflicht", "Wadephul reist nach Brüssel",
    ]
    assert picture_lines(dump) == [9, 10, 16, 17, 18, 24, 25, 33, 34, 40]
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_a_two_word_slug_is_a_picture_slug_too(parse_fixture):
    dump = parse_fixture("picture-short-slug.txt")
    kallas = dump.entries[0]
    assert pictures(kallas) == [("Kaja-Kallas", "Kaja Kallas in Brüssel.", "picture alliance/dpa/Belga")]
    assert kallas.paragraphs == [
        "Die EU-Außenbeauftragte Kaja Kallas fordert die Mitgliedstaaten auf, der Ukraine weitere "
        "Luftabwehrsysteme zu liefern."
    ]
    assert picture_lines(dump) == [9, 10]
