"""Page layouts: header (section, title, page date), markers, bodies, site furniture."""
from ingest.parser import LineRole


def test_glued_title_section_page_date_and_bodies(parse_fixture):
    dump = parse_fixture("glued-title_2025-11-14.txt")
    assert (dump.section, dump.title) == ("Politik", "Ukraine-Krieg im Liveticker")
    assert dump.page_datetime.isoformat() == "2025-11-14T00:10:00+01:00"
    assert [(e.position, e.line, e.time_text, e.headline) for e in dump.entries] == [
        (0, 3, "16:05", 'Kreml nennt Warnungen aus Berlin "Panikmache"'),
        (1, 9, "15:34", '"Kältekrieg": Pistorius verurteilt Angriffe auf Kraftwerke'),
        (2, 15, "00:42", "Botschafter warnt vor Söldner-Rekrutierung in Südafrika"),
        (3, 19, "23:42", "Kampfjet stürzt in Karelien ab"),
        (4, 23, "21:48", "Pistorius empfängt Amtskollegen in Berlin"),
    ]
    first, second = dump.entries[:2]
    # The first entry's body stands under the page date line, not under its marker.
    assert first.paragraphs == [
        "Das russische Außenministerium weist Warnungen eines Bundeswehr-Generals vor einem Angriff auf "
        'die Nato als "Panikmache" zurück. Sprecherin Maria Sacharowa sagt in Moskau, Berlin wolle mit '
        "solchen Aussagen nur höhere Rüstungsausgaben rechtfertigen."
    ]
    assert second.paragraphs == [
        "Russland greife gezielt die Energieversorgung der Ukraine an, sagt Bundesverteidigungsminister "
        "Boris Pistorius bei einem Besuch in Brüssel. Präsident Wladimir Putin wolle die Menschen im "
        "vierten Kriegswinter zermürben.",
        "Pistorius kündigt weitere Generatoren und Luftabwehrsysteme für Kiew an.",
    ]
    assert second.body == second.paragraphs[0] + "\n\n" + second.paragraphs[1]
    assert dump.footer == "Alle früheren Entwicklungen können Sie hier nachverfolgen."
    assert {n: dump.line_roles[n] for n in (1, 3, 5, 27)} == {
        1: LineRole.SECTION, 3: LineRole.MARKER, 5: LineRole.PAGE_DATE, 27: LineRole.FOOTER,
    }
    assert dump.warnings == [] and dump.unparsed_lines == [] and dump.missing == []


def test_title_separated_by_a_space_and_no_section_line(parse_fixture):
    dump = parse_fixture("title-space-no-section.txt")
    assert (dump.section, dump.title) == (None, "Nahost-Krieg im Liveticker")
    assert [(e.line, e.headline) for e in dump.entries] == [
        (1, "Waffenruhe im Gazastreifen hält vorerst"),
        (7, "Vermittler reisen nach Kairo"),
    ]
    assert dump.entries[0].body.startswith("Die Waffenruhe im Gazastreifen hält")
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_other_ticker_under_another_section(parse_fixture, times):
    dump = parse_fixture("other-ticker-panorama.txt")
    assert (dump.section, dump.title) == ("Panorama", "Coronavirus-Liveticker")
    assert [e.headline for e in dump.entries] == [
        "12 Bundesländer melden steigende Belegung der Intensivstationen",
        "Teil-Lockdown in Kraft: Restaurants und Theater geschlossen",
        "RKI meldet 12.097 Neuinfektionen",
    ]
    assert times(dump) == ["2020-11-02T21:51:00+01:00", "2020-11-02T19:40:00+01:00", "2020-11-02T08:15:00+01:00"]


def test_no_break_space_and_other_odd_spaces_in_markers(parse_fixture, times):
    dump = parse_fixture("nbsp-marker.txt")
    assert [(e.line, e.headline) for e in dump.entries] == [
        (3, "Stau an der kasachischen Grenze"),
        (9, "Kämpfe um Pokrowsk dauern an"),  # NBSP after +++, around the time and doubled inside
        (13, "Belgien bremst beim Kredit für Kiew"),  # narrow NBSP, thin space, tab before +++
        (17, '"Keine Anzeichen für Bewegung"'),  # NBSP before and after the closing +++
    ]
    assert times(dump) == [
        "2025-12-01T15:29:00+01:00", "2025-12-01T14:54:00+01:00",
        "2025-12-01T14:32:00+01:00", "2025-12-01T13:58:00+01:00",
    ]
    assert dump.title == "Ukraine-Krieg im Liveticker"
    assert 8 not in dump.line_roles  # a line holding only a NO-BREAK SPACE is blank
    assert " ".join(dump.entries[2].body.split()) == (
        "Belgiens Regierung hat weiter Bedenken gegen die Nutzung eingefrorener russischer Vermögen. "
        "Premier Bart De Wever fordert Garantien der übrigen EU-Staaten."
    )
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_no_blank_lines_at_all_each_line_is_a_paragraph_and_the_player_is_still_furniture(parse_fixture, times):
    dump = parse_fixture("no-blank-lines.txt")
    assert (dump.section, dump.title) == ("Politik", "Ukraine-Krieg im Liveticker")
    assert dump.page_datetime.isoformat() == "2025-09-10T00:10:00+02:00"
    assert [(e.line, e.headline) for e in dump.entries] == [
        (2, "21 Regionen melden Luftalarm"),
        (5, "Polen schließt Luftraum an der Grenze"),
        (8, "Drohnen über Polen abgeschossen"),
    ]
    assert [e.paragraphs for e in dump.entries] == [
        ["In 21 Regionen der Ukraine heulen am Vormittag die Sirenen. Die Luftwaffe meldet Drohnen über "
         "dem Westen des Landes."],
        ["Warschau sperrt den Luftraum entlang der Grenze zu Belarus und der Ukraine.",
         "Die Maßnahme gilt zunächst bis Sonntag."],
        ["Polnische und niederländische Kampfjets haben in der Nacht mehrere Drohnen über Polen abgeschossen."],
    ]
    assert times(dump) == ["2025-09-10T10:40:00+02:00", "2025-09-10T09:15:00+02:00", "2025-09-10T08:02:00+02:00"]
    assert {n: dump.line_roles[n] for n in (9, 10)} == dict.fromkeys((9, 10), LineRole.FURNITURE)
    assert dump.footer and dump.warnings == [] and dump.unparsed_lines == []


def test_body_directly_under_the_marker(parse_fixture):
    dump = parse_fixture("body-under-marker.txt")
    assert dump.title == "Nahost-Krieg im Liveticker"
    assert dump.page_datetime.isoformat() == "2025-10-13T00:10:00+02:00"
    assert [(e.line, e.headline, e.paragraphs) for e in dump.entries] == [
        (3, "Israel öffnet Grenzübergang Kerem Schalom", [
            "Israel öffnet den Grenzübergang Kerem Schalom wieder für Hilfslieferungen. Am Nachmittag sollen "
            "die ersten 120 Lastwagen in den Gazastreifen fahren.",
        ]),
        (7, "Freigelassene Geiseln in Klinik gebracht", [
            "Die am Morgen freigelassenen Geiseln sind in ein Krankenhaus bei Tel Aviv gebracht worden. Ihr "
            "Zustand sei den Umständen entsprechend gut, teilen die Ärzte mit.",
            "Angehörige warten vor der Klinik.",
        ]),
        (12, "Trump spricht vor der Knesset", [
            'US-Präsident Donald Trump nennt die Freilassung der Geiseln in einer Rede vor der Knesset einen '
            '"historischen Tag".',
        ]),
    ]
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_audio_player_is_furniture_not_an_entry_nor_body(parse_fixture, times):
    dump = parse_fixture("player-furniture.txt")
    assert [e.headline for e in dump.entries] == [
        'Reporterin in Kiew: "Es war eine schlimme Nacht"',
        'Selenskyj: "Long Neptune" erfolgreich eingesetzt',
        "Korruptionsgelder sollen nach Moskau geflossen sein",
    ]
    assert times(dump) == ["2025-11-14T11:59:00+01:00", "2025-11-14T11:34:00+01:00", "2025-11-14T10:59:00+01:00"]
    assert dump.entries[0].paragraphs == [
        "Russland greift die Ukraine in der Nacht mit mehr als 400 Drohnen und Raketen an. In Kiew werden "
        "mindestens vier Menschen getötet. ntv-Reporterin Kavita Sharma schildert die Lage in der Hauptstadt."
    ]
    assert dump.entries[1].paragraphs == [
        "Die ukrainischen Truppen haben nach Angaben von Präsident Wolodymyr Selenskyj erstmals "
        'Marschflugkörper vom Typ "Long Neptune" gegen Ziele in Russland eingesetzt.'
    ]
    assert {n: dump.line_roles[n] for n in (7, 8, 14, 16)} == dict.fromkeys((7, 8, 14, 16), LineRole.FURNITURE)
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_headlines_with_colons_quotes_an_unbalanced_quote_and_leading_numbers(parse_fixture, times):
    dump = parse_fixture("headline-quotes-colons.txt")
    assert [(e.time_text, e.headline) for e in dump.entries] == [
        ("21:51", "12 Bundesländer melden Engpässe bei Schutzräumen"),
        ("19:30", '"Menschenverachtung": Pistorius verurteilt Angriffe auf Kraftwerke'),
        ("17:12", '"Deutschland ist in einem Aufwach-Stadium'),
        ("15:03", 'Kreml: "Keine Pläne" für Treffen - Peskow dementiert Bericht über Gipfel'),
        ("14:20", "Selenskyj: Angriff um 03:40 Uhr war der schwerste seit Wochen"),
        ("12:05", "100.000 Haushalte in Odessa ohne Strom"),
        ("10:48", "Wer zahlt für den Wiederaufbau?"),
    ]
    # A time inside a headline is not the entry's time.
    assert times(dump)[4] == "2025-12-01T14:20:00+01:00"
    assert dump.entries[2].body == "Europa rüstet auf, doch die Trendwende kommt spät, sagt der Militärexperte Ralph Thiele."
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_cross_reference_is_body_text_not_an_entry(parse_fixture, times):
    dump = parse_fixture("cross-reference.txt")
    assert [e.headline for e in dump.entries] == [
        "Zahl der Verletzten in Dnipro steigt", "Rettungsarbeiten in Dnipro dauern an", "Raketenangriff auf Dnipro",
    ]
    assert times(dump) == ["2025-12-01T07:15:00+01:00", "2025-12-01T05:20:00+01:00", "2025-12-01T02:43:00+01:00"]
    assert dump.entries[0].body.endswith("teilt die Regionalverwaltung mit. (Siehe Eintrag um 02:43 Uhr)")
    assert dump.entries[1].paragraphs == [
        "Rettungskräfte suchen weiter in den Trümmern eines Bürogebäudes nach Verschütteten.",
        "(Siehe Eintrag um 02:43 Uhr)",
    ]
    assert dump.warnings == [] and dump.unparsed_lines == []


def test_no_title_in_the_dump_needs_the_option(parse_fixture):
    dump = parse_fixture("no-title.txt")
    assert (dump.section, dump.title) == ("Politik", None)
    assert [e.headline for e in dump.entries] == [
        'Kreml nennt Warnungen aus Berlin "Panikmache"', "Pistorius verurteilt Angriffe auf Kraftwerke",
    ]
    [problem] = dump.missing
    assert "title" in problem
    titled = parse_fixture("no-title.txt", ticker_title="Ukraine-Krieg im Liveticker")
    assert titled.title == "Ukraine-Krieg im Liveticker" and titled.missing == []


def test_title_in_the_dump_wins_over_the_option(parse_fixture):
    dump = parse_fixture("glued-title_2025-11-14.txt", ticker_title="Nahost-Krieg im Liveticker")
    assert dump.title == "Ukraine-Krieg im Liveticker"
