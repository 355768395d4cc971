"""Errors of the compliance app: a Chinese message a page or the command shows as it is."""


class ComplianceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ComplianceError):
    """The user's role may not do this."""
