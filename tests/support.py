"""Helpers shared by the tests (importable: tests/ is on pytest's pythonpath)."""
import io
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.db import connection

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parent.parent / "shared"
FIXTURE_DUMPS = TESTS / "fixtures" / "dumps"  # invented dumps, one per quirk of the format


def subprocess_database_url() -> str:
    """DATABASE_URL with the test database's name: the subprocess writes where the test reads."""
    url = urlsplit(settings.DATABASE_URL)
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


class CommandRun:
    def __init__(self, exit_code: int, stdout: str, stderr: str):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr


def run_command(name: str, *args) -> CommandRun:
    """Run a management command as a user would, keeping its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    return CommandRun(code, out.getvalue(), err.getvalue())


def admin_form_data(response) -> dict:
    """The POST data a browser would send back for an admin change page, unchanged.

    Tests then edit the fields they care about, like an editor typing into the form.
    """
    data = {}

    def add_form(form):
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if hasattr(widget, "widgets"):  # split date/time and similar multi-widgets
                parts = value if isinstance(value, (list, tuple)) else widget.decompress(value)
                for index, (sub_widget, part) in enumerate(zip(widget.widgets, parts)):
                    data[f"{bound.html_name}_{index}"] = sub_widget.format_value(part) or ""
            elif isinstance(value, (list, tuple)):
                data[bound.html_name] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = widget.format_value(value) if hasattr(widget, "format_value") else value

    add_form(response.context["adminform"].form)
    try:
        inlines = response.context["inline_admin_formsets"]
    except KeyError:  # pages without inlines, such as the history revert form
        inlines = []
    for inline in inlines:
        formset = inline.formset
        add_form(formset.management_form)
        for form in formset.forms:
            add_form(form)
    return {k: v for k, v in data.items() if v is not None}


def assert_field_errors(client, url: str, cases) -> None:
    """Each (params, field) of cases gets 400 at url, with a message for that field."""
    for params, field in cases:
        response = client.get(url, params)
        assert response.status_code == 400
        assert response.json()["errors"][field], params


def found_in(entry) -> tuple[dict[str, int], dict[str, int]]:
    """What the linker found in an entry: {name: mentions} of its places and of its people."""
    from tickerarchive.models import Entry, Person, Place

    places, people = Entry.objects.found_links([entry.pk])[entry.pk]
    return ({Place.objects.get(pk=pk).name: n for pk, n in places.items()},
            {Person.objects.get(pk=pk).name: n for pk, n in people.items()})


def linked_names(entry) -> tuple[set[str], set[str]]:
    """The names of the places and of the people readers see linked to an entry."""
    from tickerarchive.models import Entry, Person, Place

    places, people = Entry.objects.linked_ids([entry.pk])[entry.pk]
    return (set(Place.objects.filter(pk__in=places).values_list("name", flat=True)),
            set(Person.objects.filter(pk__in=people).values_list("name", flat=True)))
