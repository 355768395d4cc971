"""Turn a broker outage into 503 Service Unavailable instead of a 500."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError


class BrokerUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BrokerError | RedisConnectionError):
            response = HttpResponse(
                _("后台任务队列暂时不可用，请稍后重试。"), status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = "30"
            return response
        return None
