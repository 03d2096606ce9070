"""German full text through the search page and the API."""
import pytest
from django.db import connection

from tickerarchive.models import Entry, EntryPerson, Person, PersonAlias, Place, PlaceAlias

pytestmark = pytest.mark.django_db


def headlines(client, **params):
    response = client.get("/api/entries/", params)
    assert response.status_code == 200, response.content
    return [r["headline"] for r in response.json()["results"]]


def test_stemming_finds_other_forms(client, archive):
    # "Angriff" finds "Angriffe" and "Angriffen" (German snowball stemmer)
    found = headlines(client, q="Angriff")
    assert "Pistorius verurteilt Putins Angriffe auf Energieinfrastruktur" in found
    assert "Tote nach Angriffen auf Markt" in found


def test_umlauts_fold_like_the_stemmer(client, archive):
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" in headlines(client, q="Olexport")


def test_phrase_exclusion_and_or(client, archive):
    assert headlines(client, q='"Schwarzmeerhafen Noworossijsk"') == ["Schwarzmeerhafen Noworossijsk stoppt Ölexport"]
    assert len(headlines(client, q="Noworossijsk")) == 2
    with_trump = headlines(client, q="Putin")
    without_trump = headlines(client, q="Putin -Trump")
    assert "Trump und Putin telefonieren" in with_trump and "Trump und Putin telefonieren" not in without_trump
    assert len(without_trump) < len(with_trump)
    assert set(headlines(client, q="Waffenruhe OR Ölexport")) == {
        "Waffenruhe in Gaza hält", "Schwarzmeerhafen Noworossijsk stoppt Ölexport",
    }


def test_newest_first_by_default_and_relevance_on_request(client, archive):
    newest = client.get("/api/entries/", {"q": "Kiew"}).json()["results"]
    times = [r["published_at"] for r in newest]
    assert times == sorted(times, reverse=True)
    ranked = headlines(client, q="Kiew", order="relevance")
    # Headline weighs more than body: the entries with Kiew in the headline come first.
    assert set(ranked[:2]) == {"Luftalarm in Kiew", "Spätmeldung: Explosionen in Kiew"}


def test_highlighting_marks_words_and_escapes_dump_text(client, archive):
    page = client.get("/", {"q": "Angriff"}).content.decode()
    assert "<mark>Angriff</mark>" in page or "<mark>Angriffen</mark>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    api = client.get("/api/entries/", {"q": "Tags"}).json()["results"][0]
    assert "<b>" not in api["snippet"] and "&lt;b&gt;" in api["snippet"] and "<mark>" in api["snippet"]


def test_zero_hits_suggest_a_spelling_and_show_word_beginnings(client, archive):
    page = client.get("/", {"q": "Noworosijsk"}).content.decode()
    assert "Meinten Sie" in page and "Noworossijsk" in page
    assert "Hafen von Noworossijsk erneut getroffen" in page


def name_the_mediators(*names):
    """Put names into an entry's text (its search vector follows: a generated column)."""
    Entry.objects.filter(headline="Waffenruhe in Gaza hält").update(
        body=f"Die Vermittler {' und '.join(names)} sind zuversichtlich.")


def test_zero_hits_suggest_known_names_but_not_rejected_people(client, archive):
    """Nothing begins like `Zubmrink` or `Omlstedt` (typos in the first letters): the suggestion
    comes from the names of people alone, and an editor's rejection (no person at all) keeps a
    name out of it, although the archive has the word."""
    name_the_mediators("Zumbrink", "Olmsted")
    Person.objects.create(name="Xaveria Zumbrink", slug="xaveria-zumbrink")
    Person.objects.create(name="Quirina Olmsted", slug="quirina-olmsted", status=Person.Status.REJECTED)
    assert client.get("/", {"q": "Zubmrink"}).context["result"].suggestion == "Zumbrink"
    assert client.get("/", {"q": "Omlstedt"}).context["result"].suggestion is None


def test_a_rejected_person_is_not_found_by_an_alias(client, archive):
    """A search for an alias finds the entries linked to its person under any spelling, but
    not once an editor has rejected the person (no person at all): then the alias names nobody."""
    person = Person.objects.create(name="Quirina Olmsted", slug="quirina-olmsted")
    PersonAlias.objects.create(person=person, name="Olmstedt")
    EntryPerson.objects.create(entry=Entry.objects.get(headline="Waffenruhe in Gaza hält"), person=person)
    assert headlines(client, q="Olmstedt") == ["Waffenruhe in Gaza hält"]
    Person.objects.filter(pk=person.pk).update(status=Person.Status.REJECTED)
    assert headlines(client, q="Olmstedt") == []


def test_a_name_added_or_rejected_since_the_last_search_counts_at_once(client, archive):
    """The names the suggestion draws on are kept between searches: a person an editor adds,
    or rejects, changes the very next suggestion."""
    name_the_mediators("Zumbrink")
    assert client.get("/", {"q": "Zubmrink"}).context["result"].suggestion is None
    person = Person.objects.create(name="Xaveria Zumbrink", slug="xaveria-zumbrink")
    assert client.get("/", {"q": "Zubmrink"}).context["result"].suggestion == "Zumbrink"
    Person.objects.filter(pk=person.pk).update(status=Person.Status.REJECTED)
    assert client.get("/", {"q": "Zubmrink"}).context["result"].suggestion is None


def test_zero_hits_correct_only_the_words_the_archive_lacks(client, archive):
    """Nothing begins like the phrase `"Hafen von Nowrossijsk"`, so the suggestion is made from
    known names alone: `Nowrossijsk` is corrected to `Noworossijsk`, but `Hafen`, a word of the
    archive, is no typo of the town `Hagen`, nor the stop word `von` of anything."""
    Place.objects.create(name="Hagen", slug="hagen", kind=Place.Kind.CITY)
    Place.objects.create(name="Vonni", slug="vonni", kind=Place.Kind.CITY)
    Place.objects.create(name="Noworossijsk", slug="noworossijsk", kind=Place.Kind.CITY)
    result = client.get("/", {"q": '"Hafen von Nowrossijsk"'}).context["result"]
    assert result.count == 0 and result.suggestion == '"Hafen von Noworossijsk"'


def test_a_correction_leaves_longer_words_that_contain_it_alone(client, archive):
    """`Angrif` is corrected to `Angriff`; the `Angriffe` typed beside it, a word of the
    archive, stays as typed instead of becoming `Angrifffe`."""
    result = client.get("/", {"q": "Angrif Angriffe"}).context["result"]
    assert result.suggestion == "Angriff Angriffe"
    assert client.get("/", {"q": result.suggestion}).context["result"].count > 0


def test_a_suggestion_is_offered_only_if_it_finds_entries(client, archive):
    """The archive says `Explosionen in Kiew`, never `Explosionen Kiew` side by side: the
    corrected phrase would find nothing, so its words are offered instead. `"Hafen von Kiwe"`
    finds nothing as a phrase or as words (no entry names both), so nothing is offered."""
    result = client.get("/", {"q": '"Explosionen Kiwe"'}).context["result"]
    assert result.count == 0 and result.suggestion == "Explosionen Kiew"
    followed = client.get("/", {"q": result.suggestion}).context["result"]
    assert [e.headline for e in followed.page.entries] == ["Spätmeldung: Explosionen in Kiew"]
    result = client.get("/", {"q": '"Hafen von Kiwe"'}).context["result"]
    assert result.count == 0 and result.suggestion is None
    # The filters count: within the Nahost ticker, Kiew is never named at all.
    nahost = client.get("/", {"q": "Kiwe", "ticker": "nahost-krieg-im-liveticker"}).context["result"]
    assert nahost.count == 0 and nahost.suggestion is None
    assert client.get("/", {"q": "Kiwe"}).context["result"].suggestion == "Kiew"


def test_of_equally_close_names_the_displayed_one_is_suggested(client, archive):
    """`Kiwe` is as close to the alias `Kyiw` as to `Kiew`; the archive displays the city as
    `Kiew`, so that is the suggestion (both find the same entries through its links). The town
    `Kiwi` is as close too, and displayed, but `Kiew` has the typo's letters, swapped."""
    PlaceAlias.objects.create(place=Place.objects.get(slug="kiew"), name="Kyiw")
    Place.objects.create(name="Kiwi", slug="kiwi", kind=Place.Kind.CITY)
    result = client.get("/", {"q": "Kiwe"}).context["result"]
    assert result.count == 0 and result.suggestion == "Kiew"


def test_word_beginnings_after_zero_hits_keep_the_exclusions(client, archive):
    """`Noworosijsk -Ölexport` finds nothing as typed; the word beginnings shown instead must
    still leave out the Ölexport entry, not look for it."""
    widened = headlines(client, q="Noworosijsk -Ölexport")
    assert "Hafen von Noworossijsk erneut getroffen" in widened
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" not in widened
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" in headlines(client, q="Noworosijsk")
    # Excluding only a stop word excludes nothing, as in the search itself.
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" in headlines(client, q="Noworosijsk -der")


def test_words_of_the_archive_are_not_cut_to_their_first_letters(client, archive):
    """`Waffenruhe` and `Schwarzmeerhafen` are both words of the archive, never in one entry:
    no typo, so they are not widened to `waff:* & schwa:*`, which the Gaza entry (`Schwarzen
    Meer`) has. With a typo, only the misspelt word is cut: the Gaza entry has `Waffenruhe`
    whole and a word beginning `Schwa`."""
    Entry.objects.filter(headline="Waffenruhe in Gaza hält").update(body="Am Schwarzen Meer ist es ruhig.")
    result = client.get("/", {"q": "Waffenruhe Schwarzmeerhafen"}).context["result"]
    assert (result.count, result.prefix_fallback) == (0, False)
    assert headlines(client, q="Waffenruhe Schwarzmeerhafn") == ["Waffenruhe in Gaza hält"]


def test_a_query_its_own_exclusions_empty_is_not_widened(client, archive):
    """`Hafen -Hafen` finds nothing because of what it excludes, not by a typo: no entry
    with a word that merely begins so (`Hafenstadt`) is offered in its place. A word the
    archive lacks is still widened, with the same exclusion."""
    Entry.objects.filter(headline="Waffenruhe in Gaza hält").update(body="Die Hafenstadt ist ruhig.")
    result = client.get("/", {"q": "Hafen -Hafen"}).context["result"]
    assert (result.count, result.prefix_fallback, result.suggestion) == (0, False, None)
    assert "Waffenruhe in Gaza hält" in headlines(client, q="Hafenst -Hafen")


def test_word_beginnings_after_zero_hits_keep_an_or(client, archive):
    """Neither `Noworosijsk` nor `Waffenru` is a word of the archive: entries that begin a word
    like either are shown, not only those (here none) that have both. Each alternative gets its
    own word beginnings: `Waffenru` begins a word as typed, `Noworosijsk` only in its first
    letters (a typo further on), and its entries are not dropped because the other alternative
    found something as typed."""
    widened = headlines(client, q="Noworosijsk OR Waffenru")
    assert "Waffenruhe in Gaza hält" in widened
    assert "Hafen von Noworossijsk erneut getroffen" in widened
    # An exclusion still holds for every alternative.
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" in widened
    assert "Schwarzmeerhafen Noworossijsk stoppt Ölexport" not in headlines(
        client, q="Noworosijsk OR Waffenru -Ölexport")


def test_word_beginnings_after_zero_hits_keep_a_phrase_in_order(client, archive):
    """A misspelt phrase is widened to word beginnings in the phrase's order, side by side,
    not to its words anywhere in the entry; without quotes the words may stand anywhere."""
    assert headlines(client, q='"Hafen von Noworosijsk"') == ["Hafen von Noworossijsk erneut getroffen"]
    assert headlines(client, q='"Noworosijsk Hafen"') == []
    assert "Hafen von Noworossijsk erneut getroffen" in headlines(client, q="Noworosijsk Hafen")


def test_word_beginnings_are_looked_up_without_changing_later_plans(client, archive):
    """Whether any entry has a word beginning is asked of the index alone (table scans off
    for that question); the statements after it, here in the same transaction, plan as before."""
    assert client.get("/", {"q": "Noworosijsk"}).context["result"].prefix_fallback
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
                       "current_setting('enable_bitmapscan')")
        assert cursor.fetchone() == ("on", "on", "on")


def test_word_beginnings_only_older_entries_have_are_found(client, archive, monkeypatch):
    """The newest entries are asked first for a word beginning; one that only older entries
    have is found by the index (here the newest entry alone is asked first)."""
    from tickerarchive import models

    monkeypatch.setattr(models, "NEWEST_ASKED_FIRST", 1)
    newest = Entry.objects.order_by("-published_at", "-pk").first()
    assert "nowor" not in (newest.headline + newest.body).lower()
    assert "Hafen von Noworossijsk erneut getroffen" in headlines(client, q="Noworosijsk")


def test_keyword_search_uses_the_gin_index(archive):
    from tickerarchive.search import full_text_filter

    query = full_text_filter(Entry.objects.all(), "Noworossijsk").values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "entry_search" in plan, plan


def test_snippets_mark_left_out_text_with_an_ellipsis(client, archive):
    from tickerarchive.search import cut_marks

    body = " ".join(f"Wort{n}" for n in range(100))
    assert cut_marks("Wort40 \x02Wort41\x03 Wort42", body) == "… Wort40 \x02Wort41\x03 Wort42 …"
    assert cut_marks("\x02Wort0\x03 Wort1 Wort2", body) == "\x02Wort0\x03 Wort1 Wort2 …"
    [item] = client.get("/api/entries/", {"q": "Sirenen"}).json()["results"]
    assert item["snippet"] == "Kurz nach Mitternacht heulen in Kiew die <mark>Sirenen</mark>"  # whole body: no ellipsis
