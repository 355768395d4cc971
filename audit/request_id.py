"""The request id (请求编号) every audit row carries.

Web requests take nginx's X-Request-ID (or get a fresh one) and echo it in the response; Celery
tasks use their task id; anything else (a management command) one id per process.
"""

import os
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_current: ContextVar[str] = ContextVar("audit_request_id", default="")
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PROCESS = f"proc-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def current_request_id() -> str:
    return _current.get() or _PROCESS


def use_request_id(value: str) -> None:
    _current.set(value[:64])


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _VALID.fullmatch(given) else uuid.uuid4().hex
        token = _current.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _on_task_prerun(task_id: str | None = None, **_kwargs) -> None:
    if task_id:
        _current.set(f"task-{task_id}"[:64])


def connect_celery() -> None:
    from celery.signals import task_prerun

    task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="audit-request-id")
