"""The client's address (客户端地址) as seen by the outermost trusted proxy.

Behind nginx every request comes from nginx's own address (REMOTE_ADDR). nginx appends the address
it saw to X-Forwarded-For, so with N trusted proxies in front of the app the client is the N-th entry
from the right; anything further left was written by the client and is ignored (spoofable).
With TRUSTED_PROXY_COUNT = 0 (runserver, tests) the header is ignored entirely.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote  # the request did not pass through every trusted proxy
    return _valid(chain[-proxies]) or remote
