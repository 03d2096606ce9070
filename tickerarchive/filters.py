"""One FilterSet for the search page and the JSON API: same parameters, same validation."""
from functools import cached_property

import django_filters
from django import forms

from tickerarchive.models import Entry, Person, Place, Ticker
from tickerarchive.search import Criteria, filter_entries

ORDER_CHOICES = (("newest", "Neueste zuerst"), ("relevance", "Relevanz"))


class SearchForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Das Enddatum liegt vor dem Anfangsdatum.")
        return cleaned


class SearchInput(forms.TextInput):
    input_type = "search"


class EntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Suche", method="no_op", widget=SearchInput,
        help_text='Wörter finden auch ihre Formen; "Wortgruppe" in Anführungszeichen, -Wort schließt aus, OR für Alternativen.',
    )
    date_from = django_filters.DateFilter(label="Von", method="no_op", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label="Bis", method="no_op", widget=forms.DateInput(attrs={"type": "date"}))
    ticker = django_filters.ModelChoiceFilter(
        label="Ticker", queryset=Ticker.objects.all(), to_field_name="slug", method="no_op", empty_label="alle Ticker",
        error_messages={"invalid_choice": "Einen Ticker „%(value)s“ gibt es im Archiv nicht."},
    )
    region = django_filters.ModelChoiceFilter(
        label="Region oder Ort", queryset=Place.objects.all(), to_field_name="slug", method="no_op",
        widget=forms.TextInput(attrs={"placeholder": "z. B. region-odessa"}),
        error_messages={"invalid_choice": "Einen Ort mit der Kennung „%(value)s“ gibt es nicht."},
    )
    person = django_filters.ModelChoiceFilter(
        label="Person", queryset=Person.objects.all(), to_field_name="slug", method="no_op",
        widget=forms.TextInput(attrs={"placeholder": "z. B. wolodymyr-selenskyj"}),
        error_messages={"invalid_choice": "Eine Person mit der Kennung „%(value)s“ gibt es nicht."},
    )
    order = django_filters.ChoiceFilter(
        label="Reihenfolge", choices=ORDER_CHOICES, method="no_op", empty_label=None,
        error_messages={"invalid_choice": "„%(value)s“ geht nicht: neueste zuerst (newest) oder nach Relevanz (relevance)."},
    )

    class Meta:
        model = Entry
        fields = []
        form = SearchForm

    def no_op(self, queryset, name, value):
        return queryset  # all filtering happens at once in filter_queryset, through search.py

    def filter_queryset(self, queryset):
        return filter_entries(self.criteria, queryset)

    @cached_property
    def criteria(self) -> Criteria:
        data = self.form.cleaned_data
        return Criteria(
            q=(data.get("q") or "").strip(), date_from=data.get("date_from"), date_to=data.get("date_to"),
            ticker=data.get("ticker"), region=data.get("region"), person=data.get("person"),
            order=data.get("order") or "newest",
        )

    def error_messages(self) -> dict[str, list[str]]:
        return {name: [str(message) for message in messages] for name, messages in self.form.errors.items()}
