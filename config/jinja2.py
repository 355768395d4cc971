"""The Jinja2 environment of the second template engine (templates/jinja2/), used only for the review
pages' long row loops (pricing.review.row_html). Auto-escaping on, as in Django's engine; a missing
variable is an error rather than an empty cell."""

from typing import Any

from jinja2 import Environment, StrictUndefined


def environment(**options: Any) -> Environment:
    options["undefined"] = StrictUndefined
    options.setdefault("autoescape", True)
    return Environment(**options)
