"""The `editors` group: may correct entries, pictures, links, places and people, and
review conflicts; may not delete source dumps or users (only superusers delete those)."""
from django.contrib.auth.models import Group, Permission

EDITORS = "editors"
EDITOR_PERMISSIONS = {
    "entry": ("view", "change", "delete"),  # deleting leaves a tombstone for ingest
    "picture": ("view", "add", "change", "delete"),
    "entryplace": ("view", "add", "change"),
    "entryperson": ("view", "add", "change"),
    "place": ("view", "add", "change"),
    "placealias": ("view", "add", "change", "delete"),
    "person": ("view", "add", "change"),
    "personalias": ("view", "add", "change", "delete"),
    "entryconflict": ("view", "change"),
    "entrytombstone": ("view",),
    "ticker": ("view", "change"),
    "sourcedump": ("view", "change"),  # change: the re-ingest action
    "ingestevent": ("view",),
}


def ensure_editors_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=EDITORS)
    codenames = [f"{action}_{model}" for model, actions in EDITOR_PERMISSIONS.items() for action in actions]
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickerarchive", codename__in=codenames))
    return group
