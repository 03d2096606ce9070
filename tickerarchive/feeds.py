"""The Atom feed of any search: same parameters and FilterSet as the search page, newest first."""
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from tickerarchive.export import feed_entries, xml_text
from ingest.parser import BERLIN
from tickerarchive.api import valid_search
from tickerarchive.filters import EntryFilter


class TextAtomFeed(Atom1Feed):
    """Atom with the entry's body as `<content type="text">`: Django's `<summary type="html">`
    would let a reader render markup from a dump; as text it is shown, never run."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        handler.addQuickElement("content", item["description"], {"type": "text"})


class SearchFeed(Feed):
    feed_type = TextAtomFeed
    language = "de"

    def __call__(self, request, *args, **kwargs):
        filterset = valid_search(request)
        if not isinstance(filterset, EntryFilter):
            return filterset  # 400 with the messages
        request.search = filterset
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request):
        return request

    def title(self, request):
        criteria = request.search.criteria
        narrowed = [str(x) for x in (criteria.ticker, criteria.region, criteria.person) if x]
        if criteria.date_from:
            narrowed.append(f"ab {criteria.date_from:%d.%m.%Y}")
        if criteria.date_to:
            narrowed.append(f"bis {criteria.date_to:%d.%m.%Y}")
        what = f"„{criteria.q}“" if criteria.q else "alle Einträge"
        return xml_text(f"Ticker-Archiv: {what}" + (f" ({', '.join(narrowed)})" if narrowed else ""))

    def link(self, request):
        query = request.GET.urlencode()
        return reverse("search") + (f"?{query}" if query else "")

    def feed_url(self, request):
        return request.get_full_path()

    def subtitle(self, request):
        return "Die neuesten Einträge dieser Suche im Ticker-Archiv, neueste zuerst."

    def items(self, request):
        return feed_entries(request.search.qs)

    def item_title(self, entry):
        return xml_text(entry.headline)  # Atom titles are text: escaped once, by the XML writer

    def item_description(self, entry):
        return xml_text(entry.body)

    def item_link(self, entry):
        return entry.get_absolute_url()

    def item_pubdate(self, entry):
        return entry.published_at.astimezone(BERLIN)  # shown with the Berlin offset, like the API

    item_updateddate = item_pubdate  # entries carry one time: when the ticker published them

    def item_author_name(self, entry):
        return xml_text(entry.ticker.title)

    def item_categories(self, entry):
        return [xml_text(item.name) for item in entry.linked_places + entry.linked_people]

