"""Errors raised by the appeal services. Each carries a Chinese message for the user and an HTTP
status the web pages and the API map it to."""

from typing import Any


class AppealError(Exception):
    """Base class: a refused appeal operation (申诉操作被拒绝)."""

    status_code = 400

    def __init__(self, message: str, *, current: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.current = current


class NotAllowed(AppealError):
    """The user may not do this (wrong role or company)."""

    status_code = 403


class NotFound(AppealError):
    """The object does not exist for this user (another company's object)."""

    status_code = 404


class InvalidTransition(AppealError):
    """The appeal's status does not allow this step."""

    status_code = 409


class DeadlinePassed(AppealError):
    """The appeal window (申诉期) of the round is over."""

    status_code = 400


class AppealConflict(AppealError):
    """Another active appeal already covers one of the flags."""

    status_code = 409


class VersionConflict(AppealError):
    """Optimistic locking: the appeal changed since the user loaded it; `current` holds it."""

    status_code = 409


class EvidenceRejected(AppealError):
    """An uploaded evidence file was refused (type, size or content)."""

    status_code = 400


class RoundStateError(AppealError):
    """The round is not in the state this step needs (e.g. publishing before closing)."""

    status_code = 409
