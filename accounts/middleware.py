"""Absolute session lifetime (12 h) on top of Django's idle timeout (SESSION_COOKIE_AGE), and the
idle timeout's sliding refresh at most once per SESSION_REFRESH_SECONDS.

Django's SESSION_SAVE_EVERY_REQUEST wrote the session row (an UPDATE and a commit) on every page view
to push its expiry forward; refreshing it once a minute keeps the idle timeout (a user idle for
SESSION_COOKIE_AGE is logged out, at most a minute early) without a write per request."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_KEY = "_session_started_at"
_REFRESHED = "_session_refreshed_at"


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
        if user is not None and user.is_authenticated:
            now = time.time()
            if _KEY not in request.session:
                request.session[_KEY] = now
            # a changed session is saved by SessionMiddleware, with a fresh expiry and cookie
            if now - request.session.get(_REFRESHED, 0) >= settings.SESSION_REFRESH_SECONDS:
                request.session[_REFRESHED] = now
        return response
