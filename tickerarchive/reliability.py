"""The web process and its database: a time limit per request, and a friendly 503 when it is away."""
import logging

import psycopg.errors
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
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


class DatabaseGuardMiddleware:
    """Sets the statement timeout for each request and answers database trouble with a 503.

    The timeout is a session setting of the request's connection, reset after the response, so
    commands (ingest, migrate) that use other connections, or the same one later, are never cut.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.WEB_STATEMENT_TIMEOUT_MS
        if timeout:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{timeout}ms"])
            except DatabaseError as error:
                logger.warning("database unavailable: %s", error)
                connection.close_if_unusable_or_obsolete()
                return unavailable_response(request, "unavailable")
        try:
            return self.get_response(request)
        finally:
            if timeout and connection.connection is not None:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("RESET statement_timeout")
                except DatabaseError:  # the database went away meanwhile: nothing left to reset
                    pass

    def process_exception(self, request, exception):
        kind = database_trouble(exception)
        if kind is None:
            return None
        logger.warning("database %s on %s: %s", kind, request.path, exception)
        return unavailable_response(request, kind)
