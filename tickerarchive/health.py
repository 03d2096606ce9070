"""State of the primary and the read replicas: up or down, and how far each replica lags.

Checked on a connection of its own (short timeouts, never the one a view uses) and kept for
DATABASE_HEALTH_CHECK_INTERVAL seconds per process, so a busy process checks a few times a
minute, not once per query. The router (routing.py) and /healthz read the same states.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

PROBE_TIMEOUT_SECONDS = 2
PROBE_APPLICATION_NAME = "tickerarchive-healthcheck"


@dataclass(frozen=True)
class DatabaseState:
    alias: str
    role: str  # as configured: "primary" or "replica"
    state: str  # "up" or "down"
    lag_seconds: float | None = None  # replicas only; None while unknown
    in_recovery: bool | None = None  # what the server says it is; a promoted replica says False
    error: str | None = None

    @property
    def up(self) -> bool:
        return self.state == "up"

    def as_json(self) -> dict:
        return asdict(self)


def _connect(alias: str) -> psycopg.Connection:
    params = connections[alias].get_connection_params()
    for django_only in ("cursor_factory", "context"):
        params.pop(django_only, None)
    params.update(connect_timeout=PROBE_TIMEOUT_SECONDS, application_name=PROBE_APPLICATION_NAME, autocommit=True)
    connection = psycopg.connect(**params)
    connection.execute(f"SET statement_timeout = {PROBE_TIMEOUT_SECONDS * 1000}")
    return connection


def _lsn(text: str | None) -> int | None:
    """A WAL position ('16/B374D848') as a number, to compare positions of two servers."""
    if text is None:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _probe_primary() -> tuple[DatabaseState, int | None]:
    try:
        with _connect(DEFAULT_DB_ALIAS) as connection:
            in_recovery, wal_lsn = connection.execute(
                "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END"
            ).fetchone()
    except psycopg.Error as error:
        return DatabaseState(DEFAULT_DB_ALIAS, "primary", "down", error=first_line(error)), None
    return DatabaseState(DEFAULT_DB_ALIAS, "primary", "up", in_recovery=in_recovery), _lsn(wal_lsn)


def replica_lag(replayed: int | None, primary_now: int | None, since_last_commit: float | None,
                primary_seen: list[tuple[float, int]], now: float) -> float | None:
    """Seconds the replica is behind at most; None while unknown.

    0 when it has replayed all the WAL the primary had written a moment ago. Otherwise the
    smaller of two upper bounds: the time since the last commit it replayed (on an idle
    primary that grows without the replica being behind: reads, checkpoints and vacuum write
    WAL that carries no commit time), and the time since an earlier check saw the primary at a
    WAL position the replica has replayed by now.
    """
    if replayed is None:
        return None
    if primary_now is not None and replayed >= primary_now:
        return 0.0
    bounds = [since_last_commit] if since_last_commit is not None else []
    bounds += [now - seen_at for seen_at, position in reversed(primary_seen) if replayed >= position][:1]
    return max(0.0, min(bounds)) if bounds else None


def _probe_replica(alias: str, primary_now: int | None, primary_seen: list[tuple[float, int]]) -> DatabaseState:
    try:
        with _connect(alias) as connection:
            in_recovery, replayed, since_last_commit = connection.execute(
                """SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
                          extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float"""
            ).fetchone()
    except psycopg.Error as error:
        return DatabaseState(alias, "replica", "down", error=first_line(error))
    lag = None  # promoted: no longer follows the primary
    if in_recovery:
        lag = replica_lag(_lsn(replayed), primary_now, since_last_commit, primary_seen, time.monotonic())
    return DatabaseState(alias, "replica", "up", lag_seconds=lag, in_recovery=in_recovery)


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class _StateCache:
    """The last check, shared by the threads of one process; refreshed when older than the
    interval. Also remembers where the primary's WAL stood at recent checks (replica_lag)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._states: dict[str, DatabaseState] = {}
        self._checked_at = float("-inf")
        self._primary_seen: deque[tuple[float, int]] = deque(maxlen=256)

    def states(self) -> dict[str, DatabaseState]:
        if time.monotonic() - self._checked_at >= settings.DATABASE_HEALTH_CHECK_INTERVAL:
            with self._lock:  # one thread checks, the others wait for its answer
                if time.monotonic() - self._checked_at >= settings.DATABASE_HEALTH_CHECK_INTERVAL:
                    self._check()
        return self._states

    def _check(self) -> None:
        """Probe every configured database now: the primary first, then each replica."""
        checked_at = time.monotonic()
        primary, primary_now = _probe_primary()
        replicas = [_probe_replica(alias, primary_now, list(self._primary_seen)) for alias in settings.REPLICA_DATABASES]
        if primary_now is not None:
            self._primary_seen.append((checked_at, primary_now))
        self._states = {state.alias: state for state in (primary, *replicas)}
        self._checked_at = time.monotonic()

    def mark_down(self, alias: str, reason: str) -> None:
        """A view's query just failed on this database: skip it until the next check."""
        with self._lock:
            current = self._states.get(alias)
            role = current.role if current else "replica"
            self._states = {**self._states, alias: DatabaseState(alias, role, "down", error=reason)}


database_states = _StateCache()


def usable_replicas() -> list[str]:
    """Replicas that are up, still replicas, and no further behind than DATABASE_REPLICA_MAX_LAG.

    When the primary is down, any replica that is up serves reads whatever its lag: the data
    cannot get fresher, and a page a little behind beats an error page.
    """
    states = database_states.states()
    primary = states.get(DEFAULT_DB_ALIAS)
    primary_down = primary is not None and not primary.up
    usable = []
    for alias in settings.REPLICA_DATABASES:
        state = states.get(alias)
        if state is None or not state.up or not state.in_recovery:
            continue
        if primary_down or (state.lag_seconds is not None and state.lag_seconds <= settings.DATABASE_REPLICA_MAX_LAG):
            usable.append(alias)
    return usable
