"""Hostile input is answered 400 with a message, never 500 (issue 11).

- `RejectNulMiddleware`: a NUL byte in any query or form value (PostgreSQL text cannot hold one)
  is refused before a view runs.
- `process_exception`: input the views did not anticipate — a number beyond what the database or
  `datetime` can hold (OverflowError, DataError), JSON nested beyond Python's recursion limit —
  becomes 400 instead of a server error. Views still validate; this is the net under them.
- `SafeJSONParser`: DRF's JSON parser, plus a refusal of over-deep documents and of NUL in strings.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

log = logging.getLogger(__name__)


def _refusal(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return _refusal(request, _("请求参数含有不允许的控制字符（NUL），请检查后重试。"))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError | DataError):
            log.warning("bad input on %s: %s", request.path, exception)
            return _refusal(request, _("请求参数超出允许范围，请检查后重试。"))
        if isinstance(exception, RecursionError):
            log.warning("over-deep input on %s", request.path)
            return _refusal(request, _("请求内容嵌套层次过深。"))
        return None


def _contains_nul(data: Any, depth: int = 0) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_contains_nul(k) or _contains_nul(v, depth + 1) for k, v in data.items())
    if isinstance(data, list):
        return any(_contains_nul(v, depth + 1) for v in data)
    return False


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("请求内容嵌套层次过深。")) from None
        try:
            nul = _contains_nul(data)
        except RecursionError:
            raise ParseError(_("请求内容嵌套层次过深。")) from None
        if nul:
            raise ParseError(_("请求参数含有不允许的控制字符（NUL），请检查后重试。"))
        return data
