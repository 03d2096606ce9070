"""/healthz on the ordinary set-up (one database), and how far a replica is taken to be behind."""
import pytest

from tickerarchive.health import replica_lag


@pytest.mark.django_db
def test_healthz_reports_the_single_database_as_an_up_primary(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"databases": [{
        "alias": "default", "role": "primary", "state": "up", "lag_seconds": None, "in_recovery": False,
        "error": None, "serves_reads": True,
    }]}


def test_an_idle_primary_does_not_make_a_caught_up_replica_look_behind():
    """The last commit was an hour ago; since then the primary wrote WAL without commits
    (pruning, a checkpoint) that the replica is just replaying: it is not an hour behind."""
    an_hour = 3600.0
    seen = [(100.0, 1000), (105.0, 1200)]  # (check time, primary WAL position) of earlier checks
    assert replica_lag(replayed=1300, primary_now=1300, since_last_commit=an_hour, primary_seen=seen, now=110.0) == 0
    assert replica_lag(replayed=1250, primary_now=1300, since_last_commit=an_hour, primary_seen=seen, now=110.0) == 5.0


def test_a_replica_that_stopped_replaying_falls_behind_by_the_time_since_it_stopped():
    seen = [(100.0, 1000), (105.0, 1200), (110.0, 1400)]
    assert replica_lag(replayed=1000, primary_now=1600, since_last_commit=None, primary_seen=seen, now=112.0) == 12.0
    # A commit replayed more recently than any earlier check is the tighter bound.
    assert replica_lag(replayed=1000, primary_now=1600, since_last_commit=2.0, primary_seen=seen, now=112.0) == 2.0
    assert replica_lag(replayed=900, primary_now=1600, since_last_commit=None, primary_seen=seen, now=112.0) is None
