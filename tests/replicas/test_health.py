"""/healthz on the ordinary set-up: one database, no replicas configured."""
import pytest


@pytest.mark.django_db
def test_healthz_reports_the_single_database_as_an_up_primary(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"databases": [{
        "alias": "default", "role": "primary", "state": "up", "lag_seconds": None, "in_recovery": False,
        "error": None, "serves_reads": True,
    }]}
