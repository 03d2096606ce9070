"""Reads of anonymous readers on the replicas, everything else on the primary.

Installed by settings.py only when DATABASE_REPLICA_URLS is set. The router reads one marker,
set per request by ReadRoutingMiddleware: the replica this request may read from, or none.
Outside a request (ingest, relink, load_gazetteer, migrate, shell) there is no marker, so
commands read and write the primary and never act on data a replica has not caught up on.
"""
from __future__ import annotations

import contextvars
import logging
import random

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.urls import reverse

from tickerarchive.health import database_states, first_line, usable_replicas

logger = logging.getLogger(__name__)

# The replica alias this request reads from; None: the primary.
read_database: contextvars.ContextVar[str | None] = contextvars.ContextVar("read_database", default=None)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_database.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def reads_need_primary(request) -> bool:
    """Editors see their own corrections at once: the admin, any request that may write, and
    every request of a signed-in staff member read the primary. The session and user behind a
    session cookie are looked up there too (this runs before any marker is set), so a login a
    replica has not replayed yet still counts."""
    if request.method not in SAFE_METHODS:
        return True
    if request.path.startswith(reverse("admin:index")):
        return True
    return request.user.is_authenticated and request.user.is_staff


class ReadRoutingMiddleware:
    """Chooses the database this request reads from, and reads again from the primary when a
    replica fails in the middle of a request (it went down since the last health check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        replica = None
        if not reads_need_primary(request):
            replicas = usable_replicas()
            replica = random.choice(replicas) if replicas else None
        token = read_database.set(replica)
        try:
            response = self.get_response(request)
            if response.streaming:
                response.streaming_content = _in_context(contextvars.copy_context(), response.streaming_content)
            return response
        finally:
            read_database.reset(token)

    def process_exception(self, request, exception):
        replica = read_database.get()
        if replica is None or not isinstance(exception, DatabaseError) or request.resolver_match is None:
            return None
        reason = first_line(exception)
        logger.warning("reading from %s failed (%s); reading %s from the primary", replica, reason, request.path)
        if not _connection_usable(replica):
            database_states.mark_down(replica, reason)
        read_database.set(None)
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)


def _connection_usable(alias: str) -> bool:
    connection = connections[alias]
    usable = connection.connection is not None and connection.is_usable()
    if not usable:
        connection.close()  # the next request opens a new one once the replica is back
    return usable


def _in_context(context: contextvars.Context, chunks):
    """Streamed responses (exports) are produced after the middleware returned: produce each
    chunk inside the request's context so it reads from the same database as the view."""
    iterator = iter(chunks)
    while True:
        try:
            yield context.run(next, iterator)
        except StopIteration:
            return
