"""Liveness/readiness probe for the container health check.

The probe answers before any other middleware: a health check from inside the container (or from
the orchestrator) reaches gunicorn as http://127.0.0.1:8000/healthz, with neither the public host
name nor nginx's X-Forwarded-Proto, so host validation and the HTTPS redirect must not apply to it.
It reveals nothing but whether the database answers.
"""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTH_PATH = "/healthz"


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    """Answer GET/HEAD /healthz directly, exempt from ALLOWED_HOSTS and SECURE_SSL_REDIRECT."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            response = healthz(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
