"""What each database connection is given as it opens (tickerarchive/apps.py)."""
import pytest
from django.db import connections

pytestmark = pytest.mark.django_db


def work_mem_of_a_new_connection() -> str:
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            return cursor.fetchone()[0]
    finally:
        fresh.close()


def test_a_new_connection_gets_the_configured_work_mem(settings):
    """A search's bitmaps stay exact only with more than PostgreSQL's default of 4 MB."""
    settings.DATABASE_WORK_MEM = "48MB"
    assert work_mem_of_a_new_connection() == "48MB"
    settings.DATABASE_WORK_MEM = ""  # the server's own setting, whatever it is
    assert work_mem_of_a_new_connection() != "48MB"
