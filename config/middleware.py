"""Broker outages: a job that was committed but could not be sent is "已受理，稍后开始" (202), and
any other broker error is a 503 instead of a 500."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs.enqueue import deferred


class BrokerUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = deferred.set(False)
        try:
            response = self.get_response(request)
            if deferred.get() and response.status_code < 400:
                self._accepted_for_later(request, response)
            return response
        finally:
            deferred.reset(token)

    @staticmethod
    def _accepted_for_later(request: HttpRequest, response: HttpResponse) -> None:
        """The job is committed and queued; the sweeper sends it once the broker is back (issue 11)."""
        response["X-Job-Status"] = "queued"
        if request.path.startswith("/api/") and response.status_code in (200, 201):
            response.status_code = 202
            response.reason_phrase = "Accepted"
        elif hasattr(request, "_messages"):
            messages.info(request, _("已受理，稍后开始（后台任务队列暂时不可用，恢复后自动执行）。"))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BrokerError | RedisConnectionError):
            response = HttpResponse(
                _("后台任务队列暂时不可用，请稍后重试。"), status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = "30"
            return response
        return None
