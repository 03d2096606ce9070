import pytest
from django.contrib.auth.models import Group, User

from ingest.loader import DumpLoader
from editorial_pages import page_bytes
from tickerarchive.roles import EDITORS


@pytest.fixture
def ingest_page(tmp_path):
    def ingest(*entries, name="page_2025-11-14.txt", force=False):
        path = tmp_path / name
        path.write_bytes(page_bytes(*entries))
        result = DumpLoader(force=force).load(path)
        assert result.error is None, result.error
        return result
    return ingest


@pytest.fixture
def editor(db):
    user = User.objects.create_user("redakteurin", password="pw-redaktion", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
