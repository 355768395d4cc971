"""Absolute session lifetime (12 h) on top of Django's idle timeout (SESSION_COOKIE_AGE)."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_KEY = "_session_started_at"


class SessionLifetimeMiddleware:
    """Logs a user out once their session is older than SESSION_ABSOLUTE_SECONDS, however active."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(_KEY)
            if started is not None and time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # The login request itself starts the clock (the session key was just rotated).
        if user is not None and user.is_authenticated and _KEY not in request.session:
            request.session[_KEY] = time.time()
        return response
