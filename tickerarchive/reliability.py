"""The web process and its database: a time limit per request, and a friendly 503 when it is away."""
import logging
from contextlib import ExitStack

import psycopg.errors
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

MESSAGES = {
    "timeout": "Die Anfrage hat zu lange gedauert und wurde abgebrochen. Bitte die Suche eingrenzen.",
    "unavailable": "Das Archiv ist gerade nicht erreichbar. Bitte in einigen Sekunden erneut versuchen.",
}


def database_trouble(error: BaseException) -> str | None:
    """'timeout' for a query cut off by statement_timeout, 'unavailable' for a lost database."""
    if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
        return "timeout"
    if isinstance(error, (OperationalError, InterfaceError)):
        return "unavailable"
    return None


def unavailable_response(request, kind: str):
    """503 without touching the database: a static German page, or JSON under /api/."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"errors": {"__all__": [MESSAGES[kind]]}}, status=503,
                                json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGES[kind]}), status=503)
    response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
    return response


class StatementTimeout:
    """An execute wrapper that sets statement_timeout on a connection before its first query
    of the request, so only the databases a request really uses (the primary, a replica) are
    touched, and a primary that is down does not stop readers a replica can serve."""

    def __init__(self, milliseconds: int):
        self.setting = f"{milliseconds}ms"
        self.connections = []  # those set during this request, to be reset after it

    def __call__(self, execute, sql, params, many, context):
        connection = context["connection"]
        if connection not in self.connections:
            # On the driver's connection: Django's cursor would run this wrapper again, and the
            # request's cursor may be a server-side one (exports) that takes one statement only.
            connection.connection.execute("SELECT set_config('statement_timeout', %s, false)", [self.setting])
            self.connections.append(connection)
        return execute(sql, params, many, context)

    def reset(self) -> None:
        for connection in self.connections:
            if connection.connection is None:
                continue
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
            except DatabaseError:  # the database went away meanwhile: nothing left to reset
                pass


class DatabaseGuardMiddleware:
    """Sets the statement timeout for each request and answers database trouble with a 503.

    The timeout is a session setting of each connection the request uses, reset after the
    response, so commands (ingest, migrate) that use other connections, or the same one later,
    are never cut. Streamed exports run on after the reset: each of their fetches is short, and
    the whole export may take minutes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.WEB_STATEMENT_TIMEOUT_MS
        if not timeout:
            return self.get_response(request)
        limit = StatementTimeout(timeout)
        with ExitStack() as wrappers:
            for alias in connections:
                wrappers.enter_context(connections[alias].execute_wrapper(limit))
            try:
                return self.get_response(request)
            finally:
                limit.reset()

    def process_exception(self, request, exception):
        kind = database_trouble(exception)
        if kind is None:
            return None
        logger.warning("database %s on %s: %s", kind, request.path, exception)
        return unavailable_response(request, kind)
