"""/favicon.ico for clients that ask for it without reading the page's <link rel="icon"> (API, admin)."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=24 * 60 * 60, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # a temporary redirect: the target's hashed name changes with each release
    return HttpResponseRedirect(static("favicon.ico"))
