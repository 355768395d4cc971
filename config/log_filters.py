"""Logging filters used by settings.LOGGING."""

import logging


class ClientErrorTracebackFilter(logging.Filter):
    """Drop the traceback from Django's 4xx warnings (403 Forbidden, 400 Bad request).

    Django logs a refused request with the PermissionDenied/BadRequest exception attached, so every
    403 printed a traceback although nothing went wrong on the server. Errors (5xx) keep theirs.
    """

    LOGGERS = ("django.request", "django.security")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR and record.exc_info and record.name.startswith(self.LOGGERS):
            record.exc_info = None
            record.exc_text = None
        return True
