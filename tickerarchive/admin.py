"""The editors' admin: corrections that survive re-ingest, with history (django-simple-history)."""
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from tickerarchive.models import (
    Entry, EntryConflict, EntryPerson, EntryPlace, EntryTombstone, IngestEvent, LinkOrigin, Person,
    PersonAlias, Picture, Place, PlaceAlias, SourceDump, Ticker, linked_entry_count, linked_to_any, linked_values, links_of,
)
from tickerarchive.templatetags.archive import zahl

admin.site.site_header = "Ticker-Archiv: Redaktion"
admin.site.site_title = "Ticker-Archiv"
admin.site.index_title = "Korrekturen"

PROVENANCE_CONTEXT = 3  # raw lines shown above and below an entry's marker
# Entries a changed spelling of a place or person may be relinked in the editor's request:
# 5,274 candidates took 1.2 s in all (bench/relink.py, 100,000 entries). Beyond, the relink
# command does it.
RELINK_AT_ONCE = 5000


class PictureInline(admin.StackedInline):
    model = Picture
    extra = 0
    fields = ("slug", "caption", "credit", "original_caption", "original_credit")
    readonly_fields = ("slug", "original_caption", "original_credit")


class LinkInline(admin.TabularInline):
    """An editor's links and removals (what the linker found is on the entry's form). Editors
    untick »entfernt« rather than delete, so that relinking does not bring a removed link back."""

    extra = 0
    can_delete = False
    readonly_fields = ("mentions", "origin")
    autocomplete_fields = ()

    def get_fields(self, request, obj=None):
        return (self.target, "mentions", "origin", "removed")


class EntryPlaceInline(LinkInline):
    model = EntryPlace
    target = "place"
    raw_id_fields = ("place",)
    verbose_name_plural = "Orte, von der Redaktion verknüpft oder entfernt (»entfernt« abwählen stellt sie wieder her)"


class EntryPersonInline(LinkInline):
    model = EntryPerson
    target = "person"
    raw_id_fields = ("person",)
    verbose_name_plural = "Personen, von der Redaktion verknüpft oder entfernt (»entfernt« abwählen stellt sie wieder her)"


class EntryForm(forms.ModelForm):
    """The entry, and what the linker found in it: ticking one removes that link for good."""

    remove_places = forms.TypedMultipleChoiceField(
        label="Automatisch gefundene Orte", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Häkchen: die Verknüpfung ist falsch und wird entfernt (auch bei jedem späteren Verknüpfen).")
    remove_people = forms.TypedMultipleChoiceField(
        label="Automatisch gefundene Personen", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Häkchen: die Verknüpfung ist falsch und wird entfernt (auch bei jedem späteren Verknüpfen).")

    class Meta:
        model = Entry
        fields = ("published_at", "headline", "body")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.found = ([], []) if self.instance.pk is None else links_of(self.instance)
        for name, links in zip(("remove_places", "remove_people"), self.found):
            self.fields[name].choices = [
                (link.target.pk, f"{link.target.name} ({link.mentions} Nennung{pluralize(link.mentions, 'en')})")
                for link in links if link.mentions and not link.removed
            ]

    def save_removals(self) -> None:
        """Removed links become rows of the editor's (with history), found mentions kept."""
        for name, links, model, target in zip(("remove_places", "remove_people"), self.found,
                                              (EntryPlace, EntryPerson), ("place", "person")):
            mentions = {link.target.pk: link.mentions for link in links}
            for pk in self.cleaned_data.get(name, []):
                model.objects.update_or_create(
                    entry=self.instance, **{f"{target}_id": pk}, defaults={"removed": True, "origin": LinkOrigin.EDITOR},
                    create_defaults={"removed": True, "origin": LinkOrigin.EDITOR, "mentions": mentions.get(pk, 1)},
                )


class LinkedFilter(admin.SimpleListFilter):
    """Entries linked to a place (with the places inside it) or a person, as readers filter."""

    def queryset(self, request, queryset):
        if not self.value() or not self.value().isdigit():
            return queryset
        return queryset.filter(self.linked(int(self.value())))


class PlaceFilter(LinkedFilter):
    title = "Ort (Land oder Region, mit den Orten darin)"
    parameter_name = "ort"

    def lookups(self, request, model_admin):
        return Place.objects.filter(kind__in=(Place.Kind.COUNTRY, Place.Kind.REGION)).order_by("name").values_list("pk", "name")

    def linked(self, pk: int):
        from tickerarchive.search import place_and_descendants

        place = Place.objects.filter(pk=pk).first()
        return linked_to_any("place", place_and_descendants(place) if place else [])


class PersonFilter(LinkedFilter):
    title = "Person"
    parameter_name = "person"

    def lookups(self, request, model_admin):
        return Person.objects.not_rejected().order_by("name").values_list("pk", "name")

    def linked(self, pk: int):
        return linked_to_any("person", [pk])


class EditedFilter(admin.SimpleListFilter):
    title = "von der Redaktion geändert"
    parameter_name = "edited"

    def lookups(self, request, model_admin):
        return (("yes", "ja"), ("no", "nein"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(edited_fields=[])
        if self.value() == "no":
            return queryset.filter(edited_fields=[])
        return queryset


@admin.register(Entry)
class EntryAdmin(SimpleHistoryAdmin):
    list_display = ("published_at", "ticker", "headline", "place_names", "person_names", "is_edited")
    list_filter = ("ticker", ("published_at", admin.DateFieldListFilter), EditedFilter, PlaceFilter, PersonFilter)
    list_select_related = ("ticker",)
    # Millions of entries: no full COUNT(*) of the table on every list page, and no date
    # hierarchy (it reads the distinct dates of every row); the date filter covers dates.
    show_full_result_count = False
    search_fields = ("headline",)  # replaced by full-text search in get_search_results
    search_help_text = "Volltextsuche in Überschrift und Text (z. B. »Noworossijsk -Trump«)"
    form = EntryForm
    fields = ("ticker", "published_at", "headline", "body", "remove_places", "remove_people", "edited_summary",
              "provenance")
    readonly_fields = ("ticker", "edited_summary", "provenance")
    inlines = (PictureInline, EntryPlaceInline, EntryPersonInline)
    actions = ("merge_entries", "restore_published_text")
    history_list_display = ("headline", "published_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            linked_place_names=linked_values(Place, "name"), linked_person_names=linked_values(Person, "name"))

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        from tickerarchive.search import full_text_filter  # the archive's own full-text search

        return full_text_filter(queryset, search_term), False

    @admin.display(description="Orte")
    def place_names(self, entry):
        return ", ".join(entry.linked_place_names)

    @admin.display(description="Personen")
    def person_names(self, entry):
        return ", ".join(entry.linked_person_names)

    @admin.display(description="geändert", boolean=True)
    def is_edited(self, entry):
        return bool(entry.edited_fields)

    @admin.display(description="Von der Redaktion geändert")
    def edited_summary(self, entry):
        if not entry.edited_fields:
            return "nichts (Fassung des Tickers)"
        labels = {"published_at": "Zeit", "headline": "Überschrift", "body": "Text"}
        return ", ".join(labels[f] for f in entry.edited_fields)

    @admin.display(description="Herkunft")
    def provenance(self, entry):
        dump = entry.source_dump
        first, last = max(1, entry.source_line - PROVENANCE_CONTEXT), entry.source_line + PROVENANCE_CONTEXT
        rows = format_html_join(
            "", '<tr{}><th scope="row">{}</th><td>{}</td></tr>',
            ((' class="selected"' if n == entry.source_line else "", n, text) for n, text in dump.lines(first, last)),
        )
        return format_html(
            '<p>{} ({}), Zeile {}</p><table class="raw-dump">{}</table>', dump.file_name, dump.sha256[:12],
            entry.source_line, rows,
        )

    def save_model(self, request, obj, form, change):
        if change and not obj.history.exists():
            # Entries come in by bulk insert, which history does not see: keep the state before
            # the first correction, so "before" and "after" are both on record.
            Entry.history.bulk_history_create(
                [Entry.objects.get(pk=obj.pk)], default_change_reason="Stand vor der ersten Korrektur"
            )
        obj.refresh_edited_fields()
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            instance = inline_form.instance
            if isinstance(instance, Picture):
                instance.edited = (instance.caption, instance.credit) != (instance.original_caption, instance.original_credit)
            elif isinstance(instance, (EntryPlace, EntryPerson)) and inline_form.has_changed():
                instance.origin = LinkOrigin.EDITOR
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.save_removals()

    def delete_model(self, request, obj):
        Entry.objects.filter(pk=obj.pk).delete_as_editor(request.user)

    def delete_queryset(self, request, queryset):
        queryset.delete_as_editor(request.user)

    @admin.action(description="Ausgewählte Einträge zusammenführen (in den ältesten)", permissions=["change"])
    def merge_entries(self, request, queryset):
        entries = list(queryset.order_by("pk"))
        if len(entries) < 2:
            self.message_user(request, "Zum Zusammenführen mindestens zwei Einträge wählen.", messages.WARNING)
            return
        survivor = entries[0]
        survivor.merge(entries[1:], user=request.user)
        self.message_user(request, f"{len(entries) - 1} Einträge in »{survivor.headline}« zusammengeführt.")

    @admin.action(description="Fassung des Tickers wiederherstellen", permissions=["change"])
    def restore_published_text(self, request, queryset):
        for entry in queryset:
            entry.published_at, entry.headline, entry.body = (
                entry.original_published_at, entry.original_headline, entry.original_body,
            )
            entry.refresh_edited_fields()
            entry.save()
        self.message_user(request, f"{queryset.count()} Einträge auf die Fassung des Tickers zurückgesetzt.")


@admin.register(EntryConflict)
class EntryConflictAdmin(admin.ModelAdmin):
    list_display = ("entry", "field", "detected_at", "source_dump", "resolved")
    list_filter = ("resolved", "field")
    readonly_fields = ("entry", "field", "editor_value", "ingested_value", "source_dump", "source_line", "detected_at")
    actions = ("accept_ticker_version", "keep_editor_version")

    def has_add_permission(self, request):
        return False

    @admin.action(description="Neue Fassung des Tickers übernehmen", permissions=["change"])
    def accept_ticker_version(self, request, queryset):
        for conflict in queryset.filter(resolved=False, field="body").select_related("entry"):
            entry = conflict.entry
            entry.body = conflict.ingested_value
            entry.refresh_edited_fields()
            entry.save()
        queryset.update(resolved=True)

    @admin.action(description="Fassung der Redaktion behalten", permissions=["change"])
    def keep_editor_version(self, request, queryset):
        queryset.update(resolved=True)


@admin.register(EntryTombstone)
class EntryTombstoneAdmin(admin.ModelAdmin):
    list_display = ("original_published_at", "original_headline", "ticker", "merged_into", "created_by", "created_at")
    list_filter = ("ticker",)
    readonly_fields = ("ticker", "original_published_at", "original_headline", "merged_into", "created_by", "created_at")
    search_fields = ("original_headline",)


@admin.register(Ticker)
class TickerAdmin(admin.ModelAdmin):
    list_display = ("title", "section", "slug", "entry_count")
    prepopulated_fields = {"slug": ("title",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries", distinct=True))

    @admin.display(description="Einträge", ordering="entry_total")
    def entry_count(self, ticker):
        return ticker.entry_total


@admin.register(SourceDump)
class SourceDumpAdmin(admin.ModelAdmin):
    list_display = ("file_name", "ticker", "page_datetime", "entry_count", "warning_count", "ingested_at")
    list_filter = ("ticker",)
    search_fields = ("file_name", "sha256")
    exclude = ("raw_text", "parse_warnings", "unparsed_lines")
    readonly_fields = (
        "ticker", "file_name", "path", "sha256", "size", "encoding", "page_datetime", "date_source",
        "entry_count", "ingested_at", "warnings_table", "raw_text_view",
    )
    actions = ("reingest",)

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="Warnungen")
    def warning_count(self, dump):
        return len(dump.parse_warnings) + len(dump.unparsed_lines)

    @admin.display(description="Warnungen und nicht zugeordnete Zeilen")
    def warnings_table(self, dump):
        rows = [(w.get("line") or "", w["message"]) for w in dump.parse_warnings]
        rows += [(u["line"], f"nicht zugeordnet ({u['reason']}): {u['text'][:200]}") for u in dump.unparsed_lines]
        if not rows:
            return "keine"
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="Rohtext")
    def raw_text_view(self, dump):
        return format_html('<pre class="raw-dump">{}</pre>', dump.raw_text)

    @admin.action(description="Erneut einlesen (Korrekturen bleiben erhalten)", permissions=["change"])
    def reingest(self, request, queryset):
        from ingest.loader import DumpLoader

        for dump in queryset:
            result = DumpLoader(force=True).load_text(dump.raw_text.encode(), path=dump.path)
            level = messages.ERROR if result.error else messages.SUCCESS
            self.message_user(
                request, result.error or f"{dump.file_name}: {result.created} neu, {result.updated} aktualisiert, "
                f"{result.unchanged} unverändert", level,
            )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class PlaceAliasInline(admin.TabularInline):
    model = PlaceAlias
    extra = 1


class NamedWithEntriesAdmin(SimpleHistoryAdmin):
    """Places and people: the number of linked entries, and merging duplicates into the
    one with the most entries (links, aliases and old URLs move to it)."""

    plural = ""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=linked_entry_count(self.model))

    def save_model(self, request, obj, form, change):
        # As stored before this save: its aliases are saved after it, in save_related.
        stored = type(obj).objects.get(pk=obj.pk) if change else None
        obj.spellings_before = stored.spellings() if stored else set()
        obj.name_before = stored.name if stored else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if obj.name_before not in (None, obj.name):
            # A new display name does not unlink the entries that use the old one (as
            # load_gazetteer keeps it too); an editor who means to drop it deletes the alias.
            if obj.aliases.get_or_create(name=obj.name_before)[1]:
                self.message_user(request, f"Der bisherige Name »{obj.name_before}« bleibt als Schreibweise.")
        changed = obj.spellings() ^ obj.spellings_before
        if changed:
            self.relink_naming(request, obj, changed)

    def relink_naming(self, request, obj, spellings: set[str]) -> None:
        """Link the entries that name a spelling added or removed again, in this request, so that
        filters, facets and the keyword search follow the correction at once; editors' links and
        removals stay. A spelling found in very many entries is left to the relink command."""
        from ingest.linker import Linker

        listed = ", ".join(f"»{name}«" for name in sorted(spellings))
        entries, written = Linker.from_database().relink_naming(spellings, at_most=RELINK_AT_ONCE)
        if written is None:
            self.message_user(request, (
                f"Schreibweisen {listed}: {zahl(entries)} Einträge kommen in Frage, zu viele, um sie jetzt neu zu "
                f"verknüpfen. Das tut »python manage.py relink --{self.model._meta.model_name} {obj.slug}«."
            ), messages.WARNING)
            return
        self.message_user(request, (
            f"Schreibweisen {listed}: {zahl(entries)} Eintr{pluralize(entries, 'ag,äge')} geprüft, "
            f"{zahl(written)} Verknüpfung{pluralize(written, 'en')} neu oder geändert."
        ))

    @admin.display(description="Einträge", ordering="entry_total")
    def entry_count(self, obj):
        return obj.entry_total

    @admin.action(description="Ausgewählte zusammenführen (in den Eintrag mit den meisten Einträgen)", permissions=["change"])
    def merge_selected(self, request, queryset):
        chosen = sorted(queryset, key=lambda item: (-item.entry_total, item.pk))
        if len(chosen) < 2:
            self.message_user(request, f"Zum Zusammenführen mindestens zwei {self.plural} wählen.", messages.WARNING)
            return
        chosen[0].merge(chosen[1:])
        self.message_user(request, f"{len(chosen) - 1} {self.plural} in »{chosen[0].name}« zusammengeführt.")


@admin.register(Place)
class PlaceAdmin(NamedWithEntriesAdmin):
    plural = "Orte"
    list_display = ("name", "kind", "parent", "geonames_id", "entry_count")
    list_filter = ("kind",)
    search_fields = ("name", "aliases__name", "slug")
    raw_id_fields = ("parent",)
    inlines = (PlaceAliasInline,)
    actions = ("merge_selected",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")


class PersonAliasInline(admin.TabularInline):
    model = PersonAlias
    extra = 1


@admin.register(Person)
class PersonAdmin(NamedWithEntriesAdmin):
    plural = "Personen"
    list_display = ("name", "role", "status", "entry_count")
    list_filter = ("status",)
    search_fields = ("name", "aliases__name", "role")
    inlines = (PersonAliasInline,)
    actions = ("merge_selected", "confirm", "reject")

    @admin.action(description="Vorschläge bestätigen", permissions=["change"])
    def confirm(self, request, queryset):
        queryset.update(status=Person.Status.CONFIRMED)

    @admin.action(description="Vorschläge ablehnen", permissions=["change"])
    def reject(self, request, queryset):
        queryset.update(status=Person.Status.REJECTED)


@admin.register(IngestEvent)
class IngestEventAdmin(admin.ModelAdmin):
    list_display = ("started_at", "path", "status", "entries_created", "entries_updated", "entries_unchanged", "error")
    list_filter = ("status",)
    search_fields = ("path", "sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
