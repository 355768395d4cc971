"""Display text of numbers for the review pages, formatted once in Python instead of by template
filters (the flag list and the flag detail's comparison group print many of them per page).

Each function returns exactly the text of the template filter it replaces, for the active
language (`tests/review/test_list_rows.py` compares them with Django's filters value for value).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

from django.utils.formats import get_format
from django.utils.translation import gettext as _

_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(1, 11)}


def decimal_separator() -> str:
    """The active language's decimal separator (read once per page, passed to `fixed`)."""
    return get_format("DECIMAL_SEPARATOR")


def fixed(value: Decimal, places: int, decimal_sep: str = ".") -> str:
    """`value|floatformat:places` for a Decimal and 1 ≤ places ≤ 10: rounded half-up to `places`
    decimals, no thousands grouping, the language's decimal separator; a value that rounds to zero
    has no minus sign."""
    sign, digits, exponent = value.as_tuple()
    precision = max(28, len(digits) + abs(exponent) + places + 1)  # never rounds beyond `places`
    rounded = value.quantize(_EXPONENTS[places], ROUND_HALF_UP, Context(prec=precision))
    if not rounded:
        rounded = abs(rounded)
    text = format(rounded, "f")
    return text if decimal_sep == "." else text.replace(".", decimal_sep)


def grouped(text: str) -> str:
    """`|intcomma` applied to floatformat's text: a comma between each three digits of the leading
    integer part (as humanize does for a string that is not an integer)."""
    sign = "-" if text.startswith("-") else ""
    body = text[len(sign) :]
    end = 0
    while end < len(body) and body[end].isdigit():
        end += 1
    whole = body[:end]
    if len(whole) > 3:
        head = len(whole) % 3 or 3
        whole = whole[:head] + "".join("," + whole[i : i + 3] for i in range(head, len(whole), 3))
    return sign + whole + body[end:]


def yes_no() -> tuple[str, str]:
    """The texts of `|yesno:_("是,否")` for a true and a false (or empty) value."""
    yes, no = _("是,否").split(",")[:2]
    return yes, no
